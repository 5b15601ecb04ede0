"""The patient's home screen: insert your e-ID, and the language buttons."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.core.i18n import LANGUAGE_NAMES, LANGUAGES, Translator


class HomeView(Vertical):
    """Calm and large: one instruction, the date, and one tap per language."""

    def compose(self) -> ComposeResult:
        """The texts and the four language buttons."""
        yield Static(id="home-welcome")
        yield Static(id="home-prompt")
        yield Static(id="home-hint")
        yield Static(id="home-date")
        with Center(), Horizontal(id="home-languages"):
            for language in LANGUAGES:
                yield Button(
                    LANGUAGE_NAMES[language],
                    id=f"lang-{language}",
                    classes="language",
                )

    def show(self, tr: Translator, date_text: str) -> None:
        """Texts in ``tr``'s language; its button is marked as the current one."""
        self.query_one("#home-welcome", Static).update(tr("Welcome"))
        self.query_one("#home-prompt", Static).update(tr("Please insert your e-ID in the reader"))
        self.query_one("#home-hint", Static).update(tr("Tap your language below."))
        self.query_one("#home-date", Static).update(date_text)
        for button in self.query(".language").results(Button):
            button.set_class(button.id == f"lang-{tr.language}", "-current")
