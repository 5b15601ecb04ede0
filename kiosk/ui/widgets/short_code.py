"""The parking ticket's short code: large digits, or one bold line (console, small screens)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Static


class ShortCode(Vertical):
    """A ``XXXX-XXXX-XXXX-XXXX`` code on two lines of large digits, so that it fits beside the QR.

    On the Linux console (no heavy box glyphs) and on small screens (class ``-plain``) it is
    one bold line instead; only the visible form is drawn.
    """

    def __init__(self, *, console_safe: bool, id: str | None = None) -> None:
        super().__init__(id=id, classes="-console" if console_safe else "")
        self._console_safe = console_safe
        self._code = ""

    def compose(self) -> ComposeResult:
        """The one-line form; the large digits unless on the console."""
        yield Static(id="code-plain")
        if not self._console_safe:
            yield Digits(id="code-1")
            yield Digits(id="code-2")

    @property
    def plain(self) -> bool:
        """Whether the code is shown as one line."""
        return self._console_safe or self.has_class("-plain")

    def use_plain(self, plain: bool) -> None:
        """Switch between large digits and one line (the screen's height decides)."""
        if plain != self.has_class("-plain"):
            self.set_class(plain, "-plain")
            self.show(self._code)

    def show(self, code: str) -> None:
        """Show ``code`` (the large form splits it after its second group)."""
        self._code = code
        if self.plain:
            self.query_one("#code-plain", Static).update(code)
            return
        head, _, tail = code.partition("-")
        second, _, rest = tail.partition("-")
        self.query_one("#code-1", Digits).update(f"{head}-{second}" if second else head)
        self.query_one("#code-2", Digits).update(rest)
