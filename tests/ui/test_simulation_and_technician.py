"""The simulation panel drives the simulated devices and clock; the technician screen reports."""

from __future__ import annotations

from kiosk.domain.outcomes import Outcome
from kiosk.ui.screens.patient import PatientScreen
from kiosk.ui.screens.technician import TechnicianScreen
from kiosk.ui.widgets.simulation_panel import SimulationPanel
from tests.ui.conftest import NOW, Kiosk
from tests.ui.waiting import screen_text, shown, shown_in, until


async def test_panel_inserts_cards_and_breaks_devices(kiosk: Kiosk) -> None:
    app = kiosk.app(simulate=True)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        panel = screen.query_one(SimulationPanel)
        assert panel.display
        await pilot.click("#sim-insert")
        await until(pilot, lambda: screen.state == "result")
        await pilot.click("#sim-remove")
        await until(pilot, lambda: "Neem uw kaart terug." not in screen_text(pilot))
        kiosk.ticks[0] += kiosk.settings.result_after_card_seconds  # the result stays a while
        await until(pilot, lambda: "Steek uw e-ID in de kaartlezer" in screen_text(pilot))
        await pilot.click("#sim-bank")
        await shown(pilot, "Dit is geen e-ID.")
        await pilot.click("#sim-unplug")
        await shown(pilot, "Aanmelden aan deze kiosk kan nu niet.")
        await pilot.click("#sim-plug")
        await shown(pilot, "Steek uw e-ID in de kaartlezer")
        await pilot.click("#sim-paper-out")
        assert kiosk.printer.fault is not None
        await pilot.click("#sim-paper-ok")
        assert kiosk.printer.fault is None
        await pilot.press("f8")
        assert not panel.display


async def test_panel_clock_jumps_to_the_next_check_in_window(kiosk: Kiosk) -> None:
    app = kiosk.app(simulate=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click("#sim-clock-next")
        # The clock moves in a worker; the panel says so after it.
        await shown_in(pilot, "#sim-status", "Klok gezet")
        assert kiosk.clock.now() > NOW
        # The picker now holds a patient booked on that session: the card checks them in.
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        await pilot.click("#sim-insert")
        await until(pilot, lambda: screen.last_result is not None)
        result = screen.last_result
        assert result is not None and result.outcome == Outcome.CHECKED_IN
        await shown(pilot, "Neem uw parkeerticket.")
        before = kiosk.clock.now()
        await pilot.click("#sim-clock-15")
        assert (kiosk.clock.now() - before).total_seconds() == 15 * 60


async def test_technician_screen_reports_devices_and_errors(kiosk: Kiosk) -> None:
    app = kiosk.app(simulate=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click("#sim-unreadable")
        await until(pilot, lambda: kiosk.reader.name in app.services.devices.reader_name)
        await until(pilot, lambda: app.services.devices.last_card_at is not None)
        await pilot.click("#sim-technician")
        await until(pilot, lambda: isinstance(app.screen, TechnicianScreen))
        await shown(
            pilot,
            "Databank:",
            "Simulated e-ID reader, verbonden",
            "Printer: klaar",
            "Laatst gelezen kaart: 07:30",
            "rehab-kiosk",
            "Sync: 0 gebeurtenissen wachten, 0 apart gezet",
            "Laatste sync: nog nooit",
            "Boekingen uit de centrale databank: nog niet opgehaald",
        )
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PatientScreen))
