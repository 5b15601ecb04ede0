"""Pulling the site's replica from the centre, incrementally by the centre's change sequence.

One pull asks the centre for the change horizon ``hi`` (every transaction numbered up to it has
ended), then reads in one consistent snapshot every row of this site changed after the kiosk's
checkpoint up to ``hi`` (plus tombstones), then writes those rows and the new checkpoint in one
local transaction: an interruption anywhere leaves the old checkpoint and the next pull simply
starts again from it.

What a kiosk holds is what :mod:`sync.changes` reads (on PostgreSQL through the ``sync_pull``
function, :mod:`sync.pull_function`: a kiosk role reads no table). When the window moves on, the
days that entered it are fetched whole, whatever their change numbers, and what left it is
pruned, so a kiosk that has run for months holds what a freshly installed one would pull.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, or_, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, sessionmaker

from kiosk.core.clock import Clock
from kiosk.db.models import (
    Base,
    Booking,
    Enrolment,
    EnrolmentStatus,
    OutboxEvent,
    SessionRow,
    SyncCounter,
    SyncState,
)
from kiosk.domain.events import KINDS
from sync.changes import CHILDREN, Window, read_changes, table_of
from sync.id_sets import one_of
from sync.kinds import owned_rows
from sync.pull_function import read_by_function

STATE_NAME = "central"
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
class PullReport:
    """What one pull brought (``pruned``: local rows dropped because the window moved on)."""

    checkpoint: int
    rows: int
    deleted: int
    pruned: int = 0


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
    b, s, e = table_of(Booking), table_of(SessionRow), table_of(Enrolment)
    kept = or_(
        *(
            select(table_of(model).c.id).where(table_of(model).c.booking_id == b.c.id).exists()
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
                reader = read_by_function if postgres else read_changes
                rows, tombstones = reader(
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
