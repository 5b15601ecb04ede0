"""Closing the day, cancellations and their fee, excused absences, undoing a check-in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.core.clock import SettableClock
from kiosk.core.config import CheckinWindow
from kiosk.db.models import (
    Absence,
    Alert,
    AuditEntry,
    Cancellation,
    CheckIn,
    Enrolment,
    OutboxEvent,
    ProgrammeRow,
    Site,
)
from kiosk.domain.attendance import AttendanceError
from kiosk.domain.context import open_context
from kiosk.domain.today import Status, day_view
from tests.domain.conftest import MONDAY, Centre, local_time, settings_for


def close(centre: Centre, day: dt.date) -> None:
    centre.clock.set(local_time(day, "20:00"))
    centre.context.attendance().close_day(day)


def test_closing_a_day_turns_no_shows_into_unexcused_absences(centre: Centre) -> None:
    came_nn, came = centre.patient(first_name="Jan")
    _, absent = centre.patient(first_name="Luc")
    _, cancelled = centre.patient(first_name="Ilse")
    centre.book(came, local_time(MONDAY, "13:00"))
    centre.book(absent, local_time(MONDAY, "13:00"))
    booking = centre.book(cancelled, local_time(MONDAY, "13:00"))
    centre.clock.set(local_time(MONDAY - dt.timedelta(days=2), "10:00"))
    centre.context.attendance().cancel(booking)
    centre.tap(came_nn, local_time(MONDAY, "12:50"))
    centre.clock.set(local_time(MONDAY, "20:00"))
    closed = centre.context.attendance().close_day(MONDAY)
    again = centre.context.attendance().close_day(MONDAY)
    assert (closed.absences, closed.stopped_enrolments) == (1, 0)
    assert (again.absences, again.already_closed) == (0, 1)
    with centre.context.sessions() as db:
        (absence,) = db.scalars(select(Absence)).all()
        assert absence.enrolment_id == absent
        assert not absence.excused
        assert "absence" in db.scalars(select(OutboxEvent.kind)).all()
        statuses = {
            a.first_name: a.status
            for s in day_view(
                db,
                site_id="GENK",
                day=MONDAY,
                now=centre.clock.now(),
                programmes=centre.context.programmes,
                window=centre.context.settings.checkin,
            )
            for a in s.attendees
        }
    assert statuses == {"Jan": Status.ARRIVED, "Luc": Status.ABSENT, "Ilse": Status.CANCELLED}


def test_the_third_unexcused_absence_stops_the_programme_and_alerts_reception(
    centre: Centre,
) -> None:
    nn, enrolment = centre.patient()
    days = [MONDAY, MONDAY + dt.timedelta(days=2), MONDAY + dt.timedelta(days=7)]
    for day in days:
        centre.book(enrolment, local_time(day, "13:00"))
    for day in days[:2]:
        close(centre, day)
    with centre.context.sessions() as db:
        kinds = db.scalars(select(Alert.kind)).all()
    assert kinds == ["absences_warning"]
    centre.clock.set(local_time(days[2], "20:00"))
    closed = centre.context.attendance().close_day(days[2])
    assert closed.stopped_enrolments == 1
    with centre.context.sessions() as db:
        row = db.get(Enrolment, enrolment)
        assert row is not None and row.status == "stopped"
        assert db.scalars(select(Alert.kind).order_by(Alert.raised_at)).all() == [
            "absences_warning",
            "programme_stopped",
        ]
    centre.book(enrolment, local_time(days[2] + dt.timedelta(days=2), "13:00"))
    result = centre.tap(nn, local_time(days[2] + dt.timedelta(days=2), "12:45"))
    assert result.outcome == "programme_stopped"


def test_an_excused_absence_does_not_count(centre: Centre) -> None:
    _, enrolment = centre.patient()
    days = [MONDAY + dt.timedelta(days=d) for d in (0, 2, 7)]
    bookings = [centre.book(enrolment, local_time(day, "13:00")) for day in days]
    close(centre, days[0])
    close(centre, days[1])
    centre.context.attendance().excuse(bookings[0], reason="hospital admission")
    close(centre, days[2])
    with centre.context.sessions() as db:
        row = db.get(Enrolment, enrolment)
        assert row is not None and row.status == "active"
    with pytest.raises(AttendanceError, match="needs a reason"):
        centre.context.attendance().excuse(bookings[1], reason=" ")


@pytest.mark.parametrize(
    ("hours_before", "fee"), [(25, 0), (24, 0), (23, 2900), (1, 2900), (-1, 2900)]
)
def test_cancellation_fee_depends_on_the_notice(
    centre: Centre, hours_before: int, fee: int
) -> None:
    _, enrolment = centre.patient()
    start = local_time(MONDAY, "13:00")
    booking = centre.book(enrolment, start)
    centre.clock.set(start - dt.timedelta(hours=hours_before))
    cancellation = centre.context.attendance().cancel(booking, reason="ill")
    assert cancellation.fee_cents == fee
    with pytest.raises(AttendanceError, match="already cancelled"):
        centre.context.attendance().cancel(booking)


def test_the_back_and_neck_programme_charges_no_fee(centre: Centre) -> None:
    _, enrolment = centre.patient("back-and-neck")
    start = local_time(MONDAY, "09:00")
    booking = centre.book(enrolment, start, kind="core1")
    centre.clock.set(start - dt.timedelta(hours=2))
    assert centre.context.attendance().cancel(booking).fee_cents == 0


def test_a_cancellation_after_closing_replaces_the_absence(centre: Centre) -> None:
    _, enrolment = centre.patient()
    booking = centre.book(enrolment, local_time(MONDAY, "13:00"))
    close(centre, MONDAY)
    centre.context.attendance().cancel(booking, reason="called in the morning")
    with centre.context.sessions() as db:
        assert db.scalars(select(Absence)).all() == []
        assert db.scalars(select(Cancellation)).one().fee_cents == 2900


def test_undo_check_in(centre: Centre) -> None:
    nn, enrolment = centre.patient()
    booking = centre.book(enrolment, local_time(MONDAY, "13:00"))
    centre.tap(nn, local_time(MONDAY, "12:50"))
    centre.context.attendance().undo_checkin(booking)
    with centre.context.sessions() as db:
        assert db.scalars(select(CheckIn)).all() == []
        assert "checkin_undone" in db.scalars(select(OutboxEvent.kind)).all()
    with pytest.raises(AttendanceError, match="no check-in"):
        centre.context.attendance().undo_checkin(booking)
    assert centre.tap(nn, local_time(MONDAY, "12:55")).outcome == "checked_in"


def test_cannot_cancel_after_check_in(centre: Centre) -> None:
    nn, enrolment = centre.patient()
    booking = centre.book(enrolment, local_time(MONDAY, "13:00"))
    centre.tap(nn, local_time(MONDAY, "12:50"))
    with pytest.raises(AttendanceError, match="already checked in"):
        centre.context.attendance().cancel(booking)


def statuses_on(centre: Centre, day: dt.date) -> dict[str, Status]:
    """First name -> status in the day view at the centre's clock."""
    with centre.context.sessions() as db:
        return {
            a.first_name: a.status
            for s in day_view(
                db,
                site_id="GENK",
                day=day,
                now=centre.clock.now(),
                programmes=centre.context.programmes,
                window=centre.context.settings.checkin,
            )
            for a in s.attendees
        }


def test_closing_early_closes_only_the_sessions_that_have_ended(centre: Centre) -> None:
    _, early = centre.patient(first_name="Jan")
    _, later = centre.patient(first_name="Luc")
    centre.book(early, local_time(MONDAY, "08:30"))
    centre.book(later, local_time(MONDAY, "10:00"))
    centre.clock.set(local_time(MONDAY, "08:21"))
    closed = centre.context.attendance().close_day(MONDAY)
    assert (closed.absences, closed.not_over) == (0, 2)
    assert statuses_on(centre, MONDAY) == {"Jan": Status.EXPECTED, "Luc": Status.EXPECTED}
    # 08:30 ends at 10:30: closing at 11:00 records it and leaves the 10:00 one (until 12:00).
    centre.clock.set(local_time(MONDAY, "11:00"))
    closed = centre.context.attendance().close_day(MONDAY)
    assert (closed.absences, closed.not_over) == (1, 1)
    assert statuses_on(centre, MONDAY)["Jan"] == Status.ABSENT
    with centre.context.sessions() as db:
        assert len(db.scalars(select(Absence)).all()) == 1


def test_a_day_that_has_not_begun_cannot_be_closed(centre: Centre) -> None:
    _, enrolment = centre.patient()
    centre.book(enrolment, local_time(MONDAY + dt.timedelta(days=1), "08:30"))
    centre.clock.set(local_time(MONDAY, "23:59"))
    attendance = centre.context.attendance()
    for action in (attendance.close_day, attendance.preview_close_day):
        with pytest.raises(AttendanceError, match="has not begun"):
            action(MONDAY + dt.timedelta(days=1))
    with centre.context.sessions() as db:
        assert db.scalars(select(Absence)).all() == []


def test_the_preview_says_how_many_absences_and_which_programmes_would_stop(
    centre: Centre,
) -> None:
    _, twice = centre.patient(first_name="Jan", last_name="Janssens")
    _, once = centre.patient(first_name="Luc", last_name="Claes")
    for day in (MONDAY - dt.timedelta(days=5), MONDAY - dt.timedelta(days=3)):
        centre.book(twice, local_time(day, "13:00"))
        close(centre, day)
    centre.book(twice, local_time(MONDAY, "13:00"))
    centre.book(once, local_time(MONDAY, "13:00"))
    centre.book(once, local_time(MONDAY, "17:00"))
    centre.clock.set(local_time(MONDAY, "16:00"))
    attendance = centre.context.attendance()
    preview = attendance.preview_close_day(MONDAY)
    assert (preview.absences, preview.not_over) == (2, 1)
    assert [(s.patient_name, s.programme_title["nl"]) for s in preview.stops] == [
        ("Jan Janssens", centre.context.programmes["rugrevalidatie"].title["nl"])
    ]
    with centre.context.sessions() as db:
        before = db.scalars(select(Absence)).all()
    assert len(before) == 2  # the preview writes nothing
    closed = attendance.close_day(MONDAY)
    assert (closed.absences, closed.stopped_enrolments, closed.not_over) == (2, 1, 1)


def stopped_by_three_absences(centre: Centre, last: dt.date) -> tuple[str, str, str]:
    """A patient whose third absence, on ``last`` at 08:30, stopped the programme:
    (national number, enrolment, the booking of that third absence)."""
    nn, enrolment = centre.patient(first_name="Jan")
    for day in (last - dt.timedelta(days=5), last - dt.timedelta(days=3)):
        centre.book(enrolment, local_time(day, "13:00"))
        close(centre, day)
    booking = centre.book(enrolment, local_time(last, "08:30"))
    centre.clock.set(local_time(last, "10:31"))
    assert centre.context.attendance().close_day(last).stopped_enrolments == 1
    return nn, enrolment, booking


def outbox_kinds(centre: Centre) -> list[str]:
    with centre.context.sessions() as db:
        return list(db.scalars(select(OutboxEvent.kind).order_by(OutboxEvent.seq)))


def test_excusing_the_absence_that_stopped_the_programme_lifts_the_stop(centre: Centre) -> None:
    nn, enrolment, booking = stopped_by_three_absences(centre, MONDAY)
    centre.context.attendance().excuse(booking, reason="doktersbriefje")
    with centre.context.sessions() as db:
        row = db.get(Enrolment, enrolment)
        assert row is not None
        assert (row.status, row.stopped_at, row.stop_reason) == ("active", None, "")
    assert outbox_kinds(centre)[-4:] == ["absence", "enrolment_resumed", "alert_resolved", "audit"]
    centre.book(enrolment, local_time(MONDAY + dt.timedelta(days=2), "13:00"))
    assert centre.tap(nn, local_time(MONDAY + dt.timedelta(days=2), "12:50")).outcome == (
        "checked_in"
    )


def test_a_stop_by_the_physician_is_not_lifted_by_an_excuse(centre: Centre) -> None:
    _, enrolment, booking = stopped_by_three_absences(centre, MONDAY)
    with centre.context.sessions() as db, db.begin():
        row = db.get(Enrolment, enrolment)
        assert row is not None
        row.stop_reason = "physician: alternative plan"
    centre.context.attendance().excuse(booking, reason="doktersbriefje")
    with centre.context.sessions() as db:
        row = db.get(Enrolment, enrolment)
        assert row is not None and row.status == "stopped"


@pytest.fixture
def late_window_centre(tmp_path: Path, clock: SettableClock) -> Iterator[Centre]:
    """A centre whose check-in stays open 3 hours after the start: a patient can tap in after
    the session's end, when the day's closing already recorded the absence."""
    settings = settings_for(tmp_path, checkin=CheckinWindow(closes_after_minutes=180))
    context = open_context(settings, clock=clock, create=True)
    with context.sessions() as db, db.begin():
        db.add(Site(id="GENK", name="Campus Genk"))
        for programme in context.programmes.values():
            db.add(ProgrammeRow(code=programme.code, name=programme.title["en"]))
    yield Centre(context, clock)
    context.close()


def test_a_check_in_for_a_closed_session_replaces_its_absence_and_lifts_the_stop(
    late_window_centre: Centre,
) -> None:
    centre = late_window_centre
    nn, enrolment, booking = stopped_by_three_absences(centre, MONDAY)
    result = centre.tap(nn, local_time(MONDAY, "10:45"))
    assert result.outcome == "checked_in"
    with centre.context.sessions() as db:
        assert (
            db.scalars(select(Absence.booking_id).where(Absence.booking_id == booking)).all() == []
        )
        row = db.get(Enrolment, enrolment)
        assert row is not None and row.status == "active"
        assert db.scalars(select(CheckIn.booking_id)).all() == [booking]
    kinds = outbox_kinds(centre)
    assert (
        kinds.index("absence_withdrawn") < kinds.index("enrolment_resumed") < kinds.index("checkin")
    )
    assert statuses_on(centre, MONDAY) == {"Jan": Status.LATE}


def audit_of(centre: Centre, action: str) -> list[tuple[str, str, dict[str, object]]]:
    with centre.context.sessions() as db:
        return [
            (a.actor, a.outcome, dict(a.detail))
            for a in db.scalars(select(AuditEntry).where(AuditEntry.action == action))
        ]


def test_a_cancellation_can_be_undone_with_who_and_why(centre: Centre) -> None:
    nn, enrolment = centre.patient(first_name="Jan")
    booking = centre.book(enrolment, local_time(MONDAY, "13:00"))
    centre.clock.set(local_time(MONDAY, "09:00"))
    attendance = centre.context.attendance()
    assert attendance.cancel(booking).fee_cents == 2900
    with pytest.raises(AttendanceError, match="needs a reason"):
        attendance.undo_cancellation(booking, reason=" ")
    attendance.undo_cancellation(booking, reason="wrong patient", actor="An")
    with pytest.raises(AttendanceError, match="not cancelled"):
        attendance.undo_cancellation(booking, reason="again")
    with centre.context.sessions() as db:
        assert db.scalars(select(Cancellation)).all() == []
    assert audit_of(centre, "undo_cancel") == [("An", "undone", {"reason": "wrong patient"})]
    assert outbox_kinds(centre)[-2:] == ["cancellation_undone", "audit"]
    assert centre.tap(nn, local_time(MONDAY, "12:50")).outcome == "checked_in"


def test_an_excuse_can_be_undone_and_the_absence_counts_again(centre: Centre) -> None:
    _, enrolment, booking = stopped_by_three_absences(centre, MONDAY)
    attendance = centre.context.attendance()
    attendance.excuse(booking, reason="doktersbriefje")
    attendance.undo_excuse(booking, reason="briefje was voor een andere dag", actor="An")
    with pytest.raises(AttendanceError, match="not excused"):
        attendance.undo_excuse(booking, reason="again")
    with centre.context.sessions() as db:
        row = db.get(Enrolment, enrolment)
        assert row is not None and row.status == "stopped"
    assert audit_of(centre, "undo_excuse") == [
        ("An", "undone_stopped", {"reason": "briefje was voor een andere dag"})
    ]


def test_an_absence_corrected_to_present_is_a_check_in_and_lifts_the_stop(centre: Centre) -> None:
    _, enrolment, booking = stopped_by_three_absences(centre, MONDAY)
    attendance = centre.context.attendance()
    with pytest.raises(AttendanceError, match="needs a reason"):
        attendance.mark_present(booking, reason="")
    checkin = attendance.mark_present(booking, reason="was in de zaal, kaart vergeten", actor="An")
    assert checkin.identity_method == "manual"
    with pytest.raises(AttendanceError, match="no absence"):
        attendance.mark_present(booking, reason="again")
    with centre.context.sessions() as db:
        row = db.get(Enrolment, enrolment)
        assert row is not None and row.status == "active"
        assert db.scalars(
            select(Alert.resolved_by).where(Alert.kind == "programme_stopped")
        ).all() == ["An"]
    assert statuses_on(centre, MONDAY) == {"Jan": Status.ARRIVED}
    assert audit_of(centre, "mark_present") == [
        ("An", "present_stop_lifted", {"reason": "was in de zaal, kaart vergeten"})
    ]
    kinds = outbox_kinds(centre)
    assert kinds.index("absence_withdrawn") < kinds.index("enrolment_resumed")


def test_a_stopped_programme_resumes_on_the_physicians_decision(centre: Centre) -> None:
    nn, enrolment, _ = stopped_by_three_absences(centre, MONDAY)
    attendance = centre.context.attendance()
    with pytest.raises(AttendanceError, match="physician's decision"):
        attendance.resume(enrolment, reason="")
    attendance.resume(enrolment, reason="dr. Claes: verder na gesprek", actor="An")
    with pytest.raises(AttendanceError, match="not stopped"):
        attendance.resume(enrolment, reason="again")
    assert audit_of(centre, "resume") == [
        ("An", "resumed", {"enrolment_id": enrolment, "reason": "dr. Claes: verder na gesprek"})
    ]
    day = MONDAY + dt.timedelta(days=2)
    centre.book(enrolment, local_time(day, "13:00"))
    assert centre.tap(nn, local_time(day, "12:50")).outcome == "checked_in"


def test_the_fee_follows_from_the_moment_the_patient_called(centre: Centre) -> None:
    _, enrolment = centre.patient()
    in_time = centre.book(enrolment, local_time(MONDAY, "13:00"))
    late = centre.book(enrolment, local_time(MONDAY + dt.timedelta(days=2), "13:00"))
    attendance = centre.context.attendance()
    # Reception types it on Monday morning; the patient phoned on Saturday.
    centre.clock.set(local_time(MONDAY, "09:00"))
    saturday = local_time(MONDAY - dt.timedelta(days=2), "10:00")
    cancelled = attendance.cancel(in_time, called_at=saturday, reason="griep")
    assert (cancelled.fee_cents, cancelled.cancelled_at) == (0, saturday)
    assert cancelled.notice_minutes == 2 * 24 * 60 + 3 * 60
    # Recorded ahead of time for Wednesday, but the call came only on Tuesday at 14:00.
    centre.clock.set(local_time(MONDAY + dt.timedelta(days=1), "15:00"))
    called = local_time(MONDAY + dt.timedelta(days=1), "14:00")
    assert attendance.cancel(late, called_at=called).fee_cents == 2900
    with pytest.raises(AttendanceError, match="future"):
        attendance.cancel(late, called_at=centre.clock.now() + dt.timedelta(minutes=5))


def test_reception_admits_a_refused_patient_with_a_reason_that_is_kept(centre: Centre) -> None:
    nn, enrolment = centre.patient(first_name="Jan")
    booking = centre.book(enrolment, local_time(MONDAY, "13:00"))
    assert centre.tap(nn, local_time(MONDAY, "13:21")).outcome == "too_late"
    attendance = centre.context.attendance()
    with pytest.raises(AttendanceError, match="needs a reason"):
        attendance.admit(booking, reason="")
    admitted = attendance.admit(booking, reason="parking vol, 21 min te laat", actor="An")
    assert admitted.late and admitted.short_code is not None
    with centre.context.sessions() as db:
        checkin = db.get(CheckIn, admitted.checkin_id)
        assert checkin is not None
        assert checkin.identity_note == "admitted: parking vol, 21 min te laat"
    assert audit_of(centre, "admit") == [
        ("An", "admitted", {"reason": "parking vol, 21 min te laat"})
    ]
    assert statuses_on(centre, MONDAY) == {"Jan": Status.LATE}
    with pytest.raises(AttendanceError, match="already checked in"):
        attendance.admit(booking, reason="again")


def test_undo_takes_back_what_was_last_recorded(centre: Centre) -> None:
    nn, enrolment = centre.patient(first_name="Jan")
    booking = centre.book(enrolment, local_time(MONDAY, "13:00"))
    attendance = centre.context.attendance()
    with pytest.raises(AttendanceError, match="nothing to undo"):
        attendance.undo(booking, reason="test")
    centre.tap(nn, local_time(MONDAY, "12:50"))
    assert attendance.undo(booking, reason="verkeerde kaart") == "checkin"
    attendance.cancel(booking)
    assert attendance.undo(booking, reason="toch niet") == "cancellation"
    centre.clock.set(local_time(MONDAY, "20:00"))
    attendance.close_day(MONDAY)
    attendance.excuse(booking, reason="ziek")
    assert attendance.undo(booking, reason="geen briefje") == "excuse"
    assert statuses_on(centre, MONDAY) == {"Jan": Status.ABSENT}
    assert audit_of(centre, "undo_checkin") == [
        ("reception", "undone", {"reason": "verkeerde kaart"})
    ]


def test_a_patient_refused_at_the_kiosk_gets_no_absence(centre: Centre) -> None:
    nn, enrolment = centre.patient(first_name="Jan")
    _, other = centre.patient(first_name="Luc")
    booking = centre.book(enrolment, local_time(MONDAY, "13:00"))
    centre.book(other, local_time(MONDAY, "13:00"))
    assert centre.tap(nn, local_time(MONDAY, "13:21")).outcome == "too_late"
    centre.clock.set(local_time(MONDAY, "20:00"))
    attendance = centre.context.attendance()
    assert attendance.preview_close_day(MONDAY).refused == 1
    closed = attendance.close_day(MONDAY)
    assert (closed.absences, closed.refused) == (1, 1)
    with centre.context.sessions() as db:
        assert (
            db.scalars(select(Absence.booking_id).where(Absence.booking_id == booking)).all() == []
        )
    # Reception decides: here it admits the patient after all.
    attendance.admit(booking, reason="21 minuten te laat, parking vol")
    assert statuses_on(centre, MONDAY)["Jan"] == Status.LATE
