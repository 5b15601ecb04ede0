"""The centre's side of a push, per event: the reference path.

An event is new when its id is not yet in ``sync_events``; only new events change the domain
tables, so a batch sent twice (the acknowledgement was lost) changes nothing the second time.
Each kind's checks and effects are those :mod:`kiosk.domain.events` declares; the payload is
decoded by :mod:`sync.kinds`. Inserts are ``ON CONFLICT DO NOTHING``: the same booking checked in
at two kiosks keeps both events and one attendance. An event the centre cannot take (unknown
kind, newer schema, a booking it does not know or that belongs to another site) is refused with
a reason and never stored, so the kiosk can set it aside without blocking the queue.

There are two apply paths. :func:`apply_each` here, event by event under savepoints with every
payload decoded and checked in Python, is the reference: a SQLite centre uses it. The set-based
path is the PostgreSQL centre's ``sync_push`` function (:mod:`sync.push_function`), generated in
SQL from the same declarations and reasons; ``tests/sync/test_paths_agree.py`` proves the two
leave the same rows and refuse the same events for the same reasons. Updates and deletes are
scoped to the pushing kiosk's site (:mod:`sync.site_rows`) in both.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, Table, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError

from kiosk.db.models import Booking, CentralEvent, Enrolment, ParkingTicket, Patient, SessionRow
from kiosk.domain.event_parts import (
    TICKET_NUMBER_TAKEN,
    AtSite,
    Check,
    Effect,
    Insert,
    Kind,
    OfBooking,
    OwnKiosk,
    OwnSite,
    TicketExpiryFits,
    TicketNumberFree,
    Update,
)
from kiosk.domain.events import BY_NAME
from sync.id_sets import one_of
from sync.kinds import FLUSH_ORDER, FORMS, Refused, arbiter, decode, malformed, resolve
from sync.site_rows import site_of_row
from sync.staging import RawJSON, copy_insert

__all__ = ["TICKET_NUMBER_TAKEN", "Refused"]

SUPPORTED_SCHEMA_VERSIONS = frozenset({1})


@dataclass(frozen=True)
class OutgoingEvent:
    """One outbox row as the kiosk sends it: the payload is the JSON text the kiosk stored."""

    id: str
    seq: int
    kind: str
    schema_version: int
    created_at: dt.datetime
    payload_json: str

    @cached_property
    def payload(self) -> Any:
        """The decoded payload (decoded only where Python looks inside it)."""
        return json.loads(self.payload_json)


@dataclass
class Applied:
    """What the centre did with a batch."""

    new: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> list[str]:
        """Ids the kiosk may mark as sent (stored now or before)."""
        return self.new + self.duplicates


@dataclass(frozen=True)
class Prepared:
    """An event decoded in Python: its declaration and its payload's values."""

    event: OutgoingEvent
    kind: Kind
    values: dict[str, Any]
    site_id: str


def prepare(event: OutgoingEvent, site_id: str) -> Prepared:
    """Decode an event's payload as its kind declares, or raise :class:`Refused`."""
    if event.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise Refused(f"schema version {event.schema_version} is not supported by this centre")
    kind = BY_NAME.get(event.kind)
    if kind is None:
        raise Refused(f"unknown event kind '{event.kind}'")
    try:
        payload = event.payload
    except ValueError:
        raise Refused(malformed(event.kind)) from None
    return Prepared(event, kind, decode(kind, payload), site_id)


@dataclass
class Known:
    """What the centre knows of the rows a batch refers to, at the pushing kiosk's site."""

    refs: set[tuple[str, str]] = field(default_factory=set)
    # booking id: its columns the checks compare (patient, enrolment, its session's end)
    bookings: dict[str, dict[str, Any]] = field(default_factory=dict)
    # ticket number: the id of the site's ticket that has it
    tickets: dict[int, str] = field(default_factory=dict)


def known(conn: Connection, site_id: str, prepared: Sequence[Prepared]) -> Known:
    """Look up, one query per table, what the checks of ``prepared`` need (row-level security
    narrows it further)."""
    wanted: dict[str, set[str]] = {}
    numbers: set[int] = set()
    for item in prepared:
        for c in item.kind.checks:
            if isinstance(c, AtSite | OfBooking | TicketExpiryFits):
                what, key = (
                    (c.what, c.field) if isinstance(c, AtSite) else ("booking", "booking_id")
                )
                if item.values.get(key):
                    wanted.setdefault(what, set()).add(item.values[key])
            elif isinstance(c, TicketNumberFree):
                numbers.add(item.values["ticket_number"])
    found = Known()
    if wanted.get("booking"):
        bookings = (
            select(Booking.id, Booking.patient_id, Booking.enrolment_id, SessionRow.ends_at)
            .join(SessionRow, SessionRow.id == Booking.session_id)
            .where(
                one_of(conn, Booking.id, sorted(wanted["booking"])), SessionRow.site_id == site_id
            )
        )
        for booking_id, patient_id, enrolment_id, ends_at in conn.execute(bookings):
            found.refs.add(("booking", booking_id))
            found.bookings[booking_id] = {
                "patient_id": patient_id,
                "enrolment_id": enrolment_id,
                "ends_at": ends_at,
            }
    for what, model in (("patient", Patient), ("enrolment", Enrolment)):
        if wanted.get(what):
            ids = sorted(wanted[what])
            rows = select(model.id).where(one_of(conn, model.id, ids), model.site_id == site_id)
            found.refs.update((what, row_id) for row_id in conn.scalars(rows))
    if numbers:
        # A batch holds a few hundred tickets at most: a plain IN list uses the (site, number) key.
        tickets = select(ParkingTicket.ticket_number, ParkingTicket.id).where(
            ParkingTicket.site_id == site_id, ParkingTicket.ticket_number.in_(sorted(numbers))
        )
        found.tickets = {int(n): str(ticket_id) for n, ticket_id in conn.execute(tickets)}
    return found


def fails(check: Check, item: Prepared, found: Known, kiosk_id: str) -> bool:
    """Whether ``item`` fails ``check`` (the first failing check of its kind refuses it)."""
    values = item.values
    if isinstance(check, AtSite):
        value = values[check.field]
        required = any(f.name == check.field and f.required for f in FORMS[item.kind.name])
        return bool(value or required) and (check.what, value) not in found.refs
    if isinstance(check, OfBooking):
        booking = found.bookings.get(values["booking_id"])
        return booking is None or booking[check.field] != values[check.field]
    if isinstance(check, OwnSite):
        return bool(values[check.field] != item.site_id)
    if isinstance(check, OwnKiosk):
        return bool(values[check.field] != kiosk_id)
    if isinstance(check, TicketNumberFree):
        return bool(found.tickets.get(values["ticket_number"], values["id"]) != values["id"])
    if isinstance(check, TicketExpiryFits):
        booking = found.bookings.get(values["booking_id"])
        grace = dt.timedelta(minutes=check.grace_minutes)
        return booking is None or values["expires_at"] > booking["ends_at"] + grace
    prefix = ticket_code_prefix(values)
    code = str(values["payload"])
    return not (code.startswith(prefix) and TAG.fullmatch(code[len(prefix) :]) is not None)


# A code's tag: 16 characters of base32 (kiosk.domain.parking.code).
TAG = re.compile(r"[A-Z2-7]{16}")


def ticket_code_prefix(values: Mapping[str, Any]) -> str:
    """What a ticket's RK1 code must start with, from its other fields (the expiry to the
    minute, in UTC; the number padded to ten digits)."""
    expires = values["expires_at"].astimezone(dt.UTC)
    number = str(values["ticket_number"]).rjust(10, "0")
    return f"RK1:{values['key_id']}:{values['site_id']}:{number}:{expires:%Y%m%d%H%M}:"


def _insert(conn: Connection, table: Any) -> Any:
    module: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def _insert_ignore(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if conn.dialect.name == "postgresql":
        copy_insert(conn, table, rows)
    else:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), rows)


def _where(table: Table, where: Mapping[str, object], item: Prepared) -> list[Any]:
    """The declared conditions, and the row at the pushing kiosk's site (an id alone could name
    another site's row)."""
    at_site = text(site_of_row(table.name, site=":site")).bindparams(site=item.site_id)
    return [
        *(
            table.c[column].is_(None)
            if value is None
            else table.c[column] == resolve(value, item.values, item.site_id)
            for column, value in where.items()
        ),
        at_site,
    ]


def _apply_effect(conn: Connection, effect: Effect, items: Sequence[Prepared]) -> None:
    """One declared effect of a kind, for ``items`` of that kind."""
    table = effect.table
    if isinstance(effect, Insert):
        columns = [c.name for c in table.c]
        rows = [{c: p.values[c] for c in columns if c in p.values} for p in items]
        if not effect.refresh:
            _insert_ignore(conn, table, rows)
            return
        for row in rows:
            stmt = _insert(conn, table)
            stmt = stmt.on_conflict_do_update(
                index_elements=[arbiter(table)], set_={c: stmt.excluded[c] for c in effect.refresh}
            )
            conn.execute(stmt, row)
        return
    for item in items:
        if isinstance(effect, Update):
            values = {c: resolve(v, item.values, item.site_id) for c, v in effect.values.items()}
            conn.execute(update(table).where(*_where(table, effect.where, item)).values(values))
        else:
            conn.execute(delete(table).where(*_where(table, effect.where, item)))


def apply_kind(conn: Connection, items: Sequence[Prepared]) -> None:
    """The declared effects of events of one kind, in order (several only if they commute)."""
    for effect in items[0].kind.effects:
        _apply_effect(conn, effect, items)


def apply_effects(conn: Connection, prepared: Sequence[Prepared]) -> None:
    """Effects in kiosk order; runs of commuting kinds go in one statement per kind."""
    pending: dict[str, list[Prepared]] = {}

    def flush() -> None:
        for kind in FLUSH_ORDER:
            if kind in pending:
                apply_kind(conn, pending[kind])
        pending.clear()

    for item in prepared:
        if item.kind.commutes:
            pending.setdefault(item.kind.name, []).append(item)
        else:
            flush()
            apply_kind(conn, [item])
    flush()


def _store(
    conn: Connection,
    prepared: Sequence[Prepared],
    *,
    site_id: str,
    kiosk_id: str,
    now: dt.datetime,
) -> set[str]:
    """Insert the events; returns the ids that were not there yet."""
    if not prepared:
        return set()
    postgres = conn.dialect.name == "postgresql"
    rows = [
        {
            "id": p.event.id,
            "site_id": site_id,
            "kiosk_id": kiosk_id,
            "seq": p.event.seq,
            "kind": p.event.kind,
            "schema_version": p.event.schema_version,
            "created_at": p.event.created_at,
            "received_at": now,
            "payload": RawJSON(p.event.payload_json) if postgres else p.event.payload,
        }
        for p in prepared
    ]
    table = CentralEvent.__table__
    assert isinstance(table, Table)
    if postgres:
        return set(copy_insert(conn, table, rows, conflict=["id"], returning="id"))
    stmt = (
        _insert(conn, table)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(CentralEvent.id)
    )
    return set(conn.scalars(stmt, rows))


def check(
    conn: Connection, events: Sequence[OutgoingEvent], site_id: str, kiosk_id: str
) -> tuple[list[Prepared], dict[str, str]]:
    """Split events not stored yet into those to apply and refusals (with their reasons)."""
    refused: dict[str, str] = {}
    prepared: list[Prepared] = []
    for event in events:
        try:
            prepared.append(prepare(event, site_id))
        except Refused as exc:
            refused[event.id] = str(exc)
    found = known(conn, site_id, prepared)
    fit: list[Prepared] = []
    for item in prepared:
        failed = next((c for c in item.kind.checks if fails(c, item, found, kiosk_id)), None)
        if failed is None:
            fit.append(item)
        else:
            refused[item.event.id] = failed.reason.format(site=site_id)
    return fit, refused


def _validate(
    conn: Connection, events: Sequence[OutgoingEvent], site_id: str, kiosk_id: str
) -> tuple[list[Prepared], list[str], dict[str, str]]:
    """Split a batch into events to apply, events already stored, and refusals."""
    ids = [e.id for e in events]
    stored = set(conn.scalars(select(CentralEvent.id).where(one_of(conn, CentralEvent.id, ids))))
    fit, refused = check(conn, [e for e in events if e.id not in stored], site_id, kiosk_id)
    return fit, [i for i in ids if i in stored], refused


# Errors from the database: through SQLAlchemy, or straight from psycopg where a driver cursor
# is used (COPY), which SQLAlchemy does not wrap.
DATABASE_ERRORS = (DBAPIError, psycopg.Error)


# PostgreSQL's classes of errors an event's values cause: data exceptions and integrity
# violations. Any other (a table or function missing while the centre is being upgraded, a
# privilege) is the centre's state: the batch is retried later as it is.
_CONTENT_CLASSES = ("22", "23")


def is_content_error(exc: DBAPIError | psycopg.Error) -> bool:
    """True when a database error comes from an event's content rather than from the network,
    a timeout, a lock wait or the centre's schema (those are retried later as they are)."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            return False
        state = getattr(exc.orig, "sqlstate", None)
    else:
        if not isinstance(exc, psycopg.DatabaseError) or isinstance(exc, psycopg.OperationalError):
            return False
        state = exc.sqlstate
    # SQLite's errors carry no SQLSTATE: there, any that is not operational is the content's.
    return state is None or str(state)[:2] in _CONTENT_CLASSES


def error_name(exc: DBAPIError | psycopg.Error) -> str:
    return (exc.orig if isinstance(exc, DBAPIError) else exc).__class__.__name__


def apply_each(
    engine: Engine,
    events: Sequence[OutgoingEvent],
    *,
    site_id: str,
    kiosk_id: str,
    now: dt.datetime,
) -> Applied:
    """Store and apply a batch event by event under savepoints, in one central transaction:
    an event the database rejects is refused and the others still go in."""
    result = Applied()
    with engine.begin() as conn:
        fit, result.duplicates, result.refused = _validate(conn, events, site_id, kiosk_id)
        for item in fit:
            savepoint = conn.begin_nested()
            try:
                if _store(conn, [item], site_id=site_id, kiosk_id=kiosk_id, now=now):
                    apply_effects(conn, [item])
                    result.new.append(item.event.id)
                else:
                    result.duplicates.append(item.event.id)
                savepoint.commit()
            except DATABASE_ERRORS as exc:
                savepoint.rollback()
                if not is_content_error(exc):
                    raise
                result.refused[item.event.id] = f"the centre refused it ({error_name(exc)})"
    return result
