"""The Textual app: a thin shell that wires the card reader to the screens.

The patient can never leave the kiosk: no inherited quit or palette keys; reception and the
technician are behind a PIN, their keys hidden. The card reader's thread reaches the app only
through ``post_message`` (thread-safe). SIGTERM ends the app the normal way, so the terminal is
restored when systemd stops the kiosk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import ClassVar, Literal

from textual.app import App
from textual.binding import BindingType
from textual.screen import Screen

from devices.eid.reader import (
    CardInserted,
    CardReadFailed,
    IdentityRead,
    ReaderAttached,
    ReaderDetached,
    ReaderEvent,
)
from kiosk.i18n import Translator, translator
from kiosk.ui.messages import AttendanceChanged, CardEvent
from kiosk.ui.screens.patient import PatientScreen
from kiosk.ui.screens.reception import ReceptionScreen
from kiosk.ui.screens.technician import TechnicianScreen
from kiosk.ui.services import KioskServices, RecentErrors

HERE = Path(__file__).parent
CONSOLE_CSS = HERE / "console.tcss"
CONSOLE_THEME = "ansi-dark"
"""The 16-colour theme for the Linux console (the terminal's own palette)."""

Mode = Literal["kiosk", "reception"]


class KioskApp(App[None], inherit_bindings=False):
    """The kiosk (patient screen first) or, in ``reception`` mode, reception on its own."""

    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = []
    CSS_PATH: ClassVar[list[str | PurePath]] = [
        HERE / "app.tcss",
        *sorted((HERE / "widgets").glob("*.tcss")),
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

    @property
    def staff_tr(self) -> Translator:
        """Texts of the staff screens, in the configured language."""
        return translator(self.services.settings.language)

    def get_default_screen(self) -> Screen[None]:
        """The screen under all others: the patient's, or reception's in reception mode."""
        if self.mode == "reception":
            return ReceptionScreen(standalone=True)
        return PatientScreen(simulate=self.simulate)

    def open_staff_screen(self, target: str) -> None:
        """Show reception or the technician screen above the kiosk screen."""
        self.push_screen(
            TechnicianScreen() if target == "technician" else ReceptionScreen(standalone=False)
        )

    def on_mount(self) -> None:
        """Pick the theme, catch SIGTERM, start the card reader."""
        if self.console_safe:
            self.theme = CONSOLE_THEME
        logging.getLogger().addHandler(self._log_handler)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            # Only possible in the main thread; a kiosk always runs there.
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.exit)
            self._signal_installed = True
        reader = self.services.reader
        if reader is not None and self.mode == "kiosk":
            self._unsubscribe = reader.subscribe(self._from_reader_thread)
            reader.start()
        notifier = self.services.notifier
        notifier.ready("home screen shown")
        interval = notifier.interval_seconds()
        if interval is not None:
            # Pinged from the event loop: a hung loop stops the pings and systemd restarts us.
            self.set_interval(interval, notifier.ping)

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
        state = self.services.devices
        if isinstance(event, ReaderAttached):
            state.reader_name, state.reader_attached, state.reader_reason = event.reader, True, ""
        elif isinstance(event, ReaderDetached):
            state.reader_attached, state.reader_reason = False, event.reason
        elif isinstance(event, IdentityRead | CardReadFailed | CardInserted):
            state.last_card_at = self.services.clock.now()
        patient = self.screen_stack[0] if self.screen_stack else None
        if isinstance(patient, PatientScreen):
            # Cards only count while the patient screen is in front; reception on top of it
            # must not check people in unseen. Reader state changes always count.
            in_front = self.screen is patient
            if in_front or isinstance(event, ReaderAttached | ReaderDetached):
                patient.handle_card(event)

    def on_attendance_changed(self, message: AttendanceChanged) -> None:
        """Tell an open reception screen to reload."""
        for screen in self.screen_stack:
            if isinstance(screen, ReceptionScreen):
                screen.reload()
