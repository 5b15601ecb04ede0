"""The strip at the top of the kiosk screen: the centre's name and the time."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static


class TopBar(Horizontal):
    """Centre name on the left, the time on the right."""

    def compose(self) -> ComposeResult:
        """The two labels."""
        yield Static(id="top-centre")
        yield Static(id="top-clock")

    def show(self, centre: str, clock_text: str) -> None:
        """Update both labels."""
        self.query_one("#top-centre", Static).update(centre)
        self.query_one("#top-clock", Static).update(clock_text)
