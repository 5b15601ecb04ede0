# ruff: noqa: S608 (table, column and field names come from this module's constants and the models)
"""The centre's side of a push on PostgreSQL, set-based: the batch goes up as stored, the centre
decodes, checks and applies it in SQL.

The kiosk sends its outbox rows as they are (the payload as the JSON text it stored) with one
``COPY`` into a temporary stage. The centre decodes the payloads of the kinds that are plain
inserts (:data:`sync.kinds.COMMUTING`: check-in, parking ticket, audit entry, alert) with
``jsonb`` operators and computes each event's refusal from the checks its kind declares
(:mod:`kiosk.domain.events`), generated as SQL from the same declarations and reason templates
as the Python checks of :func:`sync.apply.fails`: the site or kiosk it names, the booking,
patient or enrolment it refers to at that site (a join, under the kiosk role's row-level
security), the booking's own patient, a free ticket number, the ticket's own code.

- A batch of those kinds only, the common case, takes one statement (:data:`APPLY_ALL`): decode,
  judge, store the accepted events (``ON CONFLICT (id) DO NOTHING RETURNING id``: the new ones)
  and write the effects of the new ones: a few round trips a batch, whatever its size.
- Any other batch, or one with a payload not in the shape the kiosk writes (whose exact refusal
  reason Python gives), takes the general path: the decoded rows go into one temporary table per
  effect table; the rare kinds and irregular payloads go to the per-event checks of
  :mod:`sync.apply`; the events not refused are stored; then the effects are written run by run
  in kiosk order (a run ends at an event of a non-commuting kind, applied in Python in its
  place).

Effect rows carry the transaction's change number from one call per statement (migration
0004): no trigger fires row by row, and no push waits for another's commit.

A database error from an event's content (a date the regular expression lets through but the
calendar does not, a value too long for its column) sends the batch to
:func:`sync.apply.apply_each`, which refuses the culprit alone. Every temporary table lives as
long as the connection and is emptied at every commit; a rolled-back transaction's rows go with
it. A kiosk role may create temporary tables (PostgreSQL grants ``TEMPORARY`` to everyone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql

from kiosk.domain import event_parts as declared
from kiosk.domain.event_parts import AtSite, OfBooking, OwnKiosk, OwnSite, TicketNumberFree
from kiosk.domain.events import KINDS as DECLARED
from sync.apply import (
    DATABASE_ERRORS,
    SUPPORTED_SCHEMA_VERSIONS,
    Applied,
    OutgoingEvent,
    Prepared,
    apply_each,
    apply_effects,
    check,
    is_content_error,
)
from sync.kinds import COMMUTING, FLUSH_ORDER, FORMS, arbiter, inserted

STAGE = "sync_push_stage"
# An instant as ``datetime.isoformat`` writes it, with an offset. Narrower than what either side
# parses, and only values both read alike: PostgreSQL takes 24:00 and a 60th second, Python
# neither; Python takes any number of fraction digits and rounds differently. Anything else goes
# to Python, which decides.
ISO_INSTANT = (
    r"^[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d{3}|\.\d{6})?[+-](0\d|1[0-5]):[0-5]\d$"
)


@dataclass(frozen=True)
class _Field:
    """A payload field as :func:`sync.apply.prepare` reads it.

    ``form`` is one of: ``text`` (required text), ``text_or_empty`` (text, '' when absent),
    ``opt_text`` (text or NULL), ``instant`` (required instant with an offset), ``opt_instant``
    (an instant or NULL when empty), ``flag`` (a boolean, false when absent), ``integer`` (64-bit),
    ``object`` (a JSON object, {} otherwise).
    """

    name: str
    form: str

    @property
    def _json(self) -> str:
        return f"p->'{self.name}'"

    @property
    def _text(self) -> str:
        return f"p->>'{self.name}'"

    def regular(self) -> str:
        """SQL: true when the field is in the shape the kiosk writes (else Python decides)."""
        typed = f"jsonb_typeof({self._json})"
        instant = f"({typed} = 'string' AND {self._text} ~ '{ISO_INSTANT}')"
        return {
            "text": f"{typed} = 'string'",
            "text_or_empty": f"COALESCE({typed}, 'string') = 'string'",
            "opt_text": "true",
            "instant": instant,
            "opt_instant": (
                f"(COALESCE({typed}, 'null') = 'null' OR {self._text} = '' OR {instant})"
            ),
            "flag": f"COALESCE({typed}, 'boolean') = 'boolean'",
            "integer": f"({typed} = 'number' AND {self._text} ~ '^-?\\d{{1,18}}$')",
            "object": "true",
        }[self.form]

    def value(self) -> str:
        """SQL: the field's value for a regular payload, as :func:`sync.apply.prepare` makes it."""
        typed = f"jsonb_typeof({self._json})"
        return {
            "text": self._text,
            "text_or_empty": f"COALESCE({self._text}, '')",
            "opt_text": f"CASE WHEN {typed} = 'string' THEN {self._text} END",
            "instant": f"({self._text})::timestamptz",
            "opt_instant": f"CASE WHEN {self._text} <> '' THEN ({self._text})::timestamptz END",
            "flag": f"COALESCE(({self._json})::boolean, false)",
            "integer": f"({self._text})::bigint",
            "object": f"(CASE WHEN {typed} = 'object' THEN {self._json} ELSE '{{}}' END)::json",
        }[self.form]


_AT_SITE = {
    "booking": "EXISTS (SELECT 1 FROM bookings b JOIN sessions s ON s.id = b.session_id "
    "WHERE b.id = {0} AND s.site_id = %(site)s)",
    "patient": "EXISTS (SELECT 1 FROM patients x WHERE x.id = {0} AND x.site_id = %(site)s)",
    "enrolment": "EXISTS (SELECT 1 FROM enrolments x WHERE x.id = {0} AND x.site_id = %(site)s)",
}


def _reason(template: str) -> str:
    """A declared reason as an SQL string, the pushing kiosk's site in place of {site}."""
    assert "%" not in template  # the statement has psycopg parameters
    pieces: list[str] = []
    for n, part in enumerate(template.split("{site}")):
        pieces += ["%(site)s"] if n else []
        pieces += ["'" + part.replace("'", "''") + "'"] if part else []
    return " || ".join(pieces)


def _refusal(check: declared.Check, values: dict[str, str], required: set[str]) -> str:
    """SQL: WHEN (the event fails the declared check) THEN (its reason), as in
    :func:`sync.apply.fails`."""
    if isinstance(check, AtSite):
        value = values[check.field]
        when = f"NOT {_AT_SITE[check.what].format(value)}"
        if check.field not in required:
            when = f"COALESCE({value}, '') <> '' AND {when}"
    elif isinstance(check, OfBooking):
        when = (
            f"NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = {values['booking_id']} "
            f"AND b.{check.field} = {values[check.field]})"
        )
    elif isinstance(check, OwnSite):
        when = f"{values[check.field]} <> %(site)s"
    elif isinstance(check, OwnKiosk):
        when = f"{values[check.field]} <> %(kiosk)s"
    elif isinstance(check, TicketNumberFree):
        when = (
            "EXISTS (SELECT 1 FROM parking_tickets t WHERE t.site_id = %(site)s "
            f"AND t.ticket_number = {values['ticket_number']} AND t.id <> {values['id']})"
        )
    else:
        # As sync.apply.ticket_code_prefix and TAG.
        number = f"({values['ticket_number']})::text"
        prefix = (
            f"('RK1:' || {values['key_id']} || ':' || {values['site_id']} || ':' || "
            f"repeat('0', greatest(0, 10 - length({number}))) || {number} || ':' || "
            f"to_char({values['expires_at']} AT TIME ZONE 'UTC', 'YYYYMMDDHH24MI') || ':')"
        )
        code = values["payload"]
        when = (
            f"NOT (left({code}, length({prefix})) = {prefix} "
            f"AND substr({code}, length({prefix}) + 1) ~ '^[A-Z2-7]{{16}}$')"
        )
    return f"WHEN {when} THEN {_reason(check.reason)}"


@dataclass(frozen=True)
class _Kind:
    """A commuting event kind applied in SQL, from its declaration: its effect table, payload
    fields and refusal checks."""

    decl: declared.Kind

    @property
    def kind(self) -> str:
        """The kind's name on the wire."""
        return self.decl.name

    @property
    def table(self) -> Table:
        """The table the kind inserts into."""
        return inserted(self.decl)

    @property
    def payload_fields(self) -> tuple[_Field, ...]:
        """Every payload field (the checks may read one that is not a column)."""
        return tuple(_Field(f.name, f.form) for f in FORMS[self.kind])

    @property
    def fields(self) -> tuple[_Field, ...]:
        """The payload fields that are columns of the effect table."""
        return tuple(f for f in self.payload_fields if f.name in self.table.c)

    @property
    def arbiter(self) -> str:
        """The clash that means "already there" (:func:`sync.kinds.arbiter`). Checking only
        that one before each insert (not every unique key) spares index searches; a clash on
        another key raises, and the batch then goes event by event
        (:func:`sync.apply.apply_each`), where any clash is skipped as before."""
        return arbiter(self.table)

    @property
    def push_table(self) -> str:
        """The temporary table holding this kind's decoded rows."""
        return f"sync_push_{self.table.name}"

    def columns(self) -> str:
        """The effect table's columns this kind writes, quoted."""
        return ", ".join(f'"{f.name}"' for f in self.fields)

    def create(self) -> str:
        """DDL of the temporary table (described from the model: a kiosk role may not be
        allowed to read the effect table, so ``LIKE`` is out)."""
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
        typed = ", ".join(
            f'"{f.name}" {self.table.c[f.name].type.compile(dialect)}' for f in self.fields
        )
        return (
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.push_table} "
            f"(event_id text, seq integer, reason text, {typed}) ON COMMIT DELETE ROWS"
        )

    def judged(self) -> str:
        """SELECT: the regular events of this kind in ``decoded``, decoded and judged (the
        reason is NULL for an accepted one)."""
        values = {f.name: f.value() for f in self.payload_fields}
        required = {f.name for f in FORMS[self.kind] if f.required}
        checks = " ".join(_refusal(c, values, required) for c in self.decl.checks)
        reason = f"CASE {checks} END" if checks else "NULL::text"
        regular = " AND ".join(f.regular() for f in self.payload_fields if f.regular() != "true")
        decoded = ", ".join(f'{values[f.name]} AS "{f.name}"' for f in self.fields)
        return (
            f"SELECT d.id AS event_id, d.seq, {reason} AS reason, {decoded} "
            f"FROM decoded d WHERE d.kind = '{self.kind}' AND {regular}"
        )

    def decode(self) -> str:
        """A data-modifying CTE body: this kind's judged events into its push table."""
        return (
            f"INSERT INTO {self.push_table} (event_id, seq, reason, {self.columns()}) "
            f"{self.judged()} RETURNING event_id, reason"
        )

    def _insert(self, source: str, condition: str) -> str:
        # A table with a change number gets the transaction's number from one call per
        # statement (migration 0004), so its stamping trigger does not fire row by row.
        columns, values = self.columns(), self.columns()
        if "change_seq" in self.table.c:
            columns += ", change_seq"
            values += ", (SELECT sync_change_seq())"
        return (
            f"INSERT INTO {self.table.name} ({columns}) SELECT {values} FROM {source} "
            f"WHERE x.reason IS NULL AND {condition} ORDER BY x.seq "
            f"ON CONFLICT ({self.arbiter}) DO NOTHING"
        )

    def apply(self, condition: str) -> str:
        """The insert of this kind's accepted rows that meet ``condition`` into the effect table."""
        return self._insert(f"{self.push_table} x", condition)

    def apply_stored(self) -> str:
        """A data-modifying CTE body: the effects of this kind's accepted events that the CTE
        ``stored`` has just stored (the new ones)."""
        return self._insert(f"judged_{self.table.name} x JOIN stored USING (event_id)", "true")


KINDS = tuple(_Kind(k) for k in DECLARED if k.commutes)
BY_KIND = {k.kind: k for k in KINDS}
# In the general path, audit entries and alerts (nothing in a batch depends on them) are written
# once for the batch; check-ins and tickets run by run, in kiosk order.
UNSTAMPED = tuple(k for k in KINDS if "change_seq" not in k.table.c)
STAMPED = tuple(BY_KIND[kind] for kind in FLUSH_ORDER if "change_seq" in BY_KIND[kind].table.c)
assert len(UNSTAMPED) + len(STAMPED) == len(KINDS)

STAGE_CREATE = "; ".join(
    [
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (id text, seq integer, kind text, "
        "schema_version integer, created_at timestamptz, payload text) ON COMMIT DELETE ROWS",
        # A batch's statements touch a few thousand rows: when the planner's estimate crossed
        # jit_above_cost, compiling them took longer than running them (a pull's large reads
        # keep JIT).
        "SET LOCAL jit = off",
    ]
)
# Only the general path needs the push tables; every temporary table that exists is emptied at
# every commit, so a connection that never took that path does not carry them.
PUSH_TABLES_CREATE = "; ".join(k.create() for k in KINDS)

_versions = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
_kinds = ", ".join(f"'{k.kind}'" for k in KINDS)
# The payload is parsed once into jsonb, and only for the kinds decoded in SQL. Events the centre
# already has are decoded too (a batch is sent again only when an acknowledgement was lost): the
# store's ON CONFLICT finds them through the primary key, where a NOT EXISTS here was planned as a
# scan of ``sync_events`` whenever the table looked empty to the planner, and took seconds per
# batch once the other kiosks' pushes had filled it.
_DECODED = (
    "decoded AS MATERIALIZED (SELECT s.id, s.seq, s.kind, s.payload::jsonb AS p "
    f"FROM sync_push_stage s WHERE s.kind IN ({_kinds}) AND s.schema_version IN ({_versions}))"
)
_JUDGED = (
    "judged AS ("
    + " UNION ALL ".join(f"SELECT event_id, reason FROM judged_{k.table.name}" for k in KINDS)
    + ")"
)
_FOR_PYTHON = (
    "SELECT s.id, 'judge', NULL FROM sync_push_stage s "
    "WHERE NOT EXISTS (SELECT 1 FROM judged j WHERE j.event_id = s.id)"
)
_REFUSED = "SELECT event_id, 'refused', reason FROM judged WHERE reason IS NOT NULL"

# Returns (id, 'judge' or 'refused', reason): the events Python must judge and those refused here.
DECODE = (
    f"WITH {_DECODED}, "
    + ", ".join(f"judged_{k.table.name} AS ({k.decode()})" for k in KINDS)
    + f", {_JUDGED} {_FOR_PYTHON} UNION ALL {_REFUSED}"
)

# A batch of kinds that commute, in one statement: decode, judge, store the accepted events and
# write the effects of the new ones. Returns (id, outcome, reason) for every event that is not
# simply new: 'judge' (Python must decide: the batch then takes the general path), 'refused',
# 'duplicate'.
APPLY_ALL = (
    f"WITH {_DECODED}, "
    + ", ".join(f"judged_{k.table.name} AS MATERIALIZED ({k.judged()})" for k in KINDS)
    + f", {_JUDGED}, "
    "stored AS (INSERT INTO sync_events (id, site_id, kiosk_id, seq, kind, schema_version, "
    "created_at, received_at, payload) SELECT s.id, %(site)s, %(kiosk)s, s.seq, s.kind, "
    "s.schema_version, s.created_at, %(now)s, s.payload::json FROM sync_push_stage s "
    "JOIN judged j ON j.event_id = s.id WHERE j.reason IS NULL ORDER BY s.seq "
    "ON CONFLICT (id) DO NOTHING RETURNING id AS event_id), "
    + ", ".join(f"applied_{k.table.name} AS ({k.apply_stored()})" for k in KINDS)
    + f" {_FOR_PYTHON} UNION ALL {_REFUSED} UNION ALL "
    # EXCEPT, not NOT EXISTS: the planner cannot see how many rows ``stored`` returns.
    "(SELECT event_id, 'duplicate', NULL FROM judged WHERE reason IS NULL "
    "EXCEPT SELECT event_id, 'duplicate', NULL FROM stored)"
)

# Of the refused events, those the centre stored before: duplicates, not refusals.
STORED_BEFORE = "SELECT id FROM sync_events WHERE id = ANY(%s::text[])"

# Stores the events not refused and returns the new ones.
STORE = (
    "INSERT INTO sync_events (id, site_id, kiosk_id, seq, kind, schema_version, created_at, "
    "received_at, payload) SELECT s.id, %(site)s, %(kiosk)s, s.seq, s.kind, s.schema_version, "
    "s.created_at, %(now)s, s.payload::json FROM sync_push_stage s "
    "WHERE s.id <> ALL(%(refused)s::text[]) ORDER BY s.seq "
    "ON CONFLICT (id) DO NOTHING RETURNING id"
)


def _effects(kinds: Sequence[_Kind], condition: str, late: Sequence[str]) -> sql.Composed:
    """The inserts of ``kinds``' accepted rows (one round trip, no parameters).

    ``late`` are the events a concurrent push stored between the decoding and the store: they
    have rows in the push tables but are duplicates, so their effects must not be applied.
    """
    if late:
        condition += " AND x.event_id <> ALL({late}::text[])"
    statements = "; ".join(k.apply(condition) for k in kinds)
    return sql.SQL(statements).format(late=sql.Literal(list(late)))


@dataclass(frozen=True)
class _Run:
    """Consecutive events of commuting kinds (``lo``..``hi`` by seq), then maybe one that is not."""

    lo: int
    hi: int
    then: Prepared | None


def _runs(events: Sequence[OutgoingEvent], by_python: dict[str, Prepared]) -> list[_Run]:
    runs: list[_Run] = []
    lo: int | None = None
    for event in events:
        if event.kind in COMMUTING:
            lo = event.seq if lo is None else lo
            continue
        if event.id in by_python:
            runs.append(
                _Run(lo if lo is not None else event.seq, event.seq - 1, by_python[event.id])
            )
            lo = None
    if lo is not None:
        runs.append(_Run(lo, events[-1].seq, None))
    return runs


@contextmanager
def _staged(
    engine: Engine, events: Sequence[OutgoingEvent], *, push_tables: bool
) -> Iterator[tuple[Connection, Any]]:
    """A central transaction and its driver cursor, with the batch, as the kiosk stored it, in
    the (emptied) stage: one COPY. ``push_tables``: the general path's decoding tables too."""
    with engine.begin() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            if push_tables:
                cursor.execute(PUSH_TABLES_CREATE)
            cursor.execute(STAGE_CREATE)
            with cursor.copy(
                f"COPY {STAGE} (id, seq, kind, schema_version, created_at, payload) FROM STDIN"
            ) as copy:
                for e in events:
                    copy.write_row(
                        (e.id, e.seq, e.kind, e.schema_version, e.created_at, e.payload_json)
                    )
            yield conn, cursor


def _not_refused_after_all(cursor: Any, refused: dict[str, str]) -> set[str]:
    """Take out of ``refused`` the events the centre stored before: they are duplicates."""
    if not refused:
        return set()
    cursor.execute(STORED_BEFORE, [list(refused)])
    stored = {event_id for (event_id,) in cursor.fetchall()}
    for event_id in stored:
        del refused[event_id]
    return stored


class _NeedsPython(Exception):
    """An event of the batch needs Python's judgement: the batch takes the general path."""


def _apply_in_one_statement(
    engine: Engine,
    events: Sequence[OutgoingEvent],
    *,
    site_id: str,
    kiosk_id: str,
    now: dt.datetime,
) -> Applied:
    """A batch of commuting kinds in one statement (:data:`APPLY_ALL`), the common case."""
    with _staged(engine, events, push_tables=False) as (_conn, cursor):
        cursor.execute(APPLY_ALL, {"site": site_id, "kiosk": kiosk_id, "now": now})
        refused: dict[str, str] = {}
        duplicates: set[str] = set()
        for event_id, outcome, reason in cursor.fetchall():
            if outcome == "judge":
                raise _NeedsPython  # rolls the transaction back
            if outcome == "refused":
                refused[event_id] = reason
            else:
                duplicates.add(event_id)
        duplicates |= _not_refused_after_all(cursor, refused)
    return Applied(
        new=[e.id for e in events if e.id not in duplicates and e.id not in refused],
        duplicates=[e.id for e in events if e.id in duplicates],
        refused=refused,
    )


def _apply_set_based(
    engine: Engine,
    events: Sequence[OutgoingEvent],
    *,
    site_id: str,
    kiosk_id: str,
    now: dt.datetime,
) -> Applied:
    """Any batch: SQL decodes and judges what it can, Python the rest, effects in kiosk order."""
    params = {"site": site_id, "kiosk": kiosk_id}
    with _staged(engine, events, push_tables=True) as (conn, cursor):
        cursor.execute(DECODE, params)
        refused: dict[str, str] = {}
        to_python: set[str] = set()
        for event_id, outcome, reason in cursor.fetchall():
            if outcome == "judge":
                to_python.add(event_id)
            else:
                refused[event_id] = reason
        fit, refused_in_python = check(
            conn, [e for e in events if e.id in to_python], site_id, kiosk_id
        )
        refused.update(refused_in_python)
        cursor.execute(STORE, {**params, "now": now, "refused": list(refused)})
        new = {row[0] for row in cursor.fetchall()}
        _not_refused_after_all(cursor, refused)
        late = [e.id for e in events if e.id not in new and e.id not in refused]
        by_python = {p.event.id: p for p in fit if p.event.id in new}
        # Python-judged events of commuting kinds go with their run, the others in place.
        commuting = [p for p in by_python.values() if p.event.kind in COMMUTING]
        # Tables without a change number first, in the same round trip as the first run.
        unstamped = _effects(UNSTAMPED, "true", late) if new else None
        for run in _runs(events, by_python):
            if run.lo <= run.hi and new:
                stamped = _effects(STAMPED, f"x.seq BETWEEN {run.lo:d} AND {run.hi:d}", late)
                cursor.execute(
                    stamped if unstamped is None else sql.SQL("; ").join([unstamped, stamped])
                )
                unstamped = None
                apply_effects(conn, [p for p in commuting if run.lo <= p.event.seq <= run.hi])
            if run.then is not None:
                apply_effects(conn, [run.then])
        if unstamped is not None:
            cursor.execute(unstamped)
    return Applied(
        new=[e.id for e in events if e.id in new],
        duplicates=[e.id for e in events if e.id not in new and e.id not in refused],
        refused=refused,
    )


def apply_events(
    engine: Engine,
    events: Sequence[OutgoingEvent],
    *,
    site_id: str,
    kiosk_id: str,
    now: dt.datetime,
    run: Callable[[Callable[[], Applied]], Applied] = lambda call: call(),
) -> Applied:
    """Store and apply one batch in one central transaction (set-based on PostgreSQL).

    ``run`` wraps each database round (the caller's deadline). A SQLite centre takes the
    per-event reference path, :func:`sync.apply.apply_each`.
    """
    if engine.dialect.name != "postgresql":
        return run(lambda: apply_each(engine, events, site_id=site_id, kiosk_id=kiosk_id, now=now))
    if not events:
        return Applied()
    events = sorted(events, key=lambda e: e.seq)
    try:
        commuting = all(
            e.kind in COMMUTING and e.schema_version in SUPPORTED_SCHEMA_VERSIONS for e in events
        )
        if commuting:
            try:
                return run(
                    lambda: _apply_in_one_statement(
                        engine, events, site_id=site_id, kiosk_id=kiosk_id, now=now
                    )
                )
            except _NeedsPython:
                pass
        return run(
            lambda: _apply_set_based(engine, events, site_id=site_id, kiosk_id=kiosk_id, now=now)
        )
    except DATABASE_ERRORS as exc:
        if not is_content_error(exc):
            raise
        return run(lambda: apply_each(engine, events, site_id=site_id, kiosk_id=kiosk_id, now=now))
