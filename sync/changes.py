"""What a pull reads at the centre: the site's rows changed after a checkpoint, as queries.

The queries are built once from their arguments (SQL expressions): with the values themselves on
a SQLite centre (:func:`read_changes`), and with the parameters of the ``sync_pull`` function on
PostgreSQL (:mod:`sync.pull_function`), where a kiosk role reads no table itself.

What a kiosk holds: patients of its site without what :data:`WITHHELD` names and with only the
initial of what :data:`INITIAL_ONLY` names; enrolments; sessions and bookings in the window
(yesterday to 14 days ahead) and the attendance of active enrolments (progress is counted from
it); cancellations and parking tickets of those bookings. Days that just entered the window are
read whole, whatever their change numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    func,
    literal,
    or_,
    select,
)

from kiosk.core.clock import local, local_day_bounds
from kiosk.db.models import (
    Absence,
    Base,
    Booking,
    Cancellation,
    CheckIn,
    Enrolment,
    EnrolmentStatus,
    ParkingTicket,
    Patient,
    ProgrammeRow,
    SessionRow,
    Site,
    SyncDeletion,
)
from kiosk.db.types import UTCDateTime
from sync.id_sets import one_of

DAYS_BEHIND = 1
DAYS_AHEAD = 14
CHILDREN: tuple[type[Base], ...] = (CheckIn, Absence, Cancellation, ParkingTicket)
# What a kiosk never holds of a patient, and what it holds only the first letter of.
WITHHELD = frozenset({"national_number", "birth_date"})
INITIAL_ONLY = frozenset({"last_name"})


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
class Asked:
    """A pull's arguments, as SQL expressions: the site, the changes after ``checkpoint`` up
    to ``hi``, the window's bounds, and where the days that just entered it start (NULL: none)."""

    site: ColumnElement[Any]
    checkpoint: ColumnElement[Any]
    hi: ColumnElement[Any]
    start: ColumnElement[Any]
    end: ColumnElement[Any]
    fresh_from: ColumnElement[Any]


def fresh_from(checkpoint: int, window: Window, previous: Window | None) -> dt.datetime | None:
    """Where the days that entered the window since the last pull start, if any did."""
    if previous is None or checkpoint <= 0 or window.end <= previous.end:
        return None
    return local_day_bounds(max(previous.end, window.first))[0]


def table_of(model: type[Base]) -> Table:
    """A model's table."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def replica_columns(model: type[Base]) -> list[ColumnElement[Any]]:
    """The columns a kiosk holds of ``model``'s rows (change numbers stay at the centre)."""
    columns = [c for c in table_of(model).columns if c.name != "change_seq"]
    if model is not Patient:
        return list(columns)
    return [
        func.substr(c, 1, 1).label(c.name) if c.name in INITIAL_ONLY else c
        for c in columns
        if c.name not in WITHHELD
    ]


def change_queries(asked: Asked) -> dict[str, Select[Any]]:
    """Per replicated table, its rows a pull brings (before the parents of pulled attendance)."""
    s, b, e = table_of(SessionRow), table_of(Booking), table_of(Enrolment)

    def changed(col: Any) -> ColumnElement[bool]:
        return and_(col > asked.checkpoint, col <= asked.hi)

    in_window = and_(s.c.starts_at >= asked.start, s.c.starts_at < asked.end)
    # Days that just entered the window: their rows may carry old change numbers.
    fresh_days = and_(
        s.c.starts_at >= asked.fresh_from, s.c.starts_at < asked.end, s.c.change_seq <= asked.hi
    )

    def windowed(col: Any) -> ColumnElement[bool]:
        return or_(and_(changed(col), in_window), fresh_days)

    queries: dict[str, Select[Any]] = {
        "sites": select(*replica_columns(Site)).where(
            Site.id == asked.site, changed(Site.change_seq)
        ),
        "programmes": select(*replica_columns(ProgrammeRow)).where(
            changed(ProgrammeRow.change_seq)
        ),
        "patients": select(*replica_columns(Patient)).where(
            Patient.site_id == asked.site, changed(Patient.change_seq)
        ),
        "enrolments": select(*replica_columns(Enrolment)).where(
            Enrolment.site_id == asked.site, changed(Enrolment.change_seq)
        ),
        "sessions": select(*replica_columns(SessionRow)).where(
            s.c.site_id == asked.site, windowed(s.c.change_seq)
        ),
        "bookings": select(*replica_columns(Booking))
        .join(s, s.c.id == b.c.session_id)
        .where(s.c.site_id == asked.site, windowed(b.c.change_seq)),
    }
    for model in CHILDREN:
        t = table_of(model)
        relevant = or_(
            in_window, and_(s.c.starts_at < asked.end, e.c.status == EnrolmentStatus.ACTIVE)
        )
        queries[t.name] = (
            select(*replica_columns(model))
            .join(b, b.c.id == t.c.booking_id)
            .join(s, s.c.id == b.c.session_id)
            .join(e, e.c.id == b.c.enrolment_id)
            .where(
                s.c.site_id == asked.site,
                or_(and_(changed(t.c.change_seq), relevant), fresh_days),
            )
        )
    return queries


def tombstones_query(asked: Asked) -> Select[Any]:
    """The deletions a pull brings, in order (row ids only: no site, no content)."""
    return (
        select(SyncDeletion.table_name, SyncDeletion.row_id)
        .where(SyncDeletion.change_seq > asked.checkpoint, SyncDeletion.change_seq <= asked.hi)
        .order_by(SyncDeletion.change_seq)
    )


def _fetch(conn: Connection, stmt: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(stmt)]


def read_changes(
    conn: Connection,
    *,
    site_id: str,
    checkpoint: int,
    hi: int,
    window: Window,
    previous: Window | None,
) -> tuple[dict[str, list[dict[str, Any]]], list[tuple[str, str]]]:
    """Everything this site's replica needs that changed after ``checkpoint`` up to ``hi``,
    read from the tables (a SQLite centre, or the owner)."""
    start, end = window.bounds()
    asked = Asked(
        site=literal(site_id),
        checkpoint=literal(checkpoint),
        hi=literal(hi),
        start=literal(start, UTCDateTime()),
        end=literal(end, UTCDateTime()),
        fresh_from=literal(fresh_from(checkpoint, window, previous), UTCDateTime()),
    )
    rows = {name: _fetch(conn, query) for name, query in change_queries(asked).items()}
    _bring_parents(conn, rows)
    tombstones = [(str(t), str(r)) for t, r in conn.execute(tombstones_query(asked))]
    return rows, tombstones


def parents_missing(rows: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """Bookings of pulled attendance that the pull did not bring (outside the window)."""
    have = {r["id"] for r in rows["bookings"]}
    children = (table_of(model).name for model in CHILDREN)
    return sorted({r["booking_id"] for name in children for r in rows[name]} - have)


def _bring_parents(conn: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Bookings and sessions of pulled attendance outside the window come along with it."""
    missing = parents_missing(rows)
    if missing:
        rows["bookings"] += _fetch(
            conn, select(*replica_columns(Booking)).where(one_of(conn, Booking.id, missing))
        )
    have_sessions = {r["id"] for r in rows["sessions"]}
    wanted = sorted({r["session_id"] for r in rows["bookings"]} - have_sessions)
    if wanted:
        rows["sessions"] += _fetch(
            conn, select(*replica_columns(SessionRow)).where(one_of(conn, SessionRow.id, wanted))
        )
