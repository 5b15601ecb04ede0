"""The kiosk screen of ``kiosk run --simulate``: the patient's screen with the technician's
simulation panel beside it, whose buttons drive the simulated reader and printer and the
settable clock."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType

from devices.printer.interface import FaultKind
from kiosk.core.clock import local
from kiosk.ui.screens.patient import PatientScreen
from kiosk.ui.widgets.simulation_panel import SimulationPanel, load_cards

if TYPE_CHECKING:
    from kiosk.domain.next_session import NextWindow


class SimulatedPatientScreen(PatientScreen):
    """The patient screen and the simulation panel (``F8`` hides and shows it)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("f8", "toggle_panel", show=False)]

    def beside(self) -> ComposeResult:
        """The simulation panel, with the demo's virtual cards."""
        cards = load_cards(self.kiosk.services.cards_dir)
        yield SimulationPanel(cards, self.kiosk.staff_tr, id="sim")

    def _refresh_clock(self, *, force: bool = False) -> dt.datetime | None:
        """The panel shows the simulated date and time too."""
        now = super()._refresh_clock(force=force)
        if now is not None:
            moment = f"{self.kiosk.staff_tr.date(local(now).date())} {self.tr.time(now)}"
            self.query_one(SimulationPanel).show_clock(moment)
        return now

    def action_toggle_panel(self) -> None:
        """Hide or show the simulation panel."""
        panel = self.query_one(SimulationPanel)
        panel.display = not panel.display

    def on_simulation_panel_action(self, message: SimulationPanel.Action) -> None:
        """Carry out a panel button on the simulated devices and clock."""
        services = self.kiosk.services
        reader = services.simulated_reader
        printer = services.faulty_printer
        clock = services.settable_clock
        panel = self.query_one(SimulationPanel)
        tr = self.kiosk.staff_tr
        action = message.action
        if action == "insert" and reader and message.card:
            reader.insert(message.card)
        elif action == "remove" and reader:
            reader.remove()
        elif action == "unreadable" and reader:
            reader.insert_unreadable()
        elif action == "bank" and reader:
            reader.insert_bank_card()
        elif action == "unplug" and reader:
            reader.unplug()
        elif action == "plug" and reader:
            reader.plug()
        elif action == "paper-out" and printer:
            printer.set_fault(FaultKind.OUT_OF_PAPER)
            panel.show_status(tr("Printer out of paper"))
        elif action == "paper-ok" and printer:
            printer.set_fault(None)
            panel.show_status(tr("Printer repaired"))
        elif action == "clock-15" and clock:
            clock.advance(dt.timedelta(minutes=15))
            self._refresh_clock(force=True)
        elif action == "clock-next" and clock:
            self._jump_to_next_session()
        elif action in ("reception", "technician"):
            self.kiosk.open_staff_screen(action)
        elif action == "quit":
            self.app.exit()

    @work(thread=True, exclusive=True, group="sim-clock")
    def _jump_to_next_session(self) -> None:
        services = self.kiosk.services
        clock = services.settable_clock
        if clock is None:
            return
        window = services.facade.next_checkin_window(clock.now())
        self.app.call_from_thread(self._jumped, window)

    def _jumped(self, window: NextWindow | None) -> None:
        clock = self.kiosk.services.settable_clock
        panel = self.query_one(SimulationPanel)
        tr = self.kiosk.staff_tr
        if window is None or clock is None:
            panel.show_status(tr("No more booked sessions."))
            return
        clock.set(window.moment)
        self._refresh_clock(force=True)
        # Pick a patient booked on that session, so the next card in is a check-in.
        picked = panel.pick_patient(window.patient_ids)
        panel.show_status(
            tr("Clock set to a check-in window: {name} is booked.", name=picked)
            if picked
            else tr("Clock set to a check-in window.")
        )
