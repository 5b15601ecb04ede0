"""A real SQLite kiosk database built by migrations, and a builder for exact scenarios."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devices.eid.national_number import make
from kiosk.core.clock import BRUSSELS, SettableClock
from kiosk.core.config import ParkingSettings, Settings
from kiosk.db.models import (
    Booking,
    Enrolment,
    EnrolmentStatus,
    Patient,
    ProgrammeRow,
    SessionRow,
    Site,
)
from kiosk.db.types import new_id
from kiosk.domain.checkin import IdentityEvidence
from kiosk.domain.context import KioskContext, open_context
from kiosk.domain.outcomes import CheckinResult
from kiosk.domain.patients import nn_hash

LOOKUP_KEY = bytes(range(1, 33))
PARKING_KEY = bytes(range(32))
MONDAY = dt.date(2026, 3, 2)


def local_time(day: dt.date, hhmm: str) -> dt.datetime:
    """An aware Brussels-local datetime."""
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=BRUSSELS)


def settings_for(data_dir: Path, **changes: object) -> Settings:
    """Settings for kiosk GENK-1 with known keys."""
    values: dict[str, object] = {
        "source": None,
        "data_dir": data_dir,
        "local_url": f"sqlite:///{data_dir / 'kiosk.sqlite'}",
        "lookup_key": LOOKUP_KEY,
        "parking": ParkingSettings(signing_key="K1", keys={"K1": PARKING_KEY}),
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Centre:
    """Builds patients, enrolments and bookings straight into the database."""

    context: KioskContext
    clock: SettableClock
    sequence: int = 0
    shared_sessions: dict[tuple[str, dt.datetime], str] = field(default_factory=dict)

    def patient(
        self,
        programme: str = "rugrevalidatie",
        *,
        first_name: str = "Zoë",
        last_name: str = "Peeters",
        status: EnrolmentStatus = EnrolmentStatus.ACTIVE,
        started_on: dt.date = MONDAY - dt.timedelta(weeks=8),
        decided: bool = True,
    ) -> tuple[str, str]:
        """A patient enrolled in ``programme``: returns (national number, enrolment id).
        ``decided``: the team said go at every gate of the trajectory already."""
        phases = self.context.programmes[programme].phases
        decisions = ",".join(f"{p.key}:go" for p in phases if p.gate_after) if decided else ""
        self.sequence += 1
        nn = make(dt.date(1980, 5, 17), self.sequence * 2 + 1)
        with self.context.sessions() as db, db.begin():
            patient = Patient(
                id=new_id(),
                nn_hash=nn_hash(LOOKUP_KEY, nn),
                national_number=nn,
                first_name=first_name,
                last_name=last_name,
                birth_date=dt.date(1980, 5, 17),
                site_id="GENK",
            )
            enrolment = Enrolment(
                id=new_id(),
                patient_id=patient.id,
                programme_code=programme,
                site_id="GENK",
                status=status,
                started_on=started_on,
                decisions=decisions,
            )
            db.add_all([patient, enrolment])
        return nn, enrolment.id

    def book(self, enrolment_id: str, start: dt.datetime, kind: str = "group") -> str:
        """Book the enrolment on the ``kind`` session starting at ``start``; returns its id."""
        with self.context.sessions() as db, db.begin():
            enrolment = db.get(Enrolment, enrolment_id)
            assert enrolment is not None
            programme = self.context.programmes[enrolment.programme_code]
            key = (kind, start)
            if key not in self.shared_sessions:
                session = SessionRow(
                    id=new_id(),
                    site_id="GENK",
                    programme_code=programme.code,
                    kind=kind,
                    starts_at=start.astimezone(dt.UTC),
                    ends_at=(start + dt.timedelta(minutes=programme.kind(kind).minutes)).astimezone(
                        dt.UTC
                    ),
                    room="Zaal 1",
                )
                db.add(session)
                self.shared_sessions[key] = session.id
            booking = Booking(
                id=new_id(),
                session_id=self.shared_sessions[key],
                enrolment_id=enrolment_id,
                patient_id=enrolment.patient_id,
            )
            db.add(booking)
        return booking.id

    def attend(self, nn: str, enrolment_id: str, start: dt.datetime, kind: str = "group") -> None:
        """Book and check in (at the start time) one session."""
        self.book(enrolment_id, start, kind)
        result = self.tap(nn, start - dt.timedelta(minutes=10))
        assert result.outcome == "checked_in", result.outcome

    def tap(self, nn: str, at: dt.datetime) -> CheckinResult:
        """The patient's card at the kiosk at ``at``."""
        self.clock.set(at)
        return self.context.checkin_engine().check_in(IdentityEvidence(nn, method="chip"))

    def group_history(self, nn: str, enrolment_id: str, sessions: int, until: dt.date) -> None:
        """``sessions`` attended group sessions, Monday and Wednesday 13:00, in the weeks
        before the week of ``until``."""
        monday = until - dt.timedelta(days=until.weekday())
        days: list[dt.date] = []
        weeks_back = 0
        while len(days) < sessions:
            weeks_back += 1
            week = monday - dt.timedelta(weeks=weeks_back)
            days += [week + dt.timedelta(days=2), week]
        for day in sorted(days[:sessions]):
            self.attend(nn, enrolment_id, local_time(day, "13:00"))


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(local_time(MONDAY, "08:00"), running=False)


@pytest.fixture
def centre(tmp_path: Path, clock: SettableClock) -> Iterator[Centre]:
    context = open_context(settings_for(tmp_path), clock=clock, create=True)
    with context.sessions() as db, db.begin():
        db.add(Site(id="GENK", name="Campus Genk"))
        for programme in context.programmes.values():
            db.add(ProgrammeRow(code=programme.code, name=programme.title["en"]))
    yield Centre(context, clock)
    context.close()
