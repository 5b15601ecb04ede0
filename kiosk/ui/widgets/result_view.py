"""The result of a tap: who, which session, what is special, and the parking ticket.

At 80x24 everything that matters is visible without scrolling: the name, the session with its
time and room, the progress, today's special moment, what to do next, the short code and the QR.
The reminders come last. Below :data:`LARGE_CODE_LINES` lines the short code is one bold line
instead of large digits.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Resize
from textual.widgets import Static

from kiosk.ui.result_text import ResultText
from kiosk.ui.widgets.short_code import ShortCode

LARGE_CODE_LINES = 30
"""The view's height from which the short code is drawn in large digits."""


class ResultView(Horizontal):
    """Text on the left; the QR code on the right (black modules on a white field)."""

    def __init__(self, *, console_safe: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self._console_safe = console_safe

    def compose(self) -> ComposeResult:
        """The text column, the ticket column, and the card line below both."""
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
        # Docked at the bottom, full width: always seen, whatever the result's length.
        yield Static(id="result-card")

    def on_resize(self, event: Resize) -> None:
        """Large digits only where they fit with everything else."""
        self.query_one(ShortCode).use_plain(event.size.height < LARGE_CODE_LINES)

    def show(self, text: ResultText) -> None:
        """Fill the view with ``text``; the ticket column only when there is a ticket."""
        # One style update at most: restyling the view's widgets is the costly part of a show.
        changed = self.has_class("-refusal") == text.admitted
        self.set_class(not text.admitted, "-refusal", update=False)
        if changed:
            self.update_node_styles()
        self._fill(text)

    def clear(self) -> None:
        """Nothing personal left: empty texts and no ticket (the styles stay as they are)."""
        self._fill(ResultText(""))

    def _fill(self, text: ResultText) -> None:
        # Plain content, never markup: a name or a room may hold a bracket.
        self._set("#result-title", text.title)
        self._set("#result-lines", "\n".join(text.lines))
        self._set("#result-next", text.next_step)
        self._set("#result-extras", "\n".join(text.extras))
        self._set("#result-print", "")
        self._set("#result-reminders", "\n".join(text.reminders))
        self._set("#result-qr", text.qr_text)
        self.show_card_note("", warn=False)
        self.query_one("#result-ticket").display = bool(text.qr_text)
        code = self.query_one("#result-code", ShortCode)
        code.display = bool(text.short_code)
        code.show(text.short_code)

    def _set(self, selector: str, text: str) -> None:
        self.query_one(selector, Static).update(Content(text))

    def show_card_note(self, note: str, *, warn: bool) -> None:
        """The last line: take your card back (a warning when the card has been left in)."""
        label = self.query_one("#result-card", Static)
        label.update(Content(note))
        label.display = bool(note)
        label.set_class(warn, "-warn")

    def show_print_note(self, note: str, *, fault: bool) -> None:
        """What happened to the paper ticket."""
        label = self.query_one("#result-print", Static)
        label.update(Content(note))
        label.set_class(fault, "-fault")
