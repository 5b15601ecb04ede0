"""Pulling the site's replica from the centre, incrementally by the centre's change sequence.

One pull asks the centre for the change horizon ``hi`` (every transaction numbered up to it has
ended), then reads in one consistent snapshot every row of this site changed after the kiosk's
checkpoint up to ``hi`` (plus tombstones), then writes those rows and the new checkpoint in one
local transaction: an interruption anywhere leaves the old checkpoint and the next pull simply
starts again from it.

What a kiosk holds: patients of its site with the lookup hash, first name, last initial and
language only (no national number, no birth date); enrolments; sessions and bookings in the window
(yesterday to 14 days ahead) and the attendance of active enrolments (progress is counted from
it); cancellations and parking tickets of those bookings. When the window moves on, the days that
entered it are fetched whole, whatever their change numbers, and what left it is pruned, so a
kiosk that has run for months holds what a freshly installed one would pull.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, sessionmaker

from kiosk.core.clock import Clock, local, local_day_bounds
from kiosk.db.models import (
    Absence,
    Base,
    Booking,
    Cancellation,
    CheckIn,
    Enrolment,
    EnrolmentStatus,
    OutboxEvent,
    ParkingTicket,
    Patient,
    ProgrammeRow,
    SessionRow,
    Site,
    SyncCounter,
    SyncDeletion,
    SyncState,
)
from kiosk.domain.events import KINDS
from sync.id_sets import one_of
from sync.kinds import owned_rows

STATE_NAME = "central"
DAYS_BEHIND = 1
DAYS_AHEAD = 14
CHILDREN: tuple[type[Base], ...] = (CheckIn, Absence, Cancellation, ParkingTicket)
# Local rows that hang on a replicated row: deleted with it (a tombstone from the centre).
DEPENDENTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "sessions": (("bookings", "session_id"),),
    "bookings": (
        ("checkins", "booking_id"),
        ("absences", "booking_id"),
        ("cancellations", "booking_id"),
        ("parking_tickets", "booking_id"),
    ),
    "enrolments": (
        ("bookings", "enrolment_id"),
        ("absences", "enrolment_id"),
        ("alerts", "enrolment_id"),
    ),
    "patients": (
        ("enrolments", "patient_id"),
        ("bookings", "patient_id"),
        ("checkins", "patient_id"),
        ("alerts", "patient_id"),
    ),
}


# The replicated rows each kind of outbox event changed on the kiosk: (table, column of the pulled
# row, payload field that holds its value), from the effects kiosk.domain.events declares. Until
# such an event has gone up, the centre's copy of that row is older than the kiosk's, and a pull
# must not write it back (a printed ticket would lose its ``printed_at`` and print again; an
# undone check-in would come back).
_REPLICATED = {"patients", "enrolments", "sessions", "bookings"} | {
    str(model.__tablename__) for model in CHILDREN
}
KIOSK_OWNED: Mapping[str, tuple[tuple[str, str, str], ...]] = {
    k.name: owned
    for k in KINDS
    if (owned := tuple(row for row in owned_rows(k) if row[0] in _REPLICATED))
}


@dataclass(frozen=True)
class Window:
    """The days of sessions a kiosk holds: ``first`` up to, not including, ``end``."""

    first: dt.date
    end: dt.date

    @classmethod
    def around(cls, now: dt.datetime) -> Window:
        """Yesterday to 14 days ahead, in Brussels days."""
        today = local(now).date()
        return cls(
            today - dt.timedelta(days=DAYS_BEHIND), today + dt.timedelta(days=DAYS_AHEAD + 1)
        )

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The window as UTC instants."""
        return local_day_bounds(self.first)[0], local_day_bounds(self.end)[0]


@dataclass(frozen=True)
class PullReport:
    """What one pull brought (``pruned``: local rows dropped because the window moved on)."""

    checkpoint: int
    rows: int
    deleted: int
    pruned: int = 0


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _columns(model: type[Base]) -> list[Column[Any]]:
    return [c for c in _table(model).columns if c.name != "change_seq"]


def _patient_columns() -> list[ColumnElement[Any]]:
    """What a kiosk may hold of a patient."""
    t = _table(Patient)
    return [
        t.c.id,
        t.c.nn_hash,
        t.c.first_name,
        func.substr(t.c.last_name, 1, 1).label("last_name"),
        t.c.site_id,
        t.c.language,
    ]


def _fetch(conn: Connection, stmt: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(stmt)]


def change_horizon(conn: Connection) -> int:
    """The highest change number up to which every writing transaction has ended.

    On PostgreSQL it is asked of ``sync_horizon()`` (migration 0004) and must be asked before
    the reading snapshot is taken: a snapshot taken afterwards sees every change up to it. A
    SQLite centre's writers hold the database lock until commit, so its counter, read in the
    reading transaction, is the horizon.
    """
    if conn.dialect.name == "postgresql":
        return int(conn.scalar(select(func.sync_horizon())) or 0)
    return int(conn.scalar(select(SyncCounter.value).where(SyncCounter.id == 1)) or 0)


def read_changes(
    conn: Connection,
    *,
    site_id: str,
    checkpoint: int,
    hi: int,
    window: Window,
    previous: Window | None,
) -> tuple[dict[str, list[dict[str, Any]]], list[tuple[str, str]]]:
    """Everything this site's replica needs that changed after ``checkpoint`` up to ``hi``."""
    start, end = window.bounds()

    def changed(col: Any) -> ColumnElement[bool]:
        return and_(col > checkpoint, col <= hi)

    s, b = _table(SessionRow), _table(Booking)
    in_window = and_(s.c.starts_at >= start, s.c.starts_at < end)
    fresh_days: ColumnElement[bool] | None = None
    if previous is not None and checkpoint > 0 and window.end > previous.end:
        # Days that just entered the window: their rows may carry old change numbers.
        entered = max(previous.end, window.first)
        fresh_days = and_(
            s.c.starts_at >= local_day_bounds(entered)[0], s.c.starts_at < end, s.c.change_seq <= hi
        )

    def windowed(col: Any) -> ColumnElement[bool]:
        wanted = and_(changed(col), in_window)
        return or_(wanted, fresh_days) if fresh_days is not None else wanted

    rows: dict[str, list[dict[str, Any]]] = {}
    rows["sites"] = _fetch(
        conn, select(*_columns(Site)).where(Site.id == site_id, changed(Site.change_seq))
    )
    rows["programmes"] = _fetch(
        conn, select(*_columns(ProgrammeRow)).where(changed(ProgrammeRow.change_seq))
    )
    rows["patients"] = _fetch(
        conn,
        select(*_patient_columns()).where(Patient.site_id == site_id, changed(Patient.change_seq)),
    )
    rows["enrolments"] = _fetch(
        conn,
        select(*_columns(Enrolment)).where(
            Enrolment.site_id == site_id, changed(Enrolment.change_seq)
        ),
    )
    rows["sessions"] = _fetch(
        conn, select(*_columns(SessionRow)).where(s.c.site_id == site_id, windowed(s.c.change_seq))
    )
    rows["bookings"] = _fetch(
        conn,
        select(*_columns(Booking))
        .join(s, s.c.id == b.c.session_id)
        .where(s.c.site_id == site_id, windowed(b.c.change_seq)),
    )
    e = _table(Enrolment)
    for model in CHILDREN:
        t = _table(model)
        relevant = or_(in_window, and_(s.c.starts_at < end, e.c.status == EnrolmentStatus.ACTIVE))
        condition = and_(changed(t.c.change_seq), relevant)
        if fresh_days is not None:
            condition = or_(condition, fresh_days)
        rows[t.name] = _fetch(
            conn,
            select(*_columns(model))
            .join(b, b.c.id == t.c.booking_id)
            .join(s, s.c.id == b.c.session_id)
            .join(e, e.c.id == b.c.enrolment_id)
            .where(s.c.site_id == site_id, condition),
        )
    _bring_parents(conn, rows)
    tombstones = [
        (row.table_name, row.row_id)
        for row in conn.execute(
            select(SyncDeletion.table_name, SyncDeletion.row_id)
            .where(changed(SyncDeletion.change_seq))
            .order_by(SyncDeletion.change_seq)
        )
    ]
    return rows, tombstones


def _bring_parents(conn: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Bookings and sessions of pulled attendance outside the window come along with it."""
    have = {r["id"] for r in rows["bookings"]}
    missing = sorted(
        {
            r["booking_id"]
            for name in ("checkins", "absences", "cancellations", "parking_tickets")
            for r in rows[name]
        }
        - have
    )
    if missing:
        rows["bookings"] += _fetch(
            conn, select(*_columns(Booking)).where(one_of(conn, Booking.id, missing))
        )
    have_sessions = {r["id"] for r in rows["sessions"]}
    wanted = sorted({r["session_id"] for r in rows["bookings"]} - have_sessions)
    if wanted:
        rows["sessions"] += _fetch(
            conn, select(*_columns(SessionRow)).where(one_of(conn, SessionRow.id, wanted))
        )


def _delete_rows(db: Session, table_name: str, ids: Sequence[str]) -> int:
    """Delete rows and what hangs on them locally (children first: foreign keys are on)."""
    if not ids:
        return 0
    conn = db.connection()
    table = Base.metadata.tables[table_name]
    key = table.c.code if table_name == "programmes" else table.c.id
    for child_name, column in DEPENDENTS.get(table_name, ()):
        child = Base.metadata.tables[child_name]
        child_ids = list(db.scalars(select(child.c.id).where(one_of(conn, child.c[column], ids))))
        _delete_rows(db, child_name, child_ids)
    result = db.execute(delete(table).where(one_of(conn, key, ids)))
    return int(getattr(result, "rowcount", 0) or 0)


def _losers(db: Session, table: Table, batch: Sequence[Mapping[str, Any]]) -> list[str]:
    """Local attendance rows of the pulled bookings that the centre did not keep (one query)."""
    kept = {row["booking_id"]: row["id"] for row in batch}
    local_rows = db.execute(
        select(table.c.id, table.c.booking_id).where(
            one_of(db.connection(), table.c.booking_id, kept)
        )
    )
    losers = [row_id for row_id, booking_id in local_rows if kept[booking_id] != row_id]
    if table.name == "parking_tickets":
        # A ticket number names one ticket at a site: a local ticket the centre refused for a
        # number another kiosk had already used gives way too (else every pull would fail).
        numbers = {row["ticket_number"]: row["id"] for row in batch}
        ordered = sorted(numbers)
        for chunk in range(0, len(ordered), 1000):
            clashing = db.execute(
                select(table.c.id, table.c.ticket_number).where(
                    table.c.ticket_number.in_(ordered[chunk : chunk + 1000])
                )
            )
            losers += [row_id for row_id, number in clashing if numbers[number] != row_id]
    return losers


def prune(db: Session, window: Window) -> int:
    """Drop what has left the window and a fresh pull would not bring: bookings before it
    without attendance, cancellation or ticket, or of an enrolment no longer active (with what
    hangs on them), then the sessions left without bookings. Rows deleted."""
    start = window.bounds()[0]
    b, s, e = _table(Booking), _table(SessionRow), _table(Enrolment)
    kept = or_(
        *(
            select(_table(model).c.id).where(_table(model).c.booking_id == b.c.id).exists()
            for model in CHILDREN
        )
    )
    bookings = db.scalars(
        select(b.c.id)
        .join(s, s.c.id == b.c.session_id)
        .join(e, e.c.id == b.c.enrolment_id)
        .where(s.c.starts_at < start, or_(e.c.status != EnrolmentStatus.ACTIVE, ~kept))
    )
    pruned = _delete_rows(db, "bookings", list(bookings))
    empty = db.scalars(
        select(s.c.id).where(
            s.c.starts_at < start, ~select(b.c.id).where(b.c.session_id == s.c.id).exists()
        )
    )
    return pruned + _delete_rows(db, "sessions", list(empty))


def unsent_rows(db: Session) -> dict[tuple[str, str], set[str]]:
    """Per (table, column), the values of rows changed by outbox events not yet sent.

    Set-aside events do not count: the centre refused them, so its rows are the truth.
    """
    owned: dict[tuple[str, str], set[str]] = {}
    fields = sorted({field for targets in KIOSK_OWNED.values() for *_, field in targets})
    query = select(
        OutboxEvent.kind, *(func.json_extract(OutboxEvent.payload, f"$.{f}") for f in fields)
    ).where(
        OutboxEvent.sent_at.is_(None),
        OutboxEvent.set_aside.is_(False),
        OutboxEvent.kind.in_(KIOSK_OWNED),
    )
    for kind, *values in db.execute(query):
        found = dict(zip(fields, values, strict=True))
        for table_name, column, field in KIOSK_OWNED[kind]:
            if found[field] is not None:
                owned.setdefault((table_name, column), set()).add(str(found[field]))
    return owned


def _kept_locally(
    table_name: str, batch: list[dict[str, Any]], owned: Mapping[tuple[str, str], set[str]]
) -> list[dict[str, Any]]:
    """The pulled rows that do not overwrite a row the kiosk changed and has not yet sent."""
    mine = [(column, values) for (name, column), values in owned.items() if name == table_name]
    if not mine:
        return batch
    return [row for row in batch if not any(row[column] in values for column, values in mine)]


def apply_changes(
    db: Session, rows: Mapping[str, list[dict[str, Any]]], tombstones: Sequence[tuple[str, str]]
) -> int:
    """Write pulled rows into the kiosk's database (the caller's transaction); rows deleted.

    Rows the kiosk changed and has not yet pushed are left as the kiosk has them."""
    owned = unsent_rows(db)
    deleted = 0
    by_table: dict[str, list[str]] = {}
    for table_name, row_id in tombstones:
        by_table.setdefault(table_name, []).append(row_id)
    for table_name in reversed(list(rows)):
        deleted += _delete_rows(db, table_name, by_table.get(table_name, []))
    for table_name, pulled in rows.items():
        batch = _kept_locally(table_name, pulled, owned)
        if not batch:
            continue
        table = Base.metadata.tables[table_name]
        if table_name in {"checkins", "absences", "cancellations", "parking_tickets"}:
            # The centre keeps one row per booking; a local row it did not keep gives way.
            deleted += _delete_rows(db, table_name, _losers(db, table, batch))
        key = "code" if table_name == "programmes" else "id"
        stmt = sqlite.insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[key],
            set_={c: stmt.excluded[c] for c in batch[0] if c != key},
        )
        for chunk in range(0, len(batch), 2000):
            db.execute(stmt, batch[chunk : chunk + 2000])
    return deleted


def load_state(db: Session) -> SyncState:
    """The kiosk's sync state row (created on first use)."""
    state = db.get(SyncState, STATE_NAME)
    if state is None:
        state = SyncState(name=STATE_NAME, checkpoint=0, last_error="", failures=0)
        db.add(state)
        db.flush()
    return state


def pull(
    local_sessions: sessionmaker[Session],
    central: Engine,
    *,
    site_id: str,
    clock: Clock,
    run: Any = None,
) -> PullReport:
    """One incremental pull; the rows and the checkpoint are committed together."""
    with local_sessions() as db:
        state = db.get(SyncState, STATE_NAME)
        checkpoint = state.checkpoint if state else 0
        previous = (
            Window(state.window_from, state.window_to)
            if state and state.window_from and state.window_to
            else None
        )
    window = Window.around(clock.now())

    def read() -> tuple[int, dict[str, list[dict[str, Any]]], list[tuple[str, str]]]:
        with central.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            if postgres:
                with conn.begin():
                    hi = change_horizon(conn)
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                if not postgres:  # SQLite: the counter, read in the reading transaction
                    hi = change_horizon(conn)
                rows, tombstones = read_changes(
                    conn,
                    site_id=site_id,
                    checkpoint=checkpoint,
                    hi=hi,
                    window=window,
                    previous=previous,
                )
        return hi, rows, tombstones

    hi, rows, tombstones = run(read) if run is not None else read()
    with local_sessions() as db, db.begin():
        state = load_state(db)
        if state.checkpoint != checkpoint:
            # Another pull finished meanwhile; its rows are at least as new as these.
            return PullReport(state.checkpoint, 0, 0)
        deleted = apply_changes(db, rows, tombstones)
        # Once a day, when yesterday's sessions fall out of the window.
        pruned = prune(db, window) if previous and window.first > previous.first else 0
        state.checkpoint = max(hi, checkpoint)
        state.window_from, state.window_to = window.first, window.end
        state.last_pull_at = clock.now()
    return PullReport(state.checkpoint, sum(len(v) for v in rows.values()), deleted, pruned)
