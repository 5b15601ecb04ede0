"""Reception's screen on a real morning: statuses with a colour and a symbol, session headers
apart from patients, columns sized to the terminal, the day opened at the current time, alerts
in the screen's language, tickets printed, shown or reprinted, and reception as a private
overlay on the kiosk (a card waits for it to close; any input keeps it open)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from rich.text import Text
from textual.widgets import DataTable

from devices.printer.interface import FaultKind
from kiosk.core.clock import BRUSSELS, local
from kiosk.core.i18n import translator
from kiosk.domain.alerts import raise_alert
from kiosk.domain.call_moment import parse_call_moment
from kiosk.domain.today import Status
from kiosk.ui.app import KioskApp
from kiosk.ui.facade import KioskFacade
from kiosk.ui.factory import make_app
from kiosk.ui.screens.confirm import ConfirmScreen
from kiosk.ui.screens.manual_checkin import ManualCheckinScreen
from kiosk.ui.screens.patient import PatientScreen
from kiosk.ui.screens.reason_prompt import ReasonPrompt
from kiosk.ui.screens.reception import ReceptionScreen
from kiosk.ui.screens.ticket_code import TicketCodeScreen
from kiosk.ui.widgets.day_table import SESSION_ROW, STATUS_LOOKS, day_rows
from tests.ui.conftest import Kiosk, select_row
from tests.ui.reception_steps import (
    answer_called_at,
    day_shown,
    manual_check_in,
    open_reception,
    pick,
    reception,
    status_of,
)
from tests.ui.waiting import opened, shown, until

IDLE_SECONDS = 120  # the default of [reception] idle_seconds


def test_every_status_has_a_symbol_and_a_colour_of_its_own() -> None:
    symbols = [symbol for symbol, _ in STATUS_LOOKS.values()]
    assert set(STATUS_LOOKS) == set(Status)
    assert len(set(symbols)) == len(symbols), "two statuses share a symbol"
    styles = [style for _, style in STATUS_LOOKS.values()]
    assert len(set(styles)) == len(styles), "two statuses share a colour"


def test_session_headers_are_bold_and_patients_indented(kiosk: Kiosk) -> None:
    rows = day_rows(kiosk.day(), translator("nl"), birth_dates=True)
    headers = [cells for key, cells in rows if key.startswith(SESSION_ROW)]
    patients = [cells for key, cells in rows if not key.startswith(SESSION_ROW)]
    assert headers and patients
    for cells in headers:
        assert all(isinstance(c, Text) and "bold" in str(c.style) for c in cells[:2])
    for cells in patients:
        name, status = cells[1], cells[3]
        assert isinstance(name, Text) and name.plain.startswith("   ")
        assert isinstance(status, Text) and status.plain[0] in {s for s, _ in STATUS_LOOKS.values()}


def no_printer_app(kiosk: Kiosk, **options: object) -> KioskApp:
    """The kiosk's app with no ticket printer configured."""
    settings = dataclasses.replace(kiosk.settings, printer="none")
    kiosk.context.settings = settings
    return make_app(
        settings,
        facade=KioskFacade(kiosk.context),
        clock=kiosk.clock,
        reader=kiosk.reader,
        cards_dir=kiosk.cards,
        monotonic=lambda: kiosk.ticks[0],
        cursor_blink=False,
        **options,  # type: ignore[arg-type]
    )


def longest_session(kiosk: Kiosk) -> tuple[str, str]:
    """The row key and ``kind · room`` of the day's session with the widest title."""
    rows = day_rows(kiosk.day(), translator("nl"), birth_dates=True)
    headers = [(key, str(cells[1])) for key, cells in rows if key.startswith(SESSION_ROW)]
    return max(headers, key=lambda header: len(header[1]))


async def test_names_are_cut_only_when_the_terminal_is_too_narrow(kiosk: Kiosk) -> None:
    key, title = longest_session(kiosk)
    assert len(title) > 40
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await day_shown(pilot, app)
        table = screen.query_one("#day", DataTable)
        await until(pilot, lambda: str(table.get_row(key)[1]) == title)
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: str(table.get_row(key)[1]).endswith("…"))
        await pilot.pause(0.2)
        assert table.virtual_size.width <= 80
        text = await shown(pilot, "Groepssessie")
        assert all(len(line.rstrip()) <= 80 for line in text.splitlines())


async def test_the_day_opens_at_the_current_time(kiosk: Kiosk) -> None:
    sessions = kiosk.day()
    later = sessions[len(sessions) // 2]
    kiosk.clock.set(later.starts_at + dt.timedelta(minutes=1))
    current = next(s for s in kiosk.day() if s.ends_at > kiosk.clock.now())
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = reception(app)
        table = screen.query_one("#day", DataTable)
        await until(pilot, lambda: screen.selected_key() == SESSION_ROW + current.session_id)
        await until(pilot, lambda: table.scroll_y > 0)
        first = table.get_row_index(SESSION_ROW + current.session_id)
        assert table.scroll_y == min(first, table.max_scroll_y)
        # A reload keeps the cursor where reception put it.
        table.move_cursor(row=0)
        screen.reload()
        await pilot.pause(0.3)
        assert table.cursor_row == 0


def printer_fault(kiosk: Kiosk, count: int) -> None:
    with kiosk.context.sessions() as db, db.begin():
        for _ in range(count):
            raise_alert(
                db,
                now=kiosk.clock.now(),
                kind="printer_fault",
                site_id="GENK",
                message="Ticket printer of kiosk K1: out of paper: sensor",
            )


async def test_alerts_in_the_screens_language_and_how_many_more(kiosk: Kiosk) -> None:
    printer_fault(kiosk, 9)
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(120, 34)) as pilot:
        await shown(pilot, "Printerfout: kiosk K1, papier op", "en nog", absent=("out of paper",))


async def test_a_manual_check_in_prints_its_ticket(kiosk: Kiosk) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        await manual_check_in(pilot, kiosk, app)
        await until(pilot, lambda: kiosk.tickets.exists() and any(kiosk.tickets.iterdir()))
        await until(
            pilot,
            lambda: any("Parkeerticket gedrukt" in str(n.message) for n in app._notifications),
        )


async def test_without_a_printer_the_code_is_shown_large(kiosk: Kiosk) -> None:
    app = no_printer_app(kiosk, mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        await manual_check_in(pilot, kiosk, app)
        await opened(pilot, TicketCodeScreen)
        code = app.screen
        assert isinstance(code, TicketCodeScreen) and len(code.code) >= 8
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReceptionScreen))


async def test_after_a_printer_fault_reception_sees_the_ticket_and_reprints_it(
    kiosk: Kiosk,
) -> None:
    kiosk.printer.set_fault(FaultKind.OUT_OF_PAPER)
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(120, 34)) as pilot:
        booking, last_name = await manual_check_in(pilot, kiosk, app)
        await opened(pilot, TicketCodeScreen)
        await pilot.press("escape")
        screen = reception(app)
        await until(pilot, lambda: bool(screen.unprinted))
        await shown(pilot, "Niet gedrukt: ticket", last_name, "papier op")
        kiosk.printer.set_fault(None)
        select_row(screen, booking)
        await pilot.press("t")
        await until(
            pilot, lambda: any("opnieuw gedrukt" in str(n.message) for n in app._notifications)
        )
        await until(pilot, lambda: not screen.unprinted)
        assert any(kiosk.tickets.iterdir())


async def test_a_reprint_by_a_code_that_is_none_says_so(kiosk: Kiosk) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        await day_shown(pilot, app)
        await pilot.press("t")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"hallo", "enter")
        await until(
            pilot, lambda: any("geen parkeercode" in str(n.message) for n in app._notifications)
        )


async def test_a_card_inserted_while_reception_is_open_is_answered_when_it_closes(
    kiosk: Kiosk,
) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(100, 30)) as pilot:
        patient_screen = app.screen_stack[0]
        assert isinstance(patient_screen, PatientScreen)
        await open_reception(pilot, app)
        kiosk.reader.insert(kiosk.card(patient))
        await until(
            pilot,
            lambda: any("een kaart in de lezer" in str(n.message) for n in app._notifications),
        )
        await pilot.pause(0.5)
        assert patient_screen.last_result is None  # nobody checked in unseen
        await pilot.press("escape")
        await until(pilot, lambda: patient_screen.last_result is not None)


async def test_a_card_taken_out_while_reception_is_open_is_forgotten(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(100, 30)) as pilot:
        patient_screen = app.screen_stack[0]
        assert isinstance(patient_screen, PatientScreen)
        await open_reception(pilot, app)
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: bool(app._held_cards))
        kiosk.reader.remove()
        await until(pilot, lambda: not app._held_cards)
        await pilot.press("escape")
        await pilot.pause(0.5)
        assert patient_screen.last_result is None


async def test_the_idle_time_is_the_configured_one(kiosk: Kiosk) -> None:
    settings = dataclasses.replace(kiosk.settings, reception_idle_seconds=30)
    kiosk.context.settings = kiosk.settings = settings
    app = kiosk.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_reception(pilot, app)
        kiosk.ticks[0] += 29
        await pilot.pause(1.5)
        assert isinstance(app.screen, ReceptionScreen)
        kiosk.ticks[0] += 30  # 59 s in all: half the default, closed all the same
        await until(pilot, lambda: not isinstance(app.screen, ReceptionScreen))


async def test_reception_closes_by_itself_after_no_input_of_any_kind(kiosk: Kiosk) -> None:
    app = kiosk.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_reception(pilot, app)
        kiosk.ticks[0] += IDLE_SECONDS - 1
        await pilot.hover("#day")  # the mouse counts as much as a key
        kiosk.ticks[0] += IDLE_SECONDS - 1
        await pilot.click("#day")
        kiosk.ticks[0] += IDLE_SECONDS - 1
        await pilot.pause(1.5)
        assert isinstance(app.screen, ReceptionScreen)
        await pilot.press("m")  # a dialog open above it closes with it
        await opened(pilot, ManualCheckinScreen)
        kiosk.ticks[0] += IDLE_SECONDS
        await until(pilot, lambda: isinstance(app.screen, PatientScreen))


def test_a_call_moment_as_reception_types_it() -> None:
    now = dt.datetime(2026, 3, 16, 9, 0, tzinfo=BRUSSELS)
    assert parse_call_moment("", now) is None
    assert parse_call_moment("7:45", now) == now.replace(hour=7, minute=45)
    assert parse_call_moment("13/03 16.05", now) == dt.datetime(2026, 3, 13, 16, 5, tzinfo=BRUSSELS)
    assert parse_call_moment("1/12/2025 8u30", now) == dt.datetime(
        2025, 12, 1, 8, 30, tzinfo=BRUSSELS
    )
    for wrong in ("morgen", "25:00", "31/02 10:00", "10:0", "１０:００"):
        with pytest.raises(ValueError):
            parse_call_moment(wrong, now)


async def test_a_cancellation_counts_its_notice_from_the_call_typed_on_screen(
    kiosk: Kiosk,
) -> None:
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await day_shown(pilot, app)
        booking = pick(screen, Status.EXPECTED)
        await pilot.press("c")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"ziek", "enter")
        await answer_called_at(pilot, "gisteren")  # not a moment: asked again
        await until(pilot, lambda: any("geen moment" in str(n.message) for n in app._notifications))
        called = local(kiosk.clock.now()) - dt.timedelta(days=2)
        await answer_called_at(pilot, called.strftime("%d/%m %H:%M"))
        await opened(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: status_of(screen, booking) == Status.CANCELLED)
        await until(pilot, lambda: any("geen kosten" in str(n.message) for n in app._notifications))


async def test_birth_dates_are_shown_at_the_desk_and_never_on_the_kiosk(kiosk: Kiosk) -> None:
    # The session the day opens at (the current time's), and who is booked in it.
    current = next(s for s in kiosk.day() if s.ends_at > kiosk.clock.now())
    people = [p for p in current.attendees if p.birth_date is not None]
    assert people
    nl = translator("nl")
    first = people[0]
    name = f"{first.last_name}, {first.first_name}"
    born = nl.short_date(first.birth_date)  # type: ignore[arg-type]
    desk = kiosk.app(mode="reception")
    async with desk.run_test(size=(120, 34)) as pilot:
        await shown(pilot, name, born, "Geboren")
    on_kiosk = kiosk.app()
    async with on_kiosk.run_test(size=(120, 34)) as pilot:
        screen = await open_reception(pilot, on_kiosk)
        text = await shown(pilot, name, absent=("Geboren",))
        everyone = [p for s in screen.sessions for p in s.attendees if p.birth_date is not None]
        for person in everyone:
            assert nl.short_date(person.birth_date) not in text  # type: ignore[arg-type]
        columns = screen.query_one("#day", DataTable).ordered_columns
        assert [column.label.plain for column in columns] == ["Uur", "Patiënt", "Status", "In"]
