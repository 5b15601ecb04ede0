"""Reception on the real demo database: the day, live updates, and every action."""

from __future__ import annotations

import csv
import datetime as dt
import re
from typing import cast

import pytest
from textual.widgets import DataTable, OptionList

from kiosk.core.clock import local
from kiosk.db.models import Enrolment, EnrolmentStatus, Patient
from kiosk.domain.today import Status
from kiosk.ui.screens.confirm import ConfirmScreen
from kiosk.ui.screens.manual_checkin import ManualCheckinScreen
from kiosk.ui.screens.reason_prompt import ReasonPrompt
from tests.ui.conftest import Kiosk, select_row
from tests.ui.reception_steps import (
    answer_called_at,
    booking_of,
    day_shown,
    manual_check_in,
    open_reception,
    pick,
    reception,
    status_of,
)
from tests.ui.waiting import label, opened, shown_in, until


async def test_day_by_start_time_with_counts_and_alerts(kiosk: Kiosk) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await day_shown(pilot, app)
        starts = [s.starts_at for s in screen.sessions]
        assert starts == sorted(starts)
        title = await shown_in(pilot, "#reception-title", "maandag 16 maart 2026")
        counts = r"sessies \d+, aanwezig \d+, verwacht \d+, afwezig \d+"
        assert re.search(counts, title)
        await until(pilot, lambda: bool(label(pilot, "#alerts")))


async def test_kiosk_check_in_shows_up_live(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await day_shown(pilot, app)
        ids = [
            p.booking_id for s in screen.sessions for p in s.attendees if p.patient_id == patient
        ]
        assert status_of(screen, ids[0]) == Status.EXPECTED
        # Another process (the kiosk) checks the patient in through the shared database.
        from devices.eid.virtual_card import load
        from kiosk.domain.checkin import IdentityEvidence

        card = load(kiosk.card(patient))
        kiosk.context.checkin_engine().check_in(
            IdentityEvidence(card.national_number, method="simulated")
        )
        await until(pilot, lambda: status_of(screen, ids[0]) == Status.ARRIVED, seconds=6)


async def test_manual_check_in_then_undo(kiosk: Kiosk) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        booking, _ = await manual_check_in(pilot, kiosk, app)
        screen = reception(app)
        select_row(screen, booking)
        await pilot.press("u")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"verkeerde patiënt", "enter")
        await until(pilot, lambda: status_of(screen, booking) == Status.EXPECTED)


async def test_cancel_with_fee_and_excuse_after_close_day(kiosk: Kiosk) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await day_shown(pilot, app)
        booking = pick(screen, Status.EXPECTED)
        await pilot.press("c")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"ziek", "enter")
        await answer_called_at(pilot)
        await opened(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: status_of(screen, booking) == Status.CANCELLED)
        # Less than 24 hours' notice: the fee shows in the notification.
        await until(pilot, lambda: any("29" in str(n.message) for n in app._notifications))
        kiosk.clock.set(kiosk.clock.now() + dt.timedelta(hours=14))
        await pilot.press("d")
        await opened(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(
            pilot,
            lambda: any(p.status == Status.ABSENT for s in screen.sessions for p in s.attendees),
        )
        absent = pick(screen, Status.ABSENT)
        await pilot.press("e")
        await opened(pilot, ReasonPrompt)
        await pilot.press("enter")  # an empty reason is refused
        await shown_in(pilot, "#reason-hint", "Een reden is nodig.")
        await pilot.press(*"doktersbriefje", "enter")
        await until(pilot, lambda: status_of(screen, absent) == Status.EXCUSED)


async def test_export_writes_the_day_as_csv(kiosk: Kiosk) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await day_shown(pilot, app)
        await pilot.press("x")
        path = kiosk.settings.data_dir / "exports" / "attendance-GENK-2026-03-16.csv"
        await until(pilot, path.exists)
        await until(pilot, lambda: path.stat().st_size > 0)
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert len(rows) == sum(len(s.attendees) for s in screen.sessions)
        assert oct(path.stat().st_mode & 0o777) == "0o600"


async def test_standalone_reception_quits_with_q(kiosk: Kiosk) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)


async def test_closing_at_the_start_of_the_day_says_so_and_leaves_every_session_open(
    kiosk: Kiosk,
) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await day_shown(pilot, app)
        booked = sum(1 for s in screen.sessions for p in s.attendees if p.status == Status.EXPECTED)
        await pilot.press("d")
        await opened(pilot, ConfirmScreen)
        question = cast(ConfirmScreen, app.screen).question
        assert question.splitlines() == [
            "De dag afsluiten? Er worden 0 afwezigheden genoteerd voor sessies die voorbij zijn.",
            f"{booked} patiënten in sessies die nog niet voorbij zijn, blijven verwacht.",
            "Geen enkel programma zou stoppen.",
        ]
        await pilot.press("y")
        done = "Dag afgesloten: 0 afwezigheden"
        await until(pilot, lambda: any(done in str(n.message) for n in app._notifications))
        assert all(p.status != Status.ABSENT for s in screen.sessions for p in s.attendees)


async def test_a_name_with_markup_shows_as_plain_text_in_the_list_and_manual_check_in(
    kiosk: Kiosk,
) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    with kiosk.context.sessions() as db, db.begin():
        row = db.get(Patient, patient)
        assert row is not None
        row.first_name, row.last_name = "[b]An", "Smet[/]"
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await day_shown(pilot, app)
        (booking,) = [
            p.booking_id for s in screen.sessions for p in s.attendees if p.patient_id == patient
        ]
        table = screen.query_one("#day", DataTable)
        assert str(table.get_row(booking)[1]) == "   Smet[/], [b]An"
        await pilot.pause()
        await pilot.press("m")
        await opened(pilot, ManualCheckinScreen)
        await pilot.press(*"Smet[/]", "enter")
        await until(
            pilot,
            lambda: (
                bool(app.screen.query("#manual-matches"))
                and app.screen.query_one("#manual-matches", OptionList).option_count > 0
            ),
        )
        options = app.screen.query_one("#manual-matches", OptionList)
        assert str(options.get_option_at_index(0).prompt).startswith("Smet[/], [b]An")
        await pilot.press("enter")
        await until(pilot, lambda: status_of(screen, booking) == Status.ARRIVED)
        await until(pilot, lambda: any("[b]An" in str(n.message) for n in app._notifications))


async def test_cancel_asks_first_and_every_action_can_be_taken_back(kiosk: Kiosk) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await day_shown(pilot, app)
        booking = pick(screen, Status.EXPECTED)
        await pilot.press("c")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"griep", "enter")
        await answer_called_at(pilot)
        await opened(pilot, ConfirmScreen)
        assert cast(ConfirmScreen, app.screen).question == "Deze boeking annuleren?"
        await pilot.press("n")
        await pilot.pause()
        assert status_of(screen, booking) == Status.EXPECTED
        await pilot.press("c")
        await opened(pilot, ReasonPrompt)
        await pilot.press("enter")
        await answer_called_at(pilot)
        await opened(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: status_of(screen, booking) == Status.CANCELLED)
        await pilot.press("u")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"verkeerde boeking", "enter")
        await until(pilot, lambda: status_of(screen, booking) == Status.EXPECTED)
        # Admitted although the kiosk would refuse (too early at 07:30), then taken back.
        await pilot.press("a")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"arts akkoord", "enter")
        await until(pilot, lambda: status_of(screen, booking) == Status.ARRIVED)
        await until(pilot, lambda: any("Toegelaten" in str(n.message) for n in app._notifications))
        await pilot.press("u")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"vergissing", "enter")
        await until(pilot, lambda: status_of(screen, booking) == Status.EXPECTED)


async def test_an_absence_corrected_to_present_and_a_stopped_programme_resumed(
    kiosk: Kiosk,
) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await day_shown(pilot, app)
        booking, _ = booking_of(screen, Status.EXPECTED)
        (person,) = [p for s in screen.sessions for p in s.attendees if p.booking_id == booking]
        kiosk.clock.set(kiosk.clock.now() + dt.timedelta(hours=14))
        kiosk.context.attendance().close_day(kiosk.clock.now().date())
        await until(pilot, lambda: status_of(screen, booking) == Status.ABSENT)
        select_row(screen, booking)
        await pilot.press("p")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"zat in de zaal", "enter")
        await until(pilot, lambda: status_of(screen, booking) == Status.ARRIVED)
        with kiosk.context.sessions() as db, db.begin():
            enrolment = db.get(Enrolment, person.enrolment_id)
            assert enrolment is not None
            enrolment.status = EnrolmentStatus.STOPPED
        await pilot.press("s")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"dr. Claes: verder", "enter")
        await until(
            pilot, lambda: any("Programma hervat" in str(n.message) for n in app._notifications)
        )
        with kiosk.context.sessions() as db:
            enrolment = db.get(Enrolment, person.enrolment_id)
            assert enrolment is not None and enrolment.status == EnrolmentStatus.ACTIVE


@pytest.mark.parametrize("mode", ["reception", "kiosk"])
async def test_tab_and_shift_tab_move_between_the_manual_check_in_fields(
    kiosk: Kiosk, mode: str
) -> None:
    app = kiosk.app(mode="reception") if mode == "reception" else kiosk.app()
    async with app.run_test(size=(120, 40)) as pilot:
        if mode == "kiosk":
            await open_reception(pilot, app)
        else:
            await day_shown(pilot, app)
        await pilot.press("m")
        await opened(pilot, ManualCheckinScreen)
        await until(pilot, lambda: app.focused is not None)
        assert app.focused is not None and app.focused.id == "manual-name"
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "manual-birth"
        await pilot.press("shift+tab")
        assert app.focused is not None and app.focused.id == "manual-name"


async def test_reception_moves_to_a_past_day_closes_it_and_excuses_an_absence(
    kiosk: Kiosk,
) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await day_shown(pilot, app)
        today = screen.day
        friday = today - dt.timedelta(days=3)  # NOW is a Monday
        await pilot.press(*["left_square_bracket"] * 4, "right_square_bracket")
        assert screen.day == friday
        await until(
            pilot,
            lambda: (
                bool(screen.sessions)
                and all(local(s.starts_at).date() == friday for s in screen.sessions)
            ),
        )
        assert "13 maart" in label(pilot, "#reception-title")
        # A check-in recorded for the wrong patient on Friday: taken back, the day closed, and
        # the absence excused, all three days later.
        booking = pick(screen, Status.ARRIVED)
        await pilot.press("u", *"verkeerde patiënt", "enter")
        await until(pilot, lambda: status_of(screen, booking) == Status.ABSENT)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "1 afwezigheden" in cast(ConfirmScreen, app.screen).question
        await pilot.press("y")
        closed = "Dag afgesloten: 1 afwezigheden"
        await until(pilot, lambda: any(closed in str(n.message) for n in app._notifications))
        select_row(screen, booking)
        await pilot.press("e", *"doktersbriefje", "enter")
        await until(pilot, lambda: status_of(screen, booking) == Status.EXCUSED)
