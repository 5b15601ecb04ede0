"""The parking ticket's short code in large digits (plain bold text on the Linux console)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Static


class ShortCode(Vertical):
    """A ``XXX-XXXX-XXX-XX`` code on two lines of large digits, so that it fits beside the QR."""

    def __init__(self, *, console_safe: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self._console_safe = console_safe

    def compose(self) -> ComposeResult:
        """Large digits, or on the console (no heavy box glyphs) one bold line."""
        if self._console_safe:
            yield Static(id="code-plain")
        else:
            yield Digits(id="code-1")
            yield Digits(id="code-2")

    def show(self, code: str) -> None:
        """Show ``code`` (split after its second group)."""
        if self._console_safe:
            self.query_one("#code-plain", Static).update(code)
            return
        head, _, tail = code.partition("-")
        second, _, rest = tail.partition("-")
        self.query_one("#code-1", Digits).update(f"{head}-{second}" if second else head)
        self.query_one("#code-2", Digits).update(rest)
