"""The result of a tap: who, which session, what to do now, and the parking ticket.

The key facts (the greeting, the session with its time and room, what to do now, the short code)
stand centred, with the QR beside them; the reminders come last and "take your card back" is
docked at the bottom. Nothing scrolls at the kiosk's sizes (80x24 to 240x67): below
:data:`COMPACT_LINES` lines the view drops its blank lines (class ``-compact``) and the short code
is one bold line instead of large digits; from :data:`WIDE_COLUMNS` columns the key facts stand
in wider blocks (class ``-wide``). Success and refusal differ by a symbol and a word, not only by
colour.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Resize
from textual.widgets import Button, Static

from kiosk.core.i18n import LANGUAGE_NAMES, LANGUAGES
from kiosk.ui.result_text import ResultText
from kiosk.ui.widgets.short_code import ShortCode

COMPACT_LINES = 30
"""The view's height below which it drops blank lines and shows the code on one line."""
WIDE_COLUMNS = 160
"""The view's width from which the key facts stand in wider blocks."""
NAMED_BUTTON_COLUMNS = 110
"""The view's width from which the language buttons carry the language's name, not its code."""
LARGE_CODE_LINES = COMPACT_LINES
"""The view's height from which the short code is drawn in large digits."""


class ResultView(Vertical):
    """The text beside the QR code (black modules on a white field), the card line below."""

    def __init__(self, *, console_safe: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self._console_safe = console_safe

    def compose(self) -> ComposeResult:
        """The text column, the ticket column, and the card line below both."""
        with Horizontal(id="result-body"):
            with Vertical(id="result-text"):
                yield Static(id="result-badge")
                yield Static(id="result-title")
                yield Static(id="result-lines")
                yield Static(id="result-next")
                yield ShortCode(console_safe=self._console_safe, id="result-code")
                yield Static(id="result-extras")
                yield Static(id="result-print")
                yield Static(id="result-reminders")
            with Vertical(id="result-ticket"):
                yield Static(id="result-qr")
        # Docked at the bottom, full width: always seen, whatever the result's length; the
        # patient can switch the result to another language there. Above it, while a time
        # limit runs out, its countdown.
        with Vertical(id="result-bottom"):
            yield Static(id="result-countdown")
            with Horizontal(id="result-row"):
                yield Static(id="result-card")
                yield Button("", id="result-repeat", compact=True)
                for language in LANGUAGES:
                    yield Button(
                        language.upper(),
                        id=f"result-lang-{language}",
                        classes="language",
                        compact=True,
                    )

    def on_resize(self, event: Resize) -> None:
        """Blank lines and large digits only where they fit with everything else."""
        compact = event.size.height < COMPACT_LINES
        self.set_class(compact, "-compact")
        self.set_class(event.size.width >= WIDE_COLUMNS, "-wide")
        self.query_one(ShortCode).use_plain(compact)
        for button in self.query(".language").results(Button):
            language = (button.id or "").removeprefix("result-lang-")
            wide = event.size.width >= NAMED_BUTTON_COLUMNS
            button.label = LANGUAGE_NAMES[language] if wide else language.upper()
            button.compact = compact

    def show_language(self, language: str) -> None:
        """Mark the button of the language the result is shown in."""
        for button in self.query(".language").results(Button):
            button.set_class(button.id == f"result-lang-{language}", "-current")

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
        ok, no = ("+", "x") if self._console_safe else ("✔", "✖")
        badge = self.query_one("#result-badge", Static)
        badge.update(Content(f"{no} {text.badge}" if text.badge else ""))
        badge.display = bool(text.badge)
        title = f"{ok} {text.title}" if text.admitted and text.title else text.title
        self._set("#result-title", title)
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
        label = self.query_one(selector, Static)
        label.update(Content(text))
        label.display = bool(text)

    def show_card_note(self, note: str, *, warn: bool) -> None:
        """The last line: take your card back (a warning when the card has been left in)."""
        label = self.query_one("#result-card", Static)
        label.update(Content(note))
        label.set_class(warn, "-warn")

    def show_repeat(self, label: str) -> None:
        """The button that says the text again ("" hides it: speech output is off)."""
        button = self.query_one("#result-repeat", Button)
        button.label = label
        button.display = bool(label)

    def show_countdown(self, text: str) -> None:
        """The line that warns of the end of a time limit ("" hides it)."""
        self._set("#result-countdown", text)

    def show_print_note(self, note: str, *, fault: bool) -> None:
        """What happened to the paper ticket."""
        label = self.query_one("#result-print", Static)
        label.update(Content(note))
        label.display = bool(note)
        label.set_class(fault, "-fault")
