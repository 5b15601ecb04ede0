# ruff: noqa: S608 (table, column and field names come from the declarations and the models)
"""The SQL pieces of the centre's push function (:mod:`sync.push_function`), generated from the
event declarations of :mod:`kiosk.domain.events`, as :mod:`sync.apply` reads them in Python.

Every expression reads an event's payload as ``jsonb`` (``x.p``); the pushing kiosk's site,
kiosk id and time are the function's variables ``v_site``, ``v_kiosk`` and ``v_now``; every table
is written ``{S}.name`` (the schema, filled in at ``kiosk central init``). A reason is the same
sentence Python gives: the first field not in the shape of its form, then the first failing check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, literal
from sqlalchemy.dialects import postgresql

from kiosk.domain import event_parts as declared
from kiosk.domain.event_parts import (
    SITE,
    AtSite,
    Delete,
    Field,
    Insert,
    OfBooking,
    OwnKiosk,
    OwnSite,
    TicketExpiryFits,
    TicketNumberFree,
    Update,
)
from kiosk.domain.events import KINDS
from sync.apply import SUPPORTED_SCHEMA_VERSIONS
from sync.kinds import FORMS, IRREGULAR, ISO_INSTANT, FieldForm, arbiter, malformed
from sync.site_rows import site_of_row

SITE_VAR, KIOSK_VAR, NOW_VAR = "v_site", "v_kiosk", "v_now"
# SQL: the session's login role is itself a member of the kiosk group (pg_has_role counts a
# superuser as a member of every role, which would make the owner a kiosk without a site).
KIOSK_MEMBER = (
    "EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members a WHERE a.roleid = 'kiosk'::regrole "
    "AND a.member = session_user::text::regrole)"
)
_DIALECT: Any = postgresql.dialect()  # type: ignore[no-untyped-call]


def quoted(text: str) -> str:
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class SqlField:
    """A payload field read from the ``jsonb`` expression ``src`` as its form says."""

    form: FieldForm
    src: str = "x.p"

    @property
    def _json(self) -> str:
        return f"({self.src}->'{self.form.name}')"

    @property
    def _text(self) -> str:
        return f"({self.src}->>'{self.form.name}')"

    def _instant(self) -> str:
        # The regular expression lets 31 February through; the calendar check comes after it.
        day = f"substr({self._text}, 9, 2)"
        month_end = (
            f"extract(day from (substr({self._text}, 1, 8) || '01')::date "
            "+ interval '1 month' - interval '1 day')"
        )
        return (
            f"CASE WHEN jsonb_typeof({self._json}) = 'string' "
            f"AND {self._text} ~ {quoted(ISO_INSTANT)} "
            f"THEN ({day} <= '28' OR {day}::int <= {month_end}) ELSE false END"
        )

    def regular(self) -> str:
        """SQL, never NULL: the field is in the shape its form allows (else it is refused)."""
        typed = f"jsonb_typeof({self._json})"
        form, required = self.form.form, self.form.required
        if form in ("opt_text", "object"):
            return "true"
        if form == "text":
            return f"COALESCE({typed} = 'string', false)"
        if form == "text_or_empty":
            return f"COALESCE({typed}, 'string') = 'string'"
        if form == "instant":
            return self._instant()
        if form == "opt_instant":
            return f"(COALESCE({typed}, 'null') = 'null' OR {self._text} = '' OR {self._instant()})"
        if form == "flag":
            return f"COALESCE({typed}, 'boolean') = 'boolean'"
        number = f"COALESCE({typed} = 'number' AND {self._text} ~ '^-?[0-9]{{1,18}}$', false)"
        return number if required else f"({self._json} IS NULL OR {number})"

    def value(self) -> str:
        """SQL: the field's value for a regular payload, as :func:`sync.kinds.decode` makes it."""
        typed = f"jsonb_typeof({self._json})"
        form = self.form.form
        return {
            "text": self._text,
            "text_or_empty": f"COALESCE({self._text}, '')",
            "opt_text": f"CASE WHEN {typed} = 'string' THEN {self._text} END",
            "instant": f"({self._text})::timestamptz",
            "opt_instant": f"CASE WHEN {self._text} <> '' THEN ({self._text})::timestamptz END",
            "flag": f"COALESCE(({self._json})::boolean, false)",
            "integer": f"COALESCE(({self._text})::bigint, {self.form.default or 0})",
            "object": f"(CASE WHEN {typed} = 'object' THEN {self._json} ELSE '{{}}' END)::json",
        }[form]


def _reason(template: str) -> str:
    """A declared reason as SQL, the pushing kiosk's site in place of {site}."""
    pieces: list[str] = []
    for n, part in enumerate(template.split("{site}")):
        pieces += [SITE_VAR] if n else []
        pieces += [quoted(part)] if part else []
    return " || ".join(pieces)


# The rows the checks read, each looked up once per event (a LEFT JOIN LATERAL in the batch's
# judging) by the field its kind names: a separate lookup per check cost half of a push.
_LOOKUP_ALIAS = {"booking": "bk", "patient": "pt", "enrolment": "en"}
_OF_BOOKING = sorted({c.field for k in KINDS for c in k.checks if isinstance(c, OfBooking)})
_LOOKUP = {
    "booking": "SELECT s.site_id, s.ends_at"
    + "".join(f", b.{f}" for f in _OF_BOOKING)
    + " FROM {S}.bookings b LEFT JOIN {S}.sessions s ON s.id = b.session_id WHERE b.id = {0}",
    "patient": "SELECT r.site_id FROM {S}.patients r WHERE r.id = {0}",
    "enrolment": "SELECT r.site_id FROM {S}.enrolments r WHERE r.id = {0}",
}


def _looked_up(kind: declared.Kind) -> dict[str, str]:
    """The field each looked-up row of ``kind``'s checks is found by (what -> field)."""
    keys: dict[str, str] = {}
    for check in kind.checks:
        if isinstance(check, AtSite):
            what, field = check.what, check.field
        elif isinstance(check, OfBooking | TicketExpiryFits):
            what, field = "booking", "booking_id"
        else:
            continue
        assert keys.setdefault(what, field) == field, f"{kind.name}: two {what}s"
    return keys


def _value(kind: declared.Kind, field: str, src: str) -> str:
    return SqlField(next(f for f in FORMS[kind.name] if f.name == field), src).value()


def batch_lookups(kind: str = "x.kind", src: str = "x.p") -> str:
    """SQL: the joins after the batch ``x`` that :func:`batch_reason` reads its rows from."""
    joins = []
    for what, alias in _LOOKUP_ALIAS.items():
        whens = [
            f"WHEN {quoted(k.name)} THEN {_value(k, field, src)}"
            for k in KINDS
            for w, field in _looked_up(k).items()
            if w == what
        ]
        key = f"CASE {kind} {' '.join(whens)} END"
        joins.append(f"LEFT JOIN LATERAL ({_LOOKUP[what].replace('{0}', key)}) {alias} ON true")
    return "\n".join(joins)


def _fails(check: declared.Check, values: dict[str, str], required: set[str]) -> str:
    """SQL: the event fails ``check``, as :func:`sync.apply.fails` decides."""
    if isinstance(check, AtSite):
        value = values[check.field]
        when = f"NOT COALESCE({_LOOKUP_ALIAS[check.what]}.site_id = {SITE_VAR}, false)"
        return when if check.field in required else f"COALESCE({value}, '') <> '' AND {when}"
    if isinstance(check, OfBooking):
        return f"NOT COALESCE(bk.{check.field} = {values[check.field]}, false)"
    if isinstance(check, OwnSite):
        return f"{values[check.field]} <> {SITE_VAR}"
    if isinstance(check, OwnKiosk):
        return f"{values[check.field]} <> {KIOSK_VAR}"
    if isinstance(check, TicketNumberFree):
        return (
            f"EXISTS (SELECT 1 FROM {{S}}.parking_tickets t WHERE t.site_id = {SITE_VAR} "
            f"AND t.ticket_number = {values['ticket_number']} AND t.id <> {values['id']})"
        )
    if isinstance(check, TicketExpiryFits):
        return (
            f"NOT COALESCE({values['expires_at']} <= bk.ends_at + "
            f"interval '{check.grace_minutes:d} minutes', false)"
        )
    # As sync.apply.ticket_code_prefix and TAG.
    number = f"({values['ticket_number']})::text"
    prefix = (
        f"('RK1:' || {values['key_id']} || ':' || {values['site_id']} || ':' || "
        f"repeat('0', greatest(0, 10 - length({number}))) || {number} || ':' || "
        f"to_char({values['expires_at']} AT TIME ZONE 'UTC', 'YYYYMMDDHH24MI') || ':')"
    )
    code = values["payload"]
    # The prefix then the tag: the prefix is built once (building it was a third of the check).
    return f"NOT (left({code}, -16) = {prefix} AND right({code}, 16) ~ '^[A-Z2-7]{{16}}$')"


def kind_reason(kind: declared.Kind, src: str = "x.p") -> str:
    """SQL: why an event of ``kind`` with payload ``src`` is refused, NULL when it is taken."""
    fields = [SqlField(f, src) for f in FORMS[kind.name]]
    values = {f.form.name: f.value() for f in fields}
    required = {f.form.name for f in fields if f.form.required}
    not_object = f"jsonb_typeof({src}) IS DISTINCT FROM 'object'"
    whens = [f"WHEN {not_object} THEN {quoted(malformed(kind.name))}"]
    whens += [
        f"WHEN NOT ({f.regular()}) THEN " + quoted(IRREGULAR[f.form.form].format(name=f.form.name))
        for f in fields
        if f.regular() != "true"
    ]
    whens += [f"WHEN {_fails(c, values, required)} THEN {_reason(c.reason)}" for c in kind.checks]
    return "CASE " + " ".join(whens) + " END"


def batch_reason(kind: str = "x.kind", version: str = "x.schema_version", src: str = "x.p") -> str:
    """SQL: why any event of a batch is refused (as :func:`sync.apply.check`), NULL if taken."""
    versions = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
    by_kind = " ".join(f"WHEN {quoted(k.name)} THEN {kind_reason(k, src)}" for k in KINDS)
    return (
        f"CASE WHEN {version} NOT IN ({versions}) THEN 'schema version ' || {version} || "
        "' is not supported by this centre' "
        f"ELSE CASE {kind} {by_kind} ELSE 'unknown event kind ''' || {kind} || '''' END END"
    )


def _constant(table: Table, column: str, value: object) -> str:
    if value is None:
        return "NULL"
    compiled = literal(value, table.c[column].type).compile(
        dialect=_DIALECT, compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def _resolved(table: Table, column: str, value: object, fields: dict[str, str]) -> str:
    """SQL: a declared value (a payload field's, the site, or a constant)."""
    if isinstance(value, Field):
        return fields[value.name]
    return SITE_VAR if value == SITE else _constant(table, column, value)


def effect_sql(kind: declared.Kind, effect: declared.Effect, rows: str) -> str:
    """One statement: ``effect`` for the events of ``kind`` that ``rows`` selects from the batch
    table ``x`` (a condition). A plain insert skips a row that clashes on any unique key, a
    refreshing one updates the row of the same arbiter (:func:`sync.kinds.arbiter`), as
    :func:`sync.apply` does."""
    table = effect.table
    fields = {f.name: SqlField(f).value() for f in FORMS[kind.name]}
    where = f"x.kind = {quoted(kind.name)} AND {rows}"
    if isinstance(effect, Insert):
        columns = [name for name in fields if name in table.c]
        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join(fields[c] for c in columns)
        if "change_seq" in table.c:
            # The transaction's number from one call per statement (migration 0004).
            names, values = names + ", change_seq", values + ", (SELECT {S}.sync_change_seq())"
        clash = "DO NOTHING"
        if effect.refresh:
            clash = f"({arbiter(table)}) DO UPDATE SET " + ", ".join(
                f'"{c}" = EXCLUDED."{c}"' for c in effect.refresh
            )
        return (
            f"INSERT INTO {{S}}.{table.name} ({names}) SELECT {values} "
            f"FROM pg_temp.sync_push_judged x WHERE {where} ORDER BY x.seq ON CONFLICT {clash}"
        )
    conditions = [
        f't."{c}" IS NULL' if v is None else f't."{c}" = {_resolved(table, c, v, fields)}'
        for c, v in effect.where.items()
    ]
    conditions.append(site_of_row(table.name, site=SITE_VAR, schema="{S}", alias="t"))
    matched = " AND ".join([where, *conditions])
    if isinstance(effect, Update):
        values = ", ".join(
            f'"{c}" = {_resolved(table, c, v, fields)}' for c, v in effect.values.items()
        )
        return (
            f"UPDATE {{S}}.{table.name} t SET {values} FROM pg_temp.sync_push_judged x "
            f"WHERE {matched}"
        )
    assert isinstance(effect, Delete)
    return f"DELETE FROM {{S}}.{table.name} t USING pg_temp.sync_push_judged x WHERE {matched}"
