"""The Textual app: a thin shell that wires the card reader to the screens.

The patient can never leave the kiosk: no inherited quit or palette keys; reception and the
technician are behind a PIN, their keys hidden. The card reader's thread reaches the app only
through ``post_message`` (thread-safe). SIGTERM ends the app the normal way, so the terminal is
restored when systemd stops the kiosk.

The app is built by :func:`kiosk.ui.factory.make_app`. The home screen is painted first; the
database opens afterwards in a thread worker, which says how it went in a message
(:class:`~kiosk.ui.messages.DataReady` and the others), and the card reader starts once it is open
(a card tapped earlier could not be checked in anyway). The screens reach the data only through
``services.facade`` (:mod:`kiosk.ui.facade`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import ClassVar, Literal

from textual import events, work
from textual.app import App
from textual.binding import BindingType
from textual.screen import Screen

from devices.eid.reader import CardRemoved, ReaderAttached, ReaderDetached, ReaderEvent
from kiosk.core.config import ConfigError
from kiosk.core.i18n import Translator, translator
from kiosk.programme import ProgrammeError
from kiosk.ui.messages import (
    AttendanceChanged,
    CardEvent,
    ConfigurationFailed,
    DataFailed,
    DataReady,
    ReloadDay,
)
from kiosk.ui.screens.patient import PatientScreen
from kiosk.ui.screens.simulated_patient import SimulatedPatientScreen
from kiosk.ui.services import KioskServices, RecentErrors
from kiosk.ui.themes import THEMES

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
CONSOLE_CSS = HERE / "console.tcss"
CONSOLE_THEME = "ansi-dark"
"""The 16-colour theme for the Linux console (the terminal's own palette)."""

Mode = Literal["kiosk", "reception"]
RETRY_SECONDS = 10.0
"""How soon opening the database is tried again after it failed."""


class KioskApp(App[None], inherit_bindings=False):
    """The kiosk (patient screen first) or, in ``reception`` mode, reception on its own."""

    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = []
    # The screens' stylesheets too: Textual loads a screen's CSS_PATH when the screen is pushed,
    # but not for the default screen (the patient's, or reception's in reception mode).
    CSS_PATH: ClassVar[list[str | PurePath]] = [
        HERE / "app.tcss",
        *sorted((HERE / "widgets").glob("*.tcss")),
        *sorted((HERE / "screens").glob("*.tcss")),
    ]
    TITLE = "Rehab kiosk"

    def __init__(
        self,
        services: KioskServices,
        *,
        mode: Mode = "kiosk",
        simulate: bool = False,
        console_safe: bool = False,
        cursor_blink: bool = True,
    ) -> None:
        css: list[str | PurePath] = [*self.CSS_PATH]
        if console_safe:
            css.append(CONSOLE_CSS)
        super().__init__(css_path=css, ansi_color=console_safe or None)
        self.services = services
        self.mode: Mode = mode
        self.simulate = simulate
        self.console_safe = console_safe
        self.cursor_blink = cursor_blink
        self._unsubscribe: Callable[[], None] | None = None
        self._log_handler = RecentErrors(services.devices, services.clock)
        self._signal_installed = False
        self.retry_seconds = RETRY_SECONDS
        self.fatal_error = ""
        """A configuration error found while opening the database: the program must stop."""
        self.last_input = services.monotonic()
        """When a key, a mouse or a tap last came (the services' monotonic clock): reception
        closes itself after a while without any."""
        self._held_cards: list[ReaderEvent] = []
        """A card's events while a staff screen covers the patient's: answered once it closes."""

    def _fatal_error(self) -> None:
        """An exception no handler caught: log it, leave one line on the terminal, exit.

        Textual's own report prints the traceback with every frame's local variables on the
        terminal, the kiosk's screen and journald, where a national number or a name may sit.
        The log gets the traceback redacted (like every record) and no locals.
        """
        error = sys.exc_info()[1] or self._exception
        exc_info = (type(error), error, error.__traceback__) if error is not None else None
        logger.critical("the kiosk screen failed", exc_info=exc_info)
        name = type(error).__name__ if error is not None else "error"
        self.panic(f"kiosk: unexpected failure ({name}); the log has the details")

    @property
    def staff_tr(self) -> Translator:
        """Texts of the staff screens, in the configured language."""
        return translator(self.services.settings.language)

    def get_default_screen(self) -> Screen[None]:
        """The screen under all others: the patient's, or reception's in reception mode."""
        if self.mode == "reception":
            return self.staff_screen("reception", standalone=True)
        return SimulatedPatientScreen() if self.simulate else PatientScreen()

    def staff_screen(self, target: str, *, standalone: bool = False) -> Screen[None]:
        """A new reception or technician screen."""
        # The staff screens and the domain modules they use are imported when first opened:
        # the patient's home screen is painted without them.
        from kiosk.ui.screens.reception import ReceptionScreen
        from kiosk.ui.screens.technician import TechnicianScreen

        if target == "technician":
            return TechnicianScreen()
        return ReceptionScreen(standalone=standalone)

    def open_staff_screen(self, target: str) -> None:
        """Show reception or the technician screen above the kiosk screen."""
        self.push_screen(self.staff_screen(target))

    def on_mount(self) -> None:
        """Pick the theme, catch SIGTERM; open the database once the first frame is painted."""
        if self.console_safe:
            self.theme = CONSOLE_THEME
        elif self.services.settings.theme in THEMES:
            theme = THEMES[self.services.settings.theme]
            self.register_theme(theme)
            self.theme = theme.name
        logging.getLogger().addHandler(self._log_handler)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            # Only possible in the main thread; a kiosk always runs there.
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.exit)
            self._signal_installed = True
        self.screen_change_signal.subscribe(self, self._screen_changed)
        self.call_after_refresh(self._open_data)
        notifier = self.services.notifier
        notifier.ready("home screen shown")
        interval = notifier.interval_seconds()
        if interval is not None:
            # Pinged from the event loop: a hung loop stops the pings and systemd restarts us.
            self.set_interval(interval, notifier.ping)

    @work(thread=True, exclusive=True, group="open-data", exit_on_error=False)
    def _open_data(self) -> None:
        """Open the database and the printer off the UI thread; say how it went."""
        try:
            self.services.load()
        except (ConfigError, ProgrammeError) as exc:
            self.post_message(ConfigurationFailed(str(exc)))
            return
        except Exception as exc:  # a locked or broken database: a calm screen, then a retry
            logger.error("the database could not be opened: %s", type(exc).__name__)
            self.post_message(DataFailed())
            return
        self.post_message(DataReady())

    def on_configuration_failed(self, message: ConfigurationFailed) -> None:
        """Stop: the error says what to fix (``kiosk run`` reports it after the terminal is
        restored; the same error stops the program before any screen when found earlier)."""
        self.fatal_error = message.error
        self.exit(return_code=2)

    def on_data_failed(self, message: DataFailed) -> None:
        """The patient sees that checking in is not possible now; try again in a while."""
        patient = self._patient_screen()
        if patient is not None:
            patient.domain_unavailable()
        self.set_timer(self.retry_seconds, self._open_data)

    def on_data_ready(self, message: DataReady) -> None:
        """Start the card reader now that a card can be checked in."""
        patient = self._patient_screen()
        if patient is not None:
            patient.domain_available()
        reader = self.services.reader
        if reader is not None and self.mode == "kiosk" and self._unsubscribe is None:
            self._unsubscribe = reader.subscribe(self._from_reader_thread)
            reader.start()

    def _patient_screen(self) -> PatientScreen | None:
        patient = self.screen_stack[0] if self.screen_stack else None
        return patient if isinstance(patient, PatientScreen) else None

    def on_unmount(self) -> None:
        """Stop the reader and put back what was installed."""
        self.services.notifier.stopping()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            if self.services.reader is not None:
                self.services.reader.stop()
        logging.getLogger().removeHandler(self._log_handler)
        if self._signal_installed:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)

    def _from_reader_thread(self, event: ReaderEvent) -> None:
        # Runs on the reader's thread: hand over and return at once.
        self.post_message(CardEvent(event))

    def on_card_event(self, message: CardEvent) -> None:
        """Note the reader state for the technician, then let the patient screen react."""
        event = message.event
        self.services.devices.note(event, self.services.clock.now())
        patient = self._patient_screen()
        if patient is None:
            return
        # Reader state changes always count. A card only counts while the patient screen is in
        # front (reception on top of it must not check people in unseen): until then its events
        # wait, and the patient is answered as soon as reception closes.
        if self.screen is patient or isinstance(event, ReaderAttached | ReaderDetached):
            patient.handle_card(event)
        elif isinstance(event, CardRemoved):
            self._held_cards.clear()
        else:
            if not self._held_cards:
                self.notify(
                    self.staff_tr("A card is in the reader: it is read when you close this."),
                    severity="warning",
                )
            self._held_cards.append(event)

    def _screen_changed(self, screen: Screen[object]) -> None:
        """The patient screen is in front again: answer the card that waited."""
        patient = self._patient_screen()
        if patient is None or screen is not patient or not self._held_cards:
            return
        held, self._held_cards = self._held_cards, []
        for event in held:
            patient.handle_card(event)

    async def on_event(self, event: events.Event) -> None:
        """Note when input last came, whatever it was (a key, the mouse, a tap)."""
        if isinstance(event, events.InputEvent):
            self.last_input = self.services.monotonic()
        await super().on_event(event)

    def on_attendance_changed(self, message: AttendanceChanged) -> None:
        """Tell the open screens (reception reloads its day)."""
        for screen in self.screen_stack:
            screen.post_message(ReloadDay())
