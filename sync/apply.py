"""The centre's side of a push: store each event once and apply what it means.

An event is new when its id is not yet in ``sync_events``; only new events change the domain
tables, so a batch sent twice (the acknowledgement was lost) changes nothing the second time.
Effects are ``INSERT ... ON CONFLICT DO NOTHING``: the same booking checked in at two kiosks
keeps both events and one attendance. An event the centre cannot take (unknown kind, newer
schema, a booking it does not know or that belongs to another site) is refused with a reason and
never stored, so the kiosk can set it aside without blocking the queue.

This module is the per-event path, with every payload decoded and checked in Python: a SQLite
centre uses it, and on PostgreSQL :mod:`sync.set_apply` hands it the events that are rare or not
in the shape a kiosk writes, and falls back on :func:`apply_each` when the database rejects a
value. It is also the reference the set-based path is tested against.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError

from kiosk.db.models import (
    Absence,
    Alert,
    AuditEntry,
    Booking,
    BookingStatus,
    Cancellation,
    CentralEvent,
    CheckIn,
    Enrolment,
    EnrolmentStatus,
    ParkingTicket,
    Patient,
)
from kiosk.db.models import Session as SessionRow
from sync.id_sets import one_of
from sync.staging import RawJSON, copy_insert

SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
# Kinds whose effects are plain inserts: their order within a batch does not matter.
COMMUTING = frozenset({"checkin", "alert", "audit", "parking_ticket"})
# Their flush order: any would do; both paths use this one, tables without a change number first.
FLUSH_ORDER = ("audit", "alert", "checkin", "parking_ticket")


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


class Refused(ValueError):
    """The centre does not take this event; the message says why (no personal data)."""


def _time(payload: Mapping[str, Any], key: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(str(payload[key]))
    if value.tzinfo is None:
        raise Refused(f"field {key} has no UTC offset")
    return value.astimezone(dt.UTC)


def _maybe_time(payload: Mapping[str, Any], key: str) -> dt.datetime | None:
    return _time(payload, key) if payload.get(key) else None


def _text(payload: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = payload.get(key, default)
    if not isinstance(value, str):
        raise Refused(f"field {key} is missing or not text")
    return value


def _opt_text(payload: Mapping[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Prepared:
    """An event checked in Python, with the row its effect writes."""

    event: OutgoingEvent
    row: dict[str, Any]
    # (kind of referenced row, id) that must exist at the pushing kiosk's site.
    refs: tuple[tuple[str, str], ...]


def prepare(event: OutgoingEvent, site_id: str, kiosk_id: str) -> Prepared:
    """Turn a payload into the row its effect writes, or raise :class:`Refused`."""
    if event.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        raise Refused(f"schema version {event.schema_version} is not supported by this centre")
    try:
        p = event.payload
        if not isinstance(p, dict):
            raise TypeError
        if event.kind == "checkin":
            row: dict[str, Any] = {
                "id": _text(p, "id"),
                "booking_id": _text(p, "booking_id"),
                "patient_id": _text(p, "patient_id"),
                "kiosk_id": _text(p, "kiosk_id"),
                "checked_in_at": _time(p, "checked_in_at"),
                "late": bool(p.get("late", False)),
                "identity_method": _text(p, "identity_method"),
                "card_number": _text(p, "card_number", ""),
                "document_type": _text(p, "document_type", ""),
                "identity_note": _text(p, "identity_note", ""),
            }
            refs: tuple[tuple[str, str], ...] = (
                ("booking", row["booking_id"]),
                ("patient", row["patient_id"]),
            )
        elif event.kind == "checkin_undone":
            row = {"id": _text(p, "id"), "booking_id": _text(p, "booking_id")}
            refs = (("booking", row["booking_id"]),)
        elif event.kind == "absence":
            row = {
                "id": _text(p, "id"),
                "booking_id": _text(p, "booking_id"),
                "enrolment_id": _text(p, "enrolment_id"),
                "recorded_at": _time(p, "recorded_at"),
                "excused": bool(p.get("excused", False)),
                "reason": _text(p, "reason", ""),
            }
            refs = (("booking", row["booking_id"]), ("enrolment", row["enrolment_id"]))
        elif event.kind == "cancellation":
            row = {
                "id": _text(p, "id"),
                "booking_id": _text(p, "booking_id"),
                "cancelled_at": _time(p, "cancelled_at"),
                "notice_minutes": int(p["notice_minutes"]),
                "fee_cents": int(p.get("fee_cents", 0)),
                "reason": _text(p, "reason", ""),
            }
            refs = (("booking", row["booking_id"]),)
        elif event.kind == "cancellation_undone" or event.kind == "absence_withdrawn":
            row = {"id": _text(p, "id"), "booking_id": _text(p, "booking_id")}
            refs = (("booking", row["booking_id"]),)
        elif event.kind == "enrolment_resumed" or event.kind == "enrolment_stopped":
            row = {"id": _text(p, "id"), "at": _time(p, "at"), "reason": _text(p, "reason", "")}
            refs = (("enrolment", row["id"]),)
        elif event.kind == "enrolment_updated":
            row = {
                "id": _text(p, "id"),
                "at": _time(p, "at"),
                "status": EnrolmentStatus(_text(p, "status")),
                "decisions": _text(p, "decisions", "")[:200],
                "reason": _text(p, "reason", "")[:200],
            }
            refs = (("enrolment", row["id"]),)
        elif event.kind == "alert":
            row = {
                "id": _text(p, "id"),
                "raised_at": _time(p, "raised_at"),
                "kind": _text(p, "kind"),
                "site_id": _text(p, "site_id"),
                "patient_id": _opt_text(p, "patient_id"),
                "enrolment_id": _opt_text(p, "enrolment_id"),
                "message": _text(p, "message"),
            }
            if row["site_id"] != site_id:
                raise Refused("the alert is for another site")
            refs = tuple(
                (kind, row[key])
                for kind, key in (("patient", "patient_id"), ("enrolment", "enrolment_id"))
                if row[key]
            )
        elif event.kind == "audit":
            detail = p.get("detail", {})
            row = {
                "id": _text(p, "id"),
                "at": _time(p, "at"),
                "kiosk_id": _text(p, "kiosk_id"),
                "actor": _text(p, "actor"),
                "action": _text(p, "action"),
                "outcome": _text(p, "outcome", ""),
                "patient_id": _opt_text(p, "patient_id"),
                "booking_id": _opt_text(p, "booking_id"),
                "detail": detail if isinstance(detail, dict) else {},
            }
            if row["kiosk_id"] != kiosk_id:
                raise Refused("the audit entry is for another kiosk")
            refs = ()
        elif event.kind == "parking_ticket":
            row = {
                "id": _text(p, "id"),
                "site_id": _text(p, "site_id"),
                "ticket_number": int(p["ticket_number"]),
                "booking_id": _text(p, "booking_id"),
                "key_id": _text(p, "key_id"),
                "issued_at": _time(p, "issued_at"),
                "expires_at": _time(p, "expires_at"),
                "payload": _text(p, "payload"),
                "printed_at": _maybe_time(p, "printed_at"),
                "print_error": _text(p, "print_error", ""),
            }
            if row["site_id"] != site_id:
                raise Refused("the parking ticket is for another site")
            if not 0 < row["ticket_number"] < 2**63:
                raise Refused("field ticket_number is out of range")
            refs = (("booking", row["booking_id"]),)
        elif event.kind == "ticket_printed":
            # Scoped to the pushing kiosk's site when applied; the ticket may be in this batch.
            row = {
                "id": _text(p, "id"),
                "site_id": site_id,
                "printed_at": _maybe_time(p, "printed_at"),
                "print_error": _text(p, "print_error", "")[:200],
            }
            refs = ()
        elif event.kind in ("alert_seen", "alert_resolved"):
            row = {
                "id": _text(p, "id"),
                "site_id": site_id,
                "at": _time(p, "at"),
                "actor": _text(p, "actor")[:40],
                "resolution": _text(p, "resolution", "")[:200],
            }
            refs = ()
        else:
            raise Refused(f"unknown event kind {event.kind!r}")
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, Refused):
            raise
        raise Refused(f"malformed {event.kind} payload ({exc.__class__.__name__})") from None
    return Prepared(event, row, refs)


def known_refs(
    conn: Connection, site_id: str, wanted: Mapping[str, set[str]]
) -> set[tuple[str, str]]:
    """The referenced rows that exist at ``site_id`` (row-level security narrows it further)."""
    found: set[tuple[str, str]] = set()
    queries = {
        "booking": lambda ids: (
            select(Booking.id)
            .join(SessionRow, SessionRow.id == Booking.session_id)
            .where(one_of(conn, Booking.id, ids), SessionRow.site_id == site_id)
        ),
        "patient": lambda ids: select(Patient.id).where(
            one_of(conn, Patient.id, ids), Patient.site_id == site_id
        ),
        "enrolment": lambda ids: select(Enrolment.id).where(
            one_of(conn, Enrolment.id, ids), Enrolment.site_id == site_id
        ),
    }
    for kind, ids in wanted.items():
        found.update((kind, row_id) for row_id in conn.scalars(queries[kind](sorted(ids))))
    return found


def _insert(conn: Connection, table: Any) -> Any:
    module: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def _insert_ignore(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if conn.dialect.name == "postgresql":
        copy_insert(conn, table, rows)
    else:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), rows)


def apply_one_kind(conn: Connection, kind: str, rows: list[dict[str, Any]]) -> None:
    if kind == "checkin":
        _insert_ignore(conn, CheckIn.__table__, rows)
    elif kind == "alert":
        _insert_ignore(conn, Alert.__table__, rows)
    elif kind == "audit":
        _insert_ignore(conn, AuditEntry.__table__, rows)
    elif kind == "parking_ticket":
        _insert_ignore(conn, ParkingTicket.__table__, rows)
    elif kind == "checkin_undone":
        for row in rows:
            conn.execute(delete(CheckIn).where(CheckIn.id == row["id"]))
    elif kind == "absence":
        for row in rows:
            stmt = _insert(conn, Absence.__table__).on_conflict_do_update(
                index_elements=["booking_id"],
                set_={"excused": row["excused"], "reason": row["reason"]},
            )
            conn.execute(stmt, row)
    elif kind == "cancellation":
        for row in rows:
            _insert_ignore(conn, Cancellation.__table__, [row])
            conn.execute(
                update(Booking)
                .where(Booking.id == row["booking_id"])
                .values(status=BookingStatus.CANCELLED)
            )
            conn.execute(delete(Absence).where(Absence.booking_id == row["booking_id"]))
    elif kind == "ticket_printed":
        for row in rows:
            conn.execute(
                update(ParkingTicket)
                .where(ParkingTicket.id == row["id"], ParkingTicket.site_id == row["site_id"])
                .values(printed_at=row["printed_at"], print_error=row["print_error"])
            )
    elif kind == "alert_seen":
        for row in rows:
            conn.execute(
                update(Alert)
                .where(Alert.id == row["id"], Alert.site_id == row["site_id"])
                .where(Alert.seen_at.is_(None))
                .values(seen_at=row["at"])
            )
    elif kind == "alert_resolved":
        for row in rows:
            conn.execute(
                update(Alert)
                .where(Alert.id == row["id"], Alert.site_id == row["site_id"])
                .where(Alert.resolved_at.is_(None))
                .values(
                    resolved_at=row["at"], resolved_by=row["actor"], resolution=row["resolution"]
                )
            )
    elif kind == "cancellation_undone":
        for row in rows:
            conn.execute(delete(Cancellation).where(Cancellation.id == row["id"]))
            conn.execute(
                update(Booking)
                .where(Booking.id == row["booking_id"], Booking.status == BookingStatus.CANCELLED)
                .values(status=BookingStatus.BOOKED)
            )
    elif kind == "absence_withdrawn":
        for row in rows:
            conn.execute(delete(Absence).where(Absence.booking_id == row["booking_id"]))
    elif kind == "enrolment_resumed":
        for row in rows:
            conn.execute(
                update(Enrolment)
                .where(Enrolment.id == row["id"], Enrolment.status == EnrolmentStatus.STOPPED)
                .values(status=EnrolmentStatus.ACTIVE, stopped_at=None, stop_reason="")
            )
    elif kind == "enrolment_updated":
        # The team's decisions and the status they or the last session gave (stopped: an
        # alternative plan; finished).
        for row in rows:
            stopped = row["status"] == EnrolmentStatus.STOPPED
            conn.execute(
                update(Enrolment)
                .where(Enrolment.id == row["id"])
                .values(
                    status=row["status"],
                    decisions=row["decisions"],
                    stopped_at=row["at"] if stopped else None,
                    stop_reason=row["reason"] if stopped else "",
                )
            )
    elif kind == "enrolment_stopped":
        for row in rows:
            conn.execute(
                update(Enrolment)
                .where(Enrolment.id == row["id"], Enrolment.status == EnrolmentStatus.ACTIVE)
                .values(
                    status=EnrolmentStatus.STOPPED, stopped_at=row["at"], stop_reason=row["reason"]
                )
            )


def apply_effects(conn: Connection, prepared: Sequence[Prepared]) -> None:
    """Effects in kiosk order; runs of commuting kinds go in one statement per kind."""
    pending: dict[str, list[dict[str, Any]]] = {}

    def flush() -> None:
        for kind in FLUSH_ORDER:
            if kind in pending:
                apply_one_kind(conn, kind, pending[kind])
        pending.clear()

    for item in prepared:
        if item.event.kind in COMMUTING:
            pending.setdefault(item.event.kind, []).append(item.row)
        else:
            flush()
            apply_one_kind(conn, item.event.kind, [item.row])
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
            prepared.append(prepare(event, site_id, kiosk_id))
        except Refused as exc:
            refused[event.id] = str(exc)
    wanted: dict[str, set[str]] = {}
    for item in prepared:
        for kind, row_id in item.refs:
            wanted.setdefault(kind, set()).add(row_id)
    known = known_refs(conn, site_id, wanted) if wanted else set()
    taken = _taken_ticket_numbers(conn, site_id, prepared)
    fit: list[Prepared] = []
    for item in prepared:
        missing = [kind for kind, row_id in item.refs if (kind, row_id) not in known]
        if missing:
            refused[item.event.id] = f"unknown {missing[0]} for site {site_id}"
        elif (
            item.event.kind == "parking_ticket"
            and taken.get(item.row["ticket_number"], item.row["id"]) != item.row["id"]
        ):
            refused[item.event.id] = TICKET_NUMBER_TAKEN
        else:
            fit.append(item)
    return fit, refused


TICKET_NUMBER_TAKEN = "the ticket number is taken at this site (two kiosks with one kiosk_number?)"


def _taken_ticket_numbers(
    conn: Connection, site_id: str, prepared: Sequence[Prepared]
) -> dict[int, str]:
    """The site's tickets (number: id) with the numbers of the tickets in ``prepared``.

    A ticket number names one ticket at a site: a second ticket with it (a kiosk configured
    with another's ``kiosk_number``) is refused, never dropped as if it were a duplicate.
    """
    numbers = sorted({p.row["ticket_number"] for p in prepared if p.event.kind == "parking_ticket"})
    if not numbers:
        return {}
    # A batch holds a few hundred tickets at most: a plain IN list uses the (site, number) key.
    query = select(ParkingTicket.ticket_number, ParkingTicket.id).where(
        ParkingTicket.site_id == site_id, ParkingTicket.ticket_number.in_(numbers)
    )
    return {int(n): str(ticket_id) for n, ticket_id in conn.execute(query)}


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


def is_content_error(exc: DBAPIError | psycopg.Error) -> bool:
    """True when a database error comes from an event's content rather than from the network,
    a timeout or a lock wait (those are retried later as they are)."""
    if isinstance(exc, DBAPIError):
        return not exc.connection_invalidated and not isinstance(exc, OperationalError)
    return isinstance(exc, psycopg.DatabaseError) and not isinstance(exc, psycopg.OperationalError)


def _error_name(exc: DBAPIError | psycopg.Error) -> str:
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
                result.refused[item.event.id] = f"the centre refused it ({_error_name(exc)})"
    return result


def apply_batch(
    engine: Engine,
    events: Sequence[OutgoingEvent],
    *,
    site_id: str,
    kiosk_id: str,
    now: dt.datetime,
    run: Callable[[Callable[[], Applied]], Applied] = lambda call: call(),
) -> Applied:
    """Store and apply one batch in one central transaction, decoding every payload in Python.

    ``run`` wraps each database round (the caller's deadline). When the whole-batch path fails
    on a database error from an event's content, the batch is redone by :func:`apply_each`.
    """

    def whole() -> Applied:
        with engine.begin() as conn:
            fit, duplicates, refused = _validate(conn, events, site_id, kiosk_id)
            new = _store(conn, fit, site_id=site_id, kiosk_id=kiosk_id, now=now)
            fresh = [p for p in fit if p.event.id in new]
            apply_effects(conn, fresh)
        late_duplicates = [p.event.id for p in fit if p.event.id not in new]
        return Applied(
            new=[p.event.id for p in fresh],
            duplicates=duplicates + late_duplicates,
            refused=refused,
        )

    try:
        return run(whole)
    except DATABASE_ERRORS as exc:
        if not is_content_error(exc):
            raise
        return run(lambda: apply_each(engine, events, site_id=site_id, kiosk_id=kiosk_id, now=now))
