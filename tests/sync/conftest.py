"""Real centres (a SQLite file, or a fresh PostgreSQL database) and kiosks that sync with them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from kiosk.core.clock import SettableClock, local_day_bounds
from kiosk.core.config import ParkingSettings, Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine, session_factory
from kiosk.db.models import Booking, CentralEvent, CheckIn, OutboxEvent, SessionRow
from kiosk.domain import demo
from kiosk.domain.checkin import CheckinEngine
from kiosk.programme import Programme, load_programmes
from sync import central
from sync.service import Backoff, SyncService
from tests.postgres import temporary_database

LOOKUP_KEY = bytes(range(32, 64))
PARKING_KEY = bytes(range(64, 96))
# A Monday morning, Brussels: demo bookings lie around it.
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
SITES = (("GENK", "Campus Genk"), ("HASSELT", "Campus Hasselt"), ("LEUVEN", "Campus Leuven"))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database."""
    with temporary_database("sync_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def central_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The centre on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.sqlite'}"
        return
    with temporary_database("sync_test") as url:
        yield url


@pytest.fixture
def kiosk_centre(
    pg_url: str, programmes: dict[str, Programme], kiosk_role: Callable[[str], str]
) -> Iterator[tuple[str, Engine]]:
    """A demo PostgreSQL centre and a kiosk role of its own (dropped by ``kiosk_role``)."""
    role = kiosk_role("kiosk_state")
    fill_centre(pg_url, programmes)
    admin = make_engine(pg_url)
    central.add_kiosk(admin, role, site_id="GENK", kiosk_id="GENK-1", kiosk_number=1)
    try:
        yield role, admin
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def programmes() -> dict[str, Programme]:
    return load_programmes(None)


def fill_centre(
    url: str, programmes: dict[str, Programme], *, patients: int = 60, sites: int = 3
) -> demo.DemoSummary:
    """Schema, security and a demo centre."""
    engine = make_engine(url)
    try:
        central.init(engine)
        with session_factory(engine)() as db, db.begin():
            return demo.generate(
                db,
                programmes,
                lookup_key=LOOKUP_KEY,
                now=NOW,
                patients=patients,
                sites=SITES[:sites],
                future_weeks=2,
            )
    finally:
        engine.dispose()


@dataclass
class Kiosk:
    """A kiosk: its own SQLite, clock, check-in engine and sync service."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: SettableClock
    checkin: CheckinEngine
    sync: SyncService

    def bookings_on(self, day: dt.date) -> list[tuple[str, str, dt.datetime]]:
        """(patient id, booking id, session start) of the day's booked, unchecked bookings."""
        start, end = local_day_bounds(day)
        with self.sessions() as db:
            rows = db.execute(
                select(Booking.patient_id, Booking.id, SessionRow.starts_at)
                .join(SessionRow, SessionRow.id == Booking.session_id)
                .outerjoin(CheckIn, CheckIn.booking_id == Booking.id)
                .where(
                    SessionRow.starts_at >= start,
                    SessionRow.starts_at < end,
                    CheckIn.id.is_(None),
                    Booking.status == "booked",
                )
                .order_by(SessionRow.starts_at, Booking.id)
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]

    def check_in_day(self, day: dt.date, limit: int | None = None) -> int:
        """Check in (by hand) everyone booked on ``day``, each just before their session."""
        done = 0
        for patient_id, _booking, starts in self.bookings_on(day)[:limit]:
            result = self.checkin.check_in_patient(
                patient_id, actor="test", note="test", at=starts - dt.timedelta(minutes=5)
            )
            done += result.outcome == "checked_in"
        return done

    def checkin_event_ids(self) -> list[str]:
        """Ids of every check-in event this kiosk made."""
        with self.sessions() as db:
            return list(db.scalars(select(OutboxEvent.id).where(OutboxEvent.kind == "checkin")))

    def pending(self) -> int:
        """Events not yet sent nor set aside."""
        with self.sessions() as db:
            return int(
                db.scalar(
                    select(func.count(OutboxEvent.id)).where(
                        OutboxEvent.sent_at.is_(None), OutboxEvent.set_aside.is_(False)
                    )
                )
                or 0
            )

    def close(self) -> None:
        self.sync.close()
        self.engine.dispose()


@pytest.fixture
def make_kiosk(tmp_path: Path, programmes: dict[str, Programme]) -> Iterator[Callable[..., Kiosk]]:
    made: list[Kiosk] = []

    def make(
        central_url: str,
        *,
        site_id: str = "GENK",
        number: int = 1,
        deadline_s: float = 10.0,
        statement_timeout_ms: int = 10_000,
        kiosk_id: str | None = None,
        tickets: bool = False,
    ) -> Kiosk:
        kiosk_id = kiosk_id or f"{site_id}-{number}"
        path = tmp_path / f"kiosk-{kiosk_id}.sqlite"
        settings = Settings(
            source=None,
            data_dir=tmp_path,
            site_id=site_id,
            kiosk_id=kiosk_id,
            kiosk_number=number,
            local_url=f"sqlite:///{path}",
            central_url=central_url,
            lookup_key=LOOKUP_KEY,
            parking=ParkingSettings(signing_key="K1", keys={"K1": PARKING_KEY})
            if tickets
            else ParkingSettings(),
        )
        engine = make_engine(settings.local_url)
        migrate.upgrade(engine)
        sessions = session_factory(engine)
        clock = SettableClock(NOW, running=False)
        kiosk = Kiosk(
            settings=settings,
            engine=engine,
            sessions=sessions,
            clock=clock,
            checkin=CheckinEngine(sessions, programmes, settings, clock),
            sync=SyncService(
                sessions,
                central_url,
                site_id=site_id,
                kiosk_id=kiosk_id,
                clock=clock,
                deadline_s=deadline_s,
                statement_timeout_ms=statement_timeout_ms,
                backoff=Backoff(interval_s=0.05, base_s=0.05, cap_s=0.2),
            ),
        )
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.close()


def assert_each_checkin_once(central_url: str, kiosks: list[Kiosk]) -> None:
    """Every check-in made at every kiosk is in the centre exactly once."""
    made = [event_id for kiosk in kiosks for event_id in kiosk.checkin_event_ids()]
    assert made, "the test made no check-ins"
    assert len(made) == len(set(made))
    for kiosk in kiosks:
        assert kiosk.pending() == 0
    engine = make_engine(central_url)
    try:
        with engine.connect() as conn:
            stored = list(
                conn.scalars(select(CentralEvent.id).where(CentralEvent.kind == "checkin"))
            )
            stored_set = set(stored)
            assert len(stored) == len(stored_set)
            assert set(made) <= stored_set
            booking_ids = [
                p["booking_id"]
                for p in conn.scalars(select(CentralEvent.payload).where(CentralEvent.id.in_(made)))
            ]
            attendance: dict[str, int] = {
                booking_id: count
                for booking_id, count in conn.execute(
                    select(CheckIn.booking_id, func.count(CheckIn.id))
                    .where(CheckIn.booking_id.in_(booking_ids))
                    .group_by(CheckIn.booking_id)
                )
            }
            assert set(attendance) == set(booking_ids)
            assert set(attendance.values()) == {1}
    finally:
        engine.dispose()
