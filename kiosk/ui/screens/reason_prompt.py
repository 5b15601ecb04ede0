"""Asks reception for a reason (an excused absence, a cancellation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp


class ReasonPrompt(ModalScreen[str | None]):
    """Answers the typed reason on Enter, None on Escape."""

    CSS_PATH = "reason_prompt.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", show=False)]

    def __init__(self, question: str, *, required: bool) -> None:
        super().__init__()
        self.question = question
        self.required = required

    def compose(self) -> ComposeResult:
        """The question, the field and a hint."""
        kiosk = cast("KioskApp", self.app)
        tr = kiosk.staff_tr
        with Vertical(id="reason-box"):
            yield Static(self.question, id="reason-question")
            yield Input(id="reason-input", max_length=200, compact=True)
            yield Static(tr("Enter to confirm, Escape to go back."), id="reason-hint")

    def on_mount(self) -> None:
        """The cursor follows the app's blink setting (snapshots need it still)."""
        self.query_one(Input).cursor_blink = cast("KioskApp", self.app).cursor_blink

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Accept the reason (a required one must not be empty)."""
        reason = event.value.strip()
        if self.required and not reason:
            tr = cast("KioskApp", self.app).staff_tr
            self.query_one("#reason-hint", Static).update(tr("A reason is needed."))
            return
        self.dismiss(reason)

    def action_back(self) -> None:
        """Give up."""
        self.dismiss(None)
