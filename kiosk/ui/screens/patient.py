"""The kiosk screen the patient sees: home, reading, result (``kiosk.ui.screens.simulated_patient``
adds the simulation panel beside it).

Every result ends with "take your card back" while the card is in. Once the card is out the
result stays readable for ``result_after_card_seconds`` (or until the next card), then the screen
goes home. A card left in is signalled before ``result_timeout_seconds`` with a warning and the
terminal bell; at the timeout the personal result is replaced by "a card is still in the
reader" (bell again) until the card comes out. Both limits warn with a countdown and are
extended by a touch or a key (:mod:`kiosk.ui.screens.patient_aids`, with the voice). The limits
are timestamps compared on a short tick (exact to the tick), not timers re-armed on every event.
Check-ins and printing run in thread workers; a worker's result only counts if the tap it
belongs to is still the current one. The worker also prepares the result's text and QR code,
and prints only once the result is painted: the patient sees it first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ContentSwitcher

from devices.eid.identity import Identity
from devices.eid.reader import (
    CardInserted,
    CardReadFailed,
    CardRemoved,
    IdentityRead,
    ReaderAttached,
    ReaderDetached,
    ReaderEvent,
)
from devices.printer.interface import FaultKind
from kiosk.core import logs, redaction
from kiosk.core.clock import local
from kiosk.core.i18n import LANGUAGES, translator
from kiosk.domain.outcomes import CheckinResult, GrammaticalForm
from kiosk.ui import result_text
from kiosk.ui.messages import AttendanceChanged
from kiosk.ui.result_text import ResultText
from kiosk.ui.screens.patient_aids import AidedScreen
from kiosk.ui.screens.pin import PinScreen
from kiosk.ui.widgets.home_view import HomeView
from kiosk.ui.widgets.reading_view import ReadingView
from kiosk.ui.widgets.result_view import ResultView
from kiosk.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from kiosk.ui.facade import KioskFacade

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.1
PAINT_WAIT_SECONDS = 0.5
"""The ticket is printed once the result is painted, or after this long at the latest."""


class PatientScreen(AidedScreen):
    """The public screen. Its keys are hidden; none of them quits."""

    CSS_PATH = "patient.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l,L,shift+l", "next_language", show=False),
        Binding("f9", "staff('reception')", show=False),
        Binding("f10", "staff('technician')", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._tap = 0
        """Counts card insertions: a worker's answer for an older tap is dropped."""
        self._chosen: str | None = None
        """The language the patient tapped on the home screen (it is then remembered)."""
        self._clock_text = ""
        self.last_result: CheckinResult | None = None

    def compose(self) -> ComposeResult:
        """Top bar and the three views, and what stands beside them."""
        with Horizontal(id="kiosk-body"):
            with Vertical(id="kiosk-main"):
                yield TopBar()
                with ContentSwitcher(initial="home", id="views"):
                    yield HomeView(id="home")
                    yield ReadingView(id="reading")
                    yield ResultView(console_safe=self.kiosk.console_safe, id="result")
            yield from self.beside()

    def beside(self) -> ComposeResult:
        """Widgets beside the kiosk screen: none (the simulation panel in simulate mode)."""
        yield from ()

    def on_mount(self) -> None:
        """Start in the configured language and start the tick."""
        self.language = self.kiosk.services.settings.language
        self._show_home()
        self._refresh_clock(force=True)
        self.set_interval(TICK_SECONDS, self._tick)

    # -- time ---------------------------------------------------------------------------------

    def _tick(self) -> None:
        expired = self._limit_tick() if self.state == "result" else None
        if expired == "card_in":
            self._show_card_left()
        elif expired == "card_out":
            self._show_home()
        self._refresh_clock()

    def _refresh_clock(self, *, force: bool = False) -> dt.datetime | None:
        """Show the time when the minute changed (or ``force``); the moment shown, or None."""
        now = self.kiosk.services.clock.now()
        text = self.tr.time(now)
        if text == self._clock_text and not force:
            return None
        self._clock_text = text
        self.query_one(TopBar).show(self.kiosk.services.settings.centre_name, text)
        if self.state == "home":
            self.query_one(HomeView).show(self.tr, self.tr.date(local(now).date()))
        return now

    # -- views --------------------------------------------------------------------------------

    def _switch(self, view: str) -> None:
        self.query_one("#views", ContentSwitcher).current = view

    def _show_home(self) -> None:
        """Back to the start: default language, nothing personal left on screen."""
        self.state = "home"
        self._limit = None
        self.last_result = None
        self._chosen = None
        self.language = self.kiosk.services.settings.language
        self._hush()
        self.query_one(ResultView).clear()
        self._switch("home")
        self._refresh_clock(force=True)

    def _show_reading(self, *, checking: bool) -> None:
        self.state = "checking" if checking else "reading"
        self._limit = None
        self.query_one(ReadingView).show(self.tr, checking)
        self._switch("reading")

    def _show_result(self, text: ResultText) -> None:
        self.state = "result"
        view = self.query_one(ResultView)
        view.show(text)
        view.show_language(self.language)
        self._switch("result")
        self._start_limit()
        note = self.tr("Please take your card back.") if self._card_in else ""
        if note:
            view.show_card_note(note, warn=False)
        self._say_text(text, note)

    def _card_taken_out(self) -> None:
        """The result stays readable for a while; the card line goes."""
        self._start_limit()
        self.query_one(ResultView).show_card_note("", warn=False)

    def _show_card_left(self) -> None:
        """Nothing personal left, and a clear signal for whoever comes next."""
        self.state = "card_left"
        self._limit = None
        self.last_result = None
        view = self.query_one(ResultView)
        text = result_text.for_card_left(self.tr)
        note = self.tr("Please take your card back.")
        view.show(text)
        view.show_countdown("")
        view.show_card_note(note, warn=True)
        self.app.bell()
        self._say_text(text, note)

    def _show_reader_down(self) -> None:
        self.state = "reader_down"
        self._limit = None
        self.query_one(ResultView).show(result_text.for_reader_down(self.tr))
        self._switch("result")

    def domain_unavailable(self) -> None:
        """The database could not be opened: the calm screen of a kiosk that cannot check in."""
        self._tap += 1
        self._show_reader_down()

    def domain_available(self) -> None:
        """The database is open (again): back to the home screen if the calm screen was shown."""
        if self.state == "reader_down":
            self._show_home()

    # -- card events --------------------------------------------------------------------------

    def handle_card(self, event: ReaderEvent) -> None:
        """React to one reader event (called by the app on the UI thread)."""
        if isinstance(event, ReaderDetached):
            self._tap += 1
            self._show_reader_down()
        elif isinstance(event, ReaderAttached):
            if self.state == "reader_down":
                self._show_home()
        elif isinstance(event, CardInserted):
            self._tap += 1
            self._card_in = True
            self._show_reading(checking=False)
        elif isinstance(event, IdentityRead):
            self._show_reading(checking=True)
            self._check_in(event.identity, self._tap, self._chosen)
        elif isinstance(event, CardReadFailed):
            self._show_result(result_text.for_card_failure(event.reason, self.tr))
        elif isinstance(event, CardRemoved):
            self._card_in = False
            if self.state == "result":
                self._card_taken_out()
            elif self.state in ("reading", "card_left"):
                self._show_home()

    @work(thread=True, exclusive=True, group="checkin")
    def _check_in(self, identity: Identity, tap: int, chosen: str | None) -> None:
        """Record the check-in off the UI thread, then show it; print the ticket after."""
        with logs.tap():
            # Every log line of this tap carries one correlation id; the card holder's names
            # are scrubbed from any line that might quote them.
            redaction.remember_sensitive(identity.first_names, identity.last_name)
            self._record(identity, tap, chosen)

    def _record(self, identity: Identity, tap: int, chosen: str | None) -> None:
        services = self.kiosk.services
        try:
            facade = services.facade
            # The e-ID's sex only picks how the sentences agree (French "enregistrée").
            form = GrammaticalForm.of_sex(identity.sex)
            result = dataclasses.replace(facade.check_in(identity), form=form)
        except Exception as exc:  # a database fault must end in a calm screen, not a traceback
            logger.error("check-in failed: %s", type(exc).__name__)
            self.app.call_from_thread(self._answer_failed, tap)
            return
        logger.info("check-in outcome %s", result.outcome)
        # A language tapped before the card wins and is remembered; else the patient's own (their
        # last choice here, else the schedule's); else the screen's.
        language = chosen or result.language or self.language
        if chosen:
            self._remember(facade, result, chosen)
        tr = translator(language)
        # The sentences and the QR code are made here, so the UI thread only lays them out.
        text = facade.describe(result, tr)
        painted = self.app.call_from_thread(self._answer, result, text, tap, language)
        parking = result.parking
        printer = services.printer
        if parking is None or printer is None or parking.printed:
            return
        # Printing competes with the layout for the interpreter: let the result paint first.
        painted.wait(PAINT_WAIT_SECONDS)
        try:
            outcome = facade.print_ticket(printer, parking.ticket_id, language=tr.language)
        except Exception as exc:
            logger.error("printing the parking ticket failed: %s", type(exc).__name__)
            self.app.call_from_thread(self._printed, tap, FaultKind.ERROR)
            return
        self.app.call_from_thread(self._printed, tap, None if outcome.printed else outcome.fault)

    def _answer(
        self, result: CheckinResult, text: ResultText, tap: int, language: str
    ) -> threading.Event:
        """Show the result in ``language``; the event is set once it is painted."""
        painted = threading.Event()
        self.kiosk.post_message(AttendanceChanged())
        if tap != self._tap:
            painted.set()
            return painted
        self.last_result = result
        self.language = language
        self._show_result(text)
        parking = result.parking
        if parking is not None and self.kiosk.services.printer is not None:
            note = (
                self.tr("Your parking ticket was printed before; use that one or this code.")
                if parking.printed
                else self.tr("Your parking ticket is being printed...")
            )
            self.query_one(ResultView).show_print_note(note, fault=False)
        self.call_after_refresh(painted.set)
        return painted

    def show_result(self, result: CheckinResult) -> None:
        """Show the outcome of a check-in in the screen's language (once the database is open:
        until then this waits for it)."""
        self.last_result = result
        self.language = result.language or self.language
        self._show_result(self.kiosk.services.facade.describe(result, self.tr))

    @staticmethod
    def _remember(facade: KioskFacade, result: CheckinResult, language: str) -> None:
        try:
            facade.remember_language(result, language)
        except OSError as exc:  # a full disk must not cost the patient the result
            logger.error("remembering the language failed: %s", type(exc).__name__)

    def _answer_failed(self, tap: int) -> None:
        if tap == self._tap:
            self._show_result(result_text.for_system_fault(self.tr))

    def _printed(self, tap: int, fault: FaultKind | None) -> None:
        if tap != self._tap or self.state != "result":
            return
        view = self.query_one(ResultView)
        if fault is None:
            view.show_print_note(self.tr("Please take your parking ticket."), fault=False)
        else:
            view.show_print_note(
                self.tr("The printer is not working: ask reception for a printed ticket."),
                fault=True,
            )

    # -- keys and buttons ---------------------------------------------------------------------

    def action_next_language(self) -> None:
        """Cycle through the four languages (home screen and result)."""
        if self.state in ("home", "result", "card_left"):
            index = LANGUAGES.index(self.language)
            self.set_language(LANGUAGES[(index + 1) % len(LANGUAGES)])

    def set_language(self, language: str) -> None:
        """Show the screen in ``language``: the home screen, or the result shown now (the
        patient's choice is remembered for their next visit)."""
        self.language = language
        self._refresh_clock(force=True)
        if self.state == "home":
            self._chosen = language
        elif self.state == "result" and self.last_result is not None:
            self._redescribe(self.last_result, language, self._tap)
        elif self.state == "card_left":
            self._show_card_left()

    @work(thread=True, exclusive=True, group="language")
    def _redescribe(self, result: CheckinResult, language: str, tap: int) -> None:
        """The result again in ``language`` (off the UI thread: the QR is drawn again)."""
        facade = self.kiosk.services.facade
        self._remember(facade, result, language)
        text = facade.describe(result, translator(language))
        self.app.call_from_thread(self._show_again, text, tap, language)

    def _show_again(self, text: ResultText, tap: int, language: str) -> None:
        if tap == self._tap and self.state == "result" and self.language == language:
            self._show_result(text)  # the touch gives the patient the whole time again

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Language buttons of the home view and of the result."""
        button_id = event.button.id or ""
        if button_id == "result-repeat":
            self.action_repeat()
        for prefix in ("lang-", "result-lang-"):
            if button_id.startswith(prefix):
                self.set_language(button_id.removeprefix(prefix))

    def action_staff(self, target: str) -> None:
        """Reception or technician, behind the PIN."""
        if self.state in ("reading", "checking"):
            return
        self.app.push_screen(PinScreen(target))
