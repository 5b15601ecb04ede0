"""Reception's parking tickets: a manual check-in's ticket printed (or its code shown large when
no paper comes out), and reprints (key ``t``) after a printer fault.

The base of :class:`~kiosk.ui.screens.reception.ReceptionScreen`; everything goes through the
app's facade in thread workers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from textual import work
from textual.screen import Screen

from kiosk.core.i18n import N_, Translator
from kiosk.domain.attendance import AttendanceError
from kiosk.ui import result_text
from kiosk.ui.messages import AttendanceChanged
from kiosk.ui.reception_actions import refusal_reason
from kiosk.ui.screens.reason_prompt import ReasonPrompt
from kiosk.ui.screens.ticket_code import TicketCodeScreen
from kiosk.ui.widgets.day_table import DayTable

if TYPE_CHECKING:
    from kiosk.domain.outcomes import ParkingInfo
    from kiosk.domain.parking.unprinted import UnprintedTicket
    from kiosk.ui.app import KioskApp
    from kiosk.ui.facade import KioskFacade

logger = logging.getLogger(__name__)

REPRINT_REFUSALS = {
    "malformed": N_("that is not a parking code"),
    "unknown": N_("no ticket of this site has that code"),
    "database": N_("the tickets' database could not be used"),
}
NO_PAPER = N_("No paper ticket: write this parking code down for the patient.")


class ReceptionTickets(Screen[None]):
    """Printing and reprinting reception's parking tickets."""

    unprinted: list[UnprintedTicket]

    @property
    def kiosk(self) -> KioskApp:
        """The app, typed."""
        return cast("KioskApp", self.app)

    @property
    def facade(self) -> KioskFacade:
        """The way to the data (blocks until the database is open: use it in workers)."""
        return self.kiosk.services.facade

    @property
    def tr(self) -> Translator:
        """Staff texts."""
        return self.kiosk.staff_tr

    # -- a manual check-in --------------------------------------------------------------------

    @work(thread=True, group="reception-action")
    def check_in_by_hand(self, patient_id: str) -> None:
        """Check the patient in, say how it went, then print the ticket or show its code."""
        tr = self.tr
        try:
            result = self.facade.check_in_by_hand(patient_id)
        except AttendanceError as exc:
            reason = refusal_reason(exc, tr)
            self.app.call_from_thread(
                self.notify, tr("Not done: {reason}", reason=reason), severity="warning"
            )
            return
        except Exception as exc:
            logger.error("a manual check-in failed: %s", type(exc).__name__)
            self.app.call_from_thread(self._no_answer)
            return
        title = result_text.for_result(result, tr).title
        self.app.call_from_thread(self.notify, title, markup=False)
        self.app.call_from_thread(self.kiosk.post_message, AttendanceChanged())
        if result.parking is not None:
            self._print(result.parking, result.language)

    def _print(self, parking: ParkingInfo, language: str | None) -> None:
        """In the worker: print the new ticket, or show its code when no paper comes out."""
        tr = self.tr
        printer = self.kiosk.services.printer
        if printer is not None:
            try:
                outcome = self.facade.print_ticket(printer, parking.ticket_id, language=language)
            except Exception as exc:  # recorded as not printed: the code is shown instead
                logger.error("printing a manual check-in's ticket failed: %s", type(exc).__name__)
            else:
                if outcome.printed:
                    self.app.call_from_thread(self.notify, tr("Parking ticket printed."))
                    return
        self.app.call_from_thread(self._show_code, tr(NO_PAPER), parking.short_code)

    def _show_code(self, sentence: str, code: str) -> None:
        self.app.push_screen(TicketCodeScreen(sentence, code))

    def _no_answer(self) -> None:
        self.notify(self.tr("The database did not answer; try again."), severity="error")

    # -- reprints -----------------------------------------------------------------------------

    def action_reprint(self) -> None:
        """Key ``t``: reprint the selected patient's unprinted ticket, or a ticket by its code."""
        booking = self.query_one(DayTable).selected_booking()
        ticket = next((t for t in self.unprinted if t.booking_id == booking), None)
        if ticket is not None:
            self._reprint(ticket.short_code)
            return

        def typed(code: str | None) -> None:
            if code:
                self._reprint(code)

        question = self.tr("Reprint: the ticket's short code")
        self.app.push_screen(ReasonPrompt(question, required=True), typed)

    @work(thread=True, group="reception-action")
    def _reprint(self, code: str) -> None:
        tr = self.tr
        printer = self.kiosk.services.printer
        if printer is None:
            self.app.call_from_thread(
                self.notify, tr("This kiosk has no ticket printer."), severity="warning"
            )
            return
        try:
            done = self.facade.reprint(printer, code)
        except Exception as exc:
            logger.error("a reprint failed: %s", type(exc).__name__)
            self.app.call_from_thread(self._no_answer)
            return
        if done.refusal:
            reason = tr(REPRINT_REFUSALS[done.refusal])
            self.app.call_from_thread(
                self.notify, tr("Not done: {reason}", reason=reason), severity="warning"
            )
        elif done.outcome is not None and done.outcome.printed:
            self.app.call_from_thread(
                self.notify, tr("Ticket {number} printed again.", number=f"{done.number:010d}")
            )
        else:
            self.app.call_from_thread(self._show_code, tr(NO_PAPER), code.strip().upper())
        self.app.call_from_thread(self.kiosk.post_message, AttendanceChanged())
