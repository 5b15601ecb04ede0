"""The PIN that opens reception or the technician screen from the kiosk.

Five wrong PINs lock it for five minutes (:mod:`kiosk.core.reception_pin`). Left alone, the screen
closes by itself after :data:`IDLE_SECONDS` so that it never stays in front of a patient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from kiosk.core.reception_pin import PinAnswer

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp

IDLE_SECONDS = 30.0


class PinScreen(ModalScreen[None]):
    """Asks for the PIN; on success replaces itself with the staff screen asked for."""

    CSS_PATH = "pin.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", show=False)]

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self._since = 0.0

    @property
    def kiosk(self) -> KioskApp:
        """The app, typed."""
        return cast("KioskApp", self.app)

    def compose(self) -> ComposeResult:
        """A title, the PIN field and a message line."""
        tr = self.kiosk.staff_tr
        with Vertical(id="pin-box"):
            yield Static(tr("Staff only: enter the PIN"), id="pin-title")
            yield Input(
                password=True,
                restrict=r"[0-9]*",
                max_length=8,
                id="pin-input",
                compact=True,
                placeholder="PIN",
            )
            yield Static(tr("Press Escape to go back."), id="pin-message")

    def on_mount(self) -> None:
        """Start the idle timeout; say so when no PIN is configured."""
        self.query_one(Input).cursor_blink = self.kiosk.cursor_blink
        self._since = self.kiosk.services.monotonic()
        self.set_interval(0.5, self._idle_check)
        if not self.kiosk.services.pin_gate.configured:
            self._say(self.kiosk.staff_tr("No PIN is configured: run `kiosk pin-hash`."))

    def _idle_check(self) -> None:
        if self.kiosk.services.monotonic() - self._since >= IDLE_SECONDS:
            self.dismiss(None)

    def on_input_changed(self) -> None:
        """Typing keeps the screen open."""
        self._since = self.kiosk.services.monotonic()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Check the PIN off the UI thread (scrypt takes a moment)."""
        event.input.value = ""
        self._check(event.value)

    @work(thread=True, exclusive=True, group="pin")
    def _check(self, pin: str) -> None:
        answer = self.kiosk.services.pin_gate.attempt(pin)
        self.app.call_from_thread(self._answered, answer)

    def _answered(self, answer: PinAnswer) -> None:
        tr = self.kiosk.staff_tr
        if answer.accepted:
            self.dismiss(None)
            self.kiosk.open_staff_screen(self.target)
        elif answer.locked_until is not None:
            self._say(
                tr("Too many wrong PINs: locked until {time}.", time=tr.time(answer.locked_until))
            )
        else:
            self._say(tr("Wrong PIN. Tries left: {count}.", count=answer.attempts_left))

    def _say(self, text: str) -> None:
        self.query_one("#pin-message", Static).update(text)

    def action_close(self) -> None:
        """Back to the kiosk screen."""
        self.dismiss(None)
