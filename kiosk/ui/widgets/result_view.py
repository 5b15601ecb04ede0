"""The result of a tap: who, which session, what is special, and the parking ticket."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from kiosk.parking.qr import screen_text
from kiosk.ui.result_text import ResultText
from kiosk.ui.widgets.short_code import ShortCode


class ResultView(Horizontal):
    """Text on the left; the QR code on the right (black modules on a white field)."""

    def __init__(self, *, console_safe: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self._console_safe = console_safe

    def compose(self) -> ComposeResult:
        """The text column and the ticket column."""
        with Vertical(id="result-text"):
            yield Static(id="result-title")
            yield Static(id="result-lines")
            yield Static(id="result-next")
            yield ShortCode(console_safe=self._console_safe, id="result-code")
            yield Static(id="result-extras")
            yield Static(id="result-print")
            yield Static(id="result-reminders")
        with Vertical(id="result-ticket"):
            yield Static(id="result-qr")

    def show(self, text: ResultText) -> None:
        """Fill the view with ``text``; the ticket column only when there is a ticket."""
        self.set_class(text.admitted, "-admitted")
        self.set_class(not text.admitted, "-refusal")
        self.query_one("#result-title", Static).update(text.title)
        self.query_one("#result-lines", Static).update("\n".join(text.lines))
        self.query_one("#result-next", Static).update(text.next_step)
        self.query_one("#result-extras", Static).update("\n".join(text.extras))
        self.query_one("#result-print", Static).update("")
        self.query_one("#result-reminders", Static).update("\n".join(text.reminders))
        has_ticket = bool(text.qr_payload)
        ticket = self.query_one("#result-ticket")
        ticket.display = has_ticket
        code = self.query_one("#result-code", ShortCode)
        code.display = bool(text.short_code)
        if has_ticket:
            self.query_one("#result-qr", Static).update(screen_text(text.qr_payload))
        if text.short_code:
            code.show(text.short_code)

    def show_print_note(self, note: str, *, fault: bool) -> None:
        """What happened to the paper ticket."""
        label = self.query_one("#result-print", Static)
        label.update(note)
        label.set_class(fault, "-fault")
