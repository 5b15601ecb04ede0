"""A real SQLite database with one booked session, and settings with a known parking key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kiosk.core.config import ParkingSettings, Settings
from kiosk.db.engine import create_schema, make_engine, session_factory
from kiosk.db.models import Booking, Enrolment, Patient, ProgrammeRow, SessionRow, Site

# The README's test vector key: bytes 0x00 to 0x1f.
VECTOR_KEY = bytes(range(32))
SESSION_END = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def make_settings(data_dir: Path, **changes: object) -> Settings:
    """Settings for site GENK, kiosk 1, signing with key K1 = the vector key."""
    values: dict[str, object] = {
        "source": None,
        "data_dir": data_dir,
        "site_id": "GENK",
        "kiosk_id": "GENK-1",
        "kiosk_number": 1,
        "local_url": f"sqlite:///{data_dir / 'kiosk.sqlite'}",
        "parking": ParkingSettings(signing_key="K1", keys={"K1": VECTOR_KEY}),
        "printer": "file",
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.local_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def add_booking(db: Session, *, site_id: str = "GENK", end: dt.datetime = SESSION_END) -> str:
    """A booked session at ``site_id`` ending at ``end``; returns the booking id."""
    if db.get(Site, site_id) is None:
        db.add(Site(id=site_id, name=site_id.title()))
    if db.get(ProgrammeRow, "rug") is None:
        db.add(ProgrammeRow(code="rug", name="Rugrevalidatie"))
    db.flush()
    patient = Patient(nn_hash=f"h{db.query(Patient).count()}", first_name="An", site_id=site_id)
    db.add(patient)
    db.flush()
    enrolment = Enrolment(
        patient_id=patient.id, programme_code="rug", site_id=site_id, started_on=end.date()
    )
    slot = SessionRow(
        site_id=site_id,
        programme_code="rug",
        kind="group",
        starts_at=end - dt.timedelta(hours=2),
        ends_at=end,
    )
    db.add_all([enrolment, slot])
    db.flush()
    booking = Booking(session_id=slot.id, enrolment_id=enrolment.id, patient_id=patient.id)
    db.add(booking)
    db.flush()
    return booking.id


@pytest.fixture
def booking_in() -> Callable[..., str]:
    """:func:`add_booking`, for tests that book inside their own transaction."""
    return add_booking


@pytest.fixture
def new_booking(sessions: sessionmaker[Session]) -> Callable[..., str]:
    """Commit a new booking (see :func:`add_booking`) and return its id."""

    def make(**kwargs: object) -> str:
        with sessions() as db, db.begin():
            return add_booking(db, **kwargs)  # type: ignore[arg-type]

    return make
