"""A parking ticket's short code shown large to reception, when no paper came out: reception
writes it down for the patient (a manual check-in without a printer, or a printer fault)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from kiosk.ui.widgets.short_code import ShortCode

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp


class TicketCodeScreen(ModalScreen[None]):
    """The code in large digits under one sentence; Enter or Escape closes it."""

    CSS_PATH = "ticket_code.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter", "close", show=False)]

    def __init__(self, sentence: str, code: str) -> None:
        super().__init__()
        self.sentence = sentence
        self.code = code

    def compose(self) -> ComposeResult:
        """The sentence, the code, a hint."""
        kiosk = cast("KioskApp", self.app)
        with Vertical(id="ticket-code-box"):
            yield Static(Content(self.sentence), id="ticket-code-sentence")
            yield ShortCode(console_safe=kiosk.console_safe, id="ticket-code")
            yield Static(kiosk.staff_tr("Enter or Escape closes."), id="ticket-code-hint")

    def on_mount(self) -> None:
        """Large digits when the terminal has the room, one line otherwise."""
        code = self.query_one(ShortCode)
        code.use_plain(self.app.size.height < 20)
        code.show(self.code)

    def action_close(self) -> None:
        """Back to reception."""
        self.dismiss(None)
