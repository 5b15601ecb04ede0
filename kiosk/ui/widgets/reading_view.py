"""Shown the moment a card goes in: the card is being read, leave it in."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from kiosk.core.i18n import Translator


class ReadingView(Vertical):
    """Progress while the card is read and the check-in recorded."""

    def compose(self) -> ComposeResult:
        """Two lines and a row of dots."""
        yield Static(id="reading-title")
        yield Static(id="reading-hint")
        yield Static(id="reading-dots")

    def show(self, tr: Translator, checking: bool) -> None:
        """``checking`` once the card is read and the check-in is being recorded."""
        self.query_one("#reading-title", Static).update(
            tr("Checking you in...") if checking else tr("Reading your card...")
        )
        self.query_one("#reading-hint", Static).update(tr("Please leave your card in the reader."))
        self.query_one("#reading-dots", Static).update(
            "[ * * *    ]" if checking else "[ *        ]"
        )
