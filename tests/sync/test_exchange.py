"""Pull and push against a SQLite centre and a PostgreSQL centre."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable

from sqlalchemy import delete, func, select, update

from kiosk.core.clock import local_day_bounds
from kiosk.core.config import CheckinWindow
from kiosk.db.engine import make_engine, session_factory
from kiosk.db.models import (
    Absence,
    Booking,
    BookingStatus,
    Cancellation,
    CentralEvent,
    CheckIn,
    Enrolment,
    EnrolmentStatus,
    OutboxEvent,
    Patient,
    SessionRow,
)
from kiosk.domain.attendance import Attendance
from kiosk.domain.checkin import CheckinEngine
from kiosk.programme import Programme
from tests.sync.conftest import NOW, Kiosk, assert_each_checkin_once, fill_centre

TODAY = dt.date(2026, 3, 2)


def test_pull_holds_only_what_checkin_needs(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url)
    report = kiosk.sync.run_round()
    assert report.error == ""
    with kiosk.sessions() as db:
        patients = db.scalars(select(Patient)).all()
        assert patients and {p.site_id for p in patients} == {"GENK"}
        assert all(p.national_number is None and p.birth_date is None for p in patients)
        assert all(len(p.last_name) <= 1 for p in patients)
        sites = {s for s in db.scalars(select(SessionRow.site_id))}
        assert sites == {"GENK"}
    assert kiosk.bookings_on(TODAY)


def test_pull_is_incremental_and_deletions_propagate(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url)
    first = kiosk.sync.run_round().pull
    assert first is not None and first.rows > 0
    again = kiosk.sync.run_round().pull
    assert again is not None and again.rows == 0 and again.checkpoint == first.checkpoint
    _patient, booking_id, _start = kiosk.bookings_on(TODAY)[0]
    doomed_patient, doomed, _ = kiosk.bookings_on(TODAY)[1]
    engine = make_engine(central_url)
    with session_factory(engine)() as db, db.begin():
        db.execute(
            update(Booking).where(Booking.id == booking_id).values(status=BookingStatus.CANCELLED)
        )
        db.execute(delete(Booking).where(Booking.id == doomed))
    engine.dispose()
    delta = kiosk.sync.run_round().pull
    assert delta is not None and delta.rows >= 1 and delta.deleted == 1
    with kiosk.sessions() as db:
        assert db.get(Booking, booking_id).status == BookingStatus.CANCELLED  # type: ignore[union-attr]
        assert db.get(Booking, doomed) is None
    assert doomed_patient


def test_pull_resumes_after_an_interrupted_write(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url)

    def broken(_read: object) -> object:
        raise ConnectionResetError("cut")

    from sync.pull import pull

    with contextlib.suppress(ConnectionResetError):
        pull(kiosk.sessions, kiosk.sync.central, site_id="GENK", clock=kiosk.clock, run=broken)
    with kiosk.sessions() as db:
        assert db.scalar(select(func.count(Booking.id))) == 0
    assert kiosk.sync.run_round().error == ""
    assert kiosk.bookings_on(TODAY)


def test_push_is_idempotent_and_two_kiosks_give_one_attendance(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    one, two = make_kiosk(central_url, number=1), make_kiosk(central_url, number=2)
    one.sync.run_round()
    two.sync.run_round()
    patient_id, booking_id, starts = one.bookings_on(TODAY)[0]
    for kiosk in (one, two):
        kiosk.checkin.check_in_patient(patient_id, actor="t", note="t", at=starts)
    assert one.check_in_day(TODAY) > 3
    for kiosk in (one, two):
        assert kiosk.sync.run_round().error == ""
    # Send everything again as if no acknowledgement had arrived.
    with one.sessions() as db, db.begin():
        db.execute(update(OutboxEvent).values(sent_at=None))
    again = one.sync.run_round().push
    assert again is not None and again.sent == 0 and again.duplicates > 0
    engine = make_engine(central_url)
    with engine.connect() as conn:
        events = conn.scalar(
            select(func.count(CentralEvent.id)).where(
                CentralEvent.kind == "checkin",
                CentralEvent.payload["booking_id"].as_string() == booking_id,
            )
        )
        assert events == 2
        assert (
            conn.scalar(select(func.count(CheckIn.id)).where(CheckIn.booking_id == booking_id)) == 1
        )
    engine.dispose()
    assert_each_checkin_once(central_url, [one, two])


def test_a_refused_event_is_set_aside_and_does_not_block(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url)
    kiosk.sync.run_round()
    patient_id, _booking, starts = kiosk.bookings_on(TODAY)[0]
    with kiosk.sessions() as db, db.begin():
        db.add(
            OutboxEvent(
                id="00000000-0000-4000-8000-000000000001",
                seq=1,
                created_at=NOW,
                kind="teleport",
                schema_version=1,
                payload={},
                attempts=0,
                last_error="",
                set_aside=False,
            )
        )
    kiosk.checkin.check_in_patient(patient_id, actor="t", note="t", at=starts)
    report = kiosk.sync.run_round()
    assert report.push is not None and list(report.push.refused.values()) == [
        "unknown event kind 'teleport'"
    ]
    with kiosk.sessions() as db:
        row = db.get(OutboxEvent, "00000000-0000-4000-8000-000000000001")
        assert row is not None and row.set_aside and "teleport" in row.last_error
    from sync.status import sync_status

    with kiosk.sessions() as db:
        assert sync_status(db, NOW).set_aside == 1
    assert_each_checkin_once(central_url, [kiosk])


def test_the_replica_keeps_to_what_a_fresh_pull_brings_as_the_window_moves(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    old = make_kiosk(central_url)
    assert old.sync.run_round().error == ""
    attended = old.check_in_day(TODAY, limit=3)
    assert attended == 3 and old.sync.run_round().error == ""
    old.clock.advance(dt.timedelta(days=9))
    report = old.sync.run_round()
    assert report.error == "" and report.pull is not None and report.pull.pruned > 0
    fresh = make_kiosk(central_url, number=2)
    fresh.clock.set(old.clock.now())
    assert fresh.sync.run_round().error == ""

    def held(kiosk: Kiosk) -> dict[str, set[str]]:
        with kiosk.sessions() as db:
            return {
                "sessions": set(db.scalars(select(SessionRow.id))),
                "bookings": set(db.scalars(select(Booking.id))),
                "checkins": set(db.scalars(select(CheckIn.id))),
            }

    before = held(old)
    assert before == held(fresh)
    # Today's attendance of active enrolments stays: progress is counted from it.
    assert len(before["checkins"]) >= attended


def test_a_withdrawn_absence_and_a_lifted_stop_reach_the_centre_and_stay(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url)
    kiosk.sync.run_round()
    patient_id, booking_id, _ = kiosk.bookings_on(TODAY)[0]
    # Check-in open all day, so the patient can still come after the day's closing.
    settings = dataclasses.replace(kiosk.settings, checkin=CheckinWindow(closes_after_minutes=1440))
    kiosk.clock.set(local_day_bounds(TODAY)[1] - dt.timedelta(minutes=30))
    Attendance(kiosk.sessions, programmes, settings, kiosk.clock).close_day(TODAY)
    with kiosk.sessions() as db:
        enrolment_id = db.scalar(select(Booking.enrolment_id).where(Booking.id == booking_id))
    engine = make_engine(central_url)
    # The programme was stopped by absences, on both sides (as an earlier push would leave it).
    stopped = {"status": EnrolmentStatus.STOPPED, "stop_reason": "3 unexcused absences"}
    with kiosk.sessions() as db, db.begin():
        db.execute(update(Enrolment).where(Enrolment.id == enrolment_id).values(**stopped))
    assert kiosk.sync.run_round().error == ""
    with engine.begin() as conn:
        conn.execute(update(Enrolment).where(Enrolment.id == enrolment_id).values(**stopped))
        assert conn.scalar(select(Absence.id).where(Absence.booking_id == booking_id))
    late = CheckinEngine(kiosk.sessions, programmes, settings, kiosk.clock)
    result = late.check_in_patient(patient_id, actor="t", note="t", at=kiosk.clock.now())
    assert result.outcome == "checked_in" and result.booking_id == booking_id
    assert kiosk.sync.run_round().error == ""
    assert kiosk.sync.run_round().error == ""  # a pull after the push brings nothing back
    for connect in (engine.connect, kiosk.engine.connect):
        with connect() as conn:
            assert conn.scalar(select(Absence.id).where(Absence.booking_id == booking_id)) is None
            assert conn.scalar(select(CheckIn.id).where(CheckIn.booking_id == booking_id))
            status = conn.scalar(select(Enrolment.status).where(Enrolment.id == enrolment_id))
            assert status == EnrolmentStatus.ACTIVE
    engine.dispose()


def test_an_undone_cancellation_reaches_the_centre_and_stays_undone(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes)
    kiosk = make_kiosk(central_url)
    kiosk.sync.run_round()
    _, booking_id, _ = kiosk.bookings_on(TODAY)[0]
    attendance = Attendance(kiosk.sessions, programmes, kiosk.settings, kiosk.clock)
    attendance.cancel(booking_id, reason="belde af")
    assert kiosk.sync.run_round().error == ""
    attendance.undo_cancellation(booking_id, reason="verkeerde patiënt", actor="An")
    assert kiosk.sync.run_round().error == ""
    assert kiosk.sync.run_round().error == ""
    engine = make_engine(central_url)
    for connect in (engine.connect, kiosk.engine.connect):
        with connect() as conn:
            assert conn.scalar(select(Booking.status).where(Booking.id == booking_id)) == "booked"
            assert (
                conn.scalar(select(Cancellation.id).where(Cancellation.booking_id == booking_id))
                is None
            )
    engine.dispose()
