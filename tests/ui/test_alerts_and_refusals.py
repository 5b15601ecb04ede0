"""Reception's derived alerts (test moments and consultations due today) and its refusals."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
from pathlib import Path

from kiosk.core.clock import local
from kiosk.core.i18n import translator
from kiosk.db.models import Booking
from kiosk.domain import attendance
from kiosk.domain.alerts import due_today
from kiosk.domain.progress import history_of
from kiosk.domain.today import Status
from kiosk.programme.model import Milestone, Programme
from kiosk.ui.reception_actions import ATTENDANCE_REFUSALS, refusal_reason
from kiosk.ui.screens.reason_prompt import ReasonPrompt
from kiosk.ui.screens.reception import ReceptionScreen
from tests.ui.conftest import NOW, Kiosk, select_row
from tests.ui.waiting import opened, shown_in, until

TITLE = {"nl": "Testmoment X", "fr": "Test X", "en": "Test moment X", "de": "Testtermin X"}
AFTER = {"nl": "consultatie", "fr": "consultation", "en": "a consultation", "de": "Sprechstunde"}


def with_milestone_for(kiosk: Kiosk, patient_id: str) -> tuple[dict[str, Programme], str]:
    """The programmes with a milestone at the session the patient has next today."""
    with kiosk.context.sessions() as db:
        assert due_today(db, site_id="GENK", day=NOW.date(), programmes={}) == []
    for session in kiosk.day():
        for person in session.attendees:
            if person.patient_id != patient_id:
                continue
            programme = kiosk.context.programmes[session.programme_code]
            phase = programme.phase_of(session.kind)
            with kiosk.context.sessions() as db:
                booking = db.get(Booking, person.booking_id)
                assert booking is not None
                done = history_of(db, booking.enrolment_id).attended_count(
                    phase, before=session.starts_at
                )
            changed = dataclasses.replace(phase, milestones=(Milestone(done + 1, TITLE, AFTER),))
            phases = tuple(changed if p.key == phase.key else p for p in programme.phases)
            programmes = {
                **kiosk.context.programmes,
                programme.code: dataclasses.replace(programme, phases=phases),
            }
            return programmes, person.last_name
    raise AssertionError("patient not found today")


def test_the_milestone_session_of_an_enrolment_is_due(kiosk: Kiosk) -> None:
    patient, _ = kiosk.expected_patient()
    programmes, last_name = with_milestone_for(kiosk, patient)
    with kiosk.context.sessions() as db:
        due = due_today(db, site_id="GENK", day=local(NOW).date(), programmes=programmes)
        plain = due_today(
            db, site_id="GENK", day=local(NOW).date(), programmes=kiosk.context.programmes
        )
    mine = [d for d in due if d.kind == "milestone" and last_name in d.patient_name]
    assert mine and mine[0].title == TITLE and mine[0].followed_by == AFTER
    assert not [d for d in plain if d.kind == "milestone" and last_name in d.patient_name]
    assert [d.starts_at for d in due] == sorted(d.starts_at for d in due)


def test_consultations_today_are_due(kiosk: Kiosk) -> None:
    day = local(NOW).date()
    with kiosk.context.sessions() as db:
        for offset in range(7):
            due = due_today(
                db,
                site_id="GENK",
                day=day + dt.timedelta(days=offset),
                programmes=kiosk.context.programmes,
            )
            consultations = [d for d in due if d.kind == "consultation"]
            if consultations:
                assert consultations[0].title["en"]
                return
    raise AssertionError("the demo has no consultation in a week")


async def test_reception_lists_what_is_due_today(kiosk: Kiosk) -> None:
    patient, _ = kiosk.expected_patient()
    programmes, last_name = with_milestone_for(kiosk, patient)
    kiosk.context.programmes = programmes
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReceptionScreen)
        await shown_in(pilot, "#alerts", last_name, "Vandaag: Testmoment X, daarna consultatie")


def test_every_attendance_refusal_is_in_the_catalogues() -> None:
    modules = sorted(Path(attendance.__file__).parent.glob("*.py"))
    raised = {
        node.args[0].value
        for module in modules
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "AttendanceError"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert raised and raised <= ATTENDANCE_REFUSALS
    french = translator("fr")
    assert refusal_reason(attendance.AttendanceError("no such booking"), french) == (
        "cette réservation n'existe pas"
    )
    assert refusal_reason(attendance.AttendanceError("new words"), french) == "new words"


async def test_a_refused_action_is_said_in_the_staff_language(kiosk: Kiosk) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReceptionScreen)
        await until(pilot, lambda: bool(screen.sessions))
        booking = next(
            p.booking_id
            for s in screen.sessions
            for p in s.attendees
            if p.status == Status.EXPECTED
        )
        select_row(screen, booking)
        await pilot.press("u")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"vergissing", "enter")
        expected = "Niet gedaan: er is niets ongedaan te maken bij deze boeking"
        await until(pilot, lambda: any(n.message == expected for n in app._notifications))
