"""The check-in rules, one test each, on a real SQLite database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from kiosk.db.models import (
    Alert,
    AuditEntry,
    CheckIn,
    Enrolment,
    EnrolmentStatus,
    OutboxEvent,
    ParkingTicket,
)
from kiosk.domain.checkin import IdentityEvidence
from tests.domain.conftest import MONDAY, Centre, local_time


def count(centre: Centre, model: type) -> int:
    with centre.context.sessions() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_unknown_patient_shows_nothing_and_records_only_an_audit_entry(centre: Centre) -> None:
    result = centre.tap("85073003328", local_time(MONDAY, "09:00"))
    assert result.outcome == "unknown_patient"
    assert result.display_name == ""
    assert result.session is None
    assert count(centre, CheckIn) == 0
    with centre.context.sessions() as db:
        entry = db.scalars(select(AuditEntry)).one()
        assert entry.outcome == "unknown_patient"
        assert entry.patient_id is None
        kinds = db.scalars(select(OutboxEvent.kind)).all()
    assert kinds == ["audit"]


def test_open_window_checks_in_with_what_the_patient_needs(centre: Centre) -> None:
    nn, enrolment = centre.patient(first_name="Zoë Marie", last_name="Van de Velde")
    centre.book(enrolment, local_time(MONDAY, "10:00"))
    result = centre.tap(nn, local_time(MONDAY, "09:20"))
    assert result.outcome == "checked_in"
    assert result.display_name == "Zoë V."
    assert result.session is not None
    assert result.session.kind == "group"
    assert result.session.room == "Zaal 1"
    assert result.session.starts_at == local_time(MONDAY, "10:00")
    assert result.progress is not None
    assert (result.progress.phase, result.progress.number, result.progress.total) == (
        "group",
        1,
        36,
    )
    assert [s.title["en"] for s in result.specials] == ["Test moment 1"]
    assert not result.late
    assert result.parking is not None
    assert result.parking.payload.startswith("RK1:K1:GENK:01")
    # Group session of 120 minutes ending 12:00, plus 60 minutes' grace.
    assert result.parking.expires_at == local_time(MONDAY, "13:00")
    with centre.context.sessions() as db:
        kinds = sorted(db.scalars(select(OutboxEvent.kind)).all())
        checkin = db.scalars(select(CheckIn)).one()
    assert checkin.identity_method == "chip"
    assert {"checkin", "audit"} <= set(kinds)


def test_after_the_start_the_check_in_is_recorded_as_late(centre: Centre) -> None:
    nn, enrolment = centre.patient()
    centre.book(enrolment, local_time(MONDAY, "10:00"))
    result = centre.tap(nn, local_time(MONDAY, "10:15"))
    assert result.outcome == "checked_in"
    assert result.late


def test_the_same_card_again_gives_the_same_outcome_and_no_second_check_in(
    centre: Centre,
) -> None:
    nn, enrolment = centre.patient()
    centre.book(enrolment, local_time(MONDAY, "10:00"))
    first = centre.tap(nn, local_time(MONDAY, "09:30"))
    again = centre.tap(nn, local_time(MONDAY, "09:31"))
    later = centre.tap(nn, local_time(MONDAY, "11:45"))
    assert again.outcome == later.outcome == "already_checked_in"
    assert again.parking == first.parking == later.parking
    assert again.progress == first.progress
    assert count(centre, CheckIn) == 1
    assert count(centre, ParkingTicket) == 1


@pytest.mark.parametrize(
    ("moment", "outcome"),
    [("09:14", "too_early"), ("10:21", "too_late"), ("16:00", "too_late")],
)
def test_outside_the_window_nothing_is_recorded_but_an_audit_entry(
    centre: Centre, moment: str, outcome: str
) -> None:
    nn, enrolment = centre.patient()
    centre.book(enrolment, local_time(MONDAY, "10:00"))
    result = centre.tap(nn, local_time(MONDAY, moment))
    assert result.outcome == outcome
    assert not result.outcome.admitted
    if outcome == "too_early":
        assert result.opens_at == local_time(MONDAY, "09:15")
    assert count(centre, CheckIn) == 0
    assert count(centre, ParkingTicket) == 0
    assert count(centre, AuditEntry) == 1


def test_no_booking_today(centre: Centre) -> None:
    nn, enrolment = centre.patient()
    centre.book(enrolment, local_time(MONDAY + dt.timedelta(days=2), "10:00"))
    assert centre.tap(nn, local_time(MONDAY, "09:30")).outcome == "no_booking"


def test_cancelled_booking(centre: Centre) -> None:
    nn, enrolment = centre.patient()
    booking = centre.book(enrolment, local_time(MONDAY, "10:00"))
    centre.clock.set(local_time(MONDAY - dt.timedelta(days=3), "09:00"))
    centre.context.attendance().cancel(booking, reason="ill")
    assert centre.tap(nn, local_time(MONDAY, "09:30")).outcome == "booking_cancelled"


def test_stopped_programme_is_refused(centre: Centre) -> None:
    nn, enrolment = centre.patient(status=EnrolmentStatus.STOPPED)
    centre.book(enrolment, local_time(MONDAY, "10:00"))
    assert centre.tap(nn, local_time(MONDAY, "09:30")).outcome == "programme_stopped"


def test_stopped_programme_without_booking_says_so(centre: Centre) -> None:
    nn, _ = centre.patient(status=EnrolmentStatus.STOPPED)
    assert centre.tap(nn, local_time(MONDAY, "09:30")).outcome == "programme_stopped"


def test_finished_programme_is_refused(centre: Centre) -> None:
    nn, enrolment = centre.patient(status=EnrolmentStatus.FINISHED)
    centre.book(enrolment, local_time(MONDAY, "10:00"))
    assert centre.tap(nn, local_time(MONDAY, "09:30")).outcome == "programme_finished"


def test_the_group_sessions_leave_their_places_to_the_information_sessions(
    centre: Centre,
) -> None:
    nn, enrolment = centre.patient(started_on=MONDAY - dt.timedelta(weeks=30))
    centre.group_history(nn, enrolment, 34, until=MONDAY)
    centre.book(enrolment, local_time(MONDAY, "10:00"))
    assert centre.tap(nn, local_time(MONDAY, "09:30")).outcome == "phase_complete"
    centre.attend(nn, enrolment, local_time(MONDAY, "14:00"), kind="info_ergo")
    tuesday = MONDAY + dt.timedelta(days=1)
    centre.book(enrolment, local_time(tuesday, "13:00"), kind="info_psy")
    last = centre.tap(nn, local_time(tuesday, "12:50"))
    assert last.outcome == "checked_in"
    assert last.progress is not None and (last.progress.number, last.progress.total) == (36, 36)
    with centre.context.sessions() as db:
        row = db.get(Enrolment, enrolment)
        assert row is not None and row.status == EnrolmentStatus.FINISHED
    centre.book(enrolment, local_time(tuesday + dt.timedelta(days=1), "13:00"))
    later = centre.tap(nn, local_time(tuesday + dt.timedelta(days=1), "12:50"))
    assert later.outcome == "programme_finished"


def test_past_the_six_month_deadline_is_refused(centre: Centre) -> None:
    nn, enrolment = centre.patient(started_on=MONDAY - dt.timedelta(weeks=40))
    first = MONDAY - dt.timedelta(weeks=27)
    centre.attend(nn, enrolment, local_time(first, "13:00"))
    centre.book(enrolment, local_time(MONDAY, "10:00"))
    assert centre.tap(nn, local_time(MONDAY, "09:30")).outcome == "deadline_passed"


def test_past_the_weekly_maximum_reception_is_alerted(centre: Centre) -> None:
    nn, enrolment = centre.patient()
    centre.attend(nn, enrolment, local_time(MONDAY, "08:30"))
    centre.attend(nn, enrolment, local_time(MONDAY + dt.timedelta(days=1), "13:00"))
    centre.book(enrolment, local_time(MONDAY + dt.timedelta(days=2), "13:00"))
    result = centre.tap(nn, local_time(MONDAY + dt.timedelta(days=2), "12:30"))
    # Booked and present: checked in, and reception judges the third session of the week.
    assert result.outcome == "checked_in"
    with centre.context.sessions() as db:
        kinds = db.scalars(select(Alert.kind)).all()
    assert kinds == ["check_booking"]


def test_two_bookings_the_same_day_pick_the_open_window(centre: Centre) -> None:
    nn, enrolment = centre.patient()
    centre.book(enrolment, local_time(MONDAY, "08:30"), kind="group")
    centre.book(enrolment, local_time(MONDAY, "14:00"), kind="info_ergo")
    afternoon = centre.tap(nn, local_time(MONDAY, "13:30"))
    assert afternoon.outcome == "checked_in"
    assert afternoon.session is not None
    assert afternoon.session.kind == "info_ergo"
    # An information session is never a test moment, even as the first session.
    assert [s.code for s in afternoon.specials] == ["info_session"]


def test_test_moment_two_announces_the_interim_consultation(centre: Centre) -> None:
    nn, enrolment = centre.patient(started_on=MONDAY - dt.timedelta(weeks=20))
    centre.group_history(nn, enrolment, 17, until=MONDAY)
    centre.book(enrolment, local_time(MONDAY, "13:00"))
    result = centre.tap(nn, local_time(MONDAY, "12:40"))
    assert result.outcome == "checked_in"
    assert result.progress is not None and result.progress.number == 18
    (special,) = result.specials
    assert special.title["en"] == "Test moment 2"
    assert special.followed_by is not None
    assert "interim consultation" in special.followed_by["en"]


def test_reminders_info_sessions_absences_and_deadline(centre: Centre) -> None:
    nn, enrolment = centre.patient(started_on=MONDAY - dt.timedelta(weeks=30))
    first = MONDAY - dt.timedelta(weeks=25)
    centre.attend(nn, enrolment, local_time(first, "13:00"))
    centre.book(enrolment, local_time(first + dt.timedelta(days=2), "13:00"))
    centre.clock.set(local_time(first + dt.timedelta(days=2), "20:00"))
    centre.context.attendance().close_day(first + dt.timedelta(days=2))
    centre.book(enrolment, local_time(MONDAY, "13:00"))
    result = centre.tap(nn, local_time(MONDAY, "12:40"))
    assert result.outcome == "checked_in"
    codes = {r.code: r for r in result.reminders}
    assert set(codes) == {"register_info_session", "absences", "deadline_close", "bring"}
    assert (codes["absences"].count, codes["absences"].limit) == (1, 3)
    assert codes["deadline_close"].count == 34
    # Six calendar months after the first group session (2025-09-08).
    assert codes["deadline_close"].date == dt.date(2026, 3, 8)


def test_evidence_never_shows_the_number_in_its_repr() -> None:
    evidence = IdentityEvidence("85.07.30-033.28", method="chip")
    assert evidence.national_number == "85073003328"
    assert "85073003328" not in repr(evidence)
