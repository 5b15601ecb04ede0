"""Manual check-in: find the patient by name and birth date, then choose them."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from kiosk.domain.patient_search import PatientMatch, parse_birth_date

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp

logger = logging.getLogger(__name__)


class ManualCheckinScreen(ModalScreen[str | None]):
    """Answers the chosen patient's id, or None."""

    CSS_PATH = "manual_checkin.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", show=False)]

    @property
    def kiosk(self) -> KioskApp:
        """The app, typed."""
        return cast("KioskApp", self.app)

    def compose(self) -> ComposeResult:
        """Two fields, the matches, a hint."""
        tr = self.kiosk.staff_tr
        with Vertical(id="manual-box"):
            yield Static(tr("Manual check-in (card forgotten)"), id="manual-title")
            yield Input(placeholder=tr("Name"), id="manual-name", compact=True)
            yield Input(placeholder=tr("Birth date (DD/MM/YYYY)"), id="manual-birth", compact=True)
            yield OptionList(id="manual-matches")
            yield Static(
                tr("Enter searches; choose a patient to check in; Escape goes back."),
                id="manual-hint",
            )

    def on_mount(self) -> None:
        """Cursor setting for the fields."""
        for field in self.query(Input).results(Input):
            field.cursor_blink = self.kiosk.cursor_blink

    def on_input_submitted(self) -> None:
        """Search with what is typed."""
        name = self.query_one("#manual-name", Input).value
        birth_text = self.query_one("#manual-birth", Input).value
        birth = parse_birth_date(birth_text)
        if birth_text.strip() and birth is None:
            self._hint(self.kiosk.staff_tr("That birth date is not a date (DD/MM/YYYY)."))
            return
        self._search(name, birth)

    @work(thread=True, exclusive=True, group="manual-search")
    def _search(self, name: str, birth: dt.date | None) -> None:
        try:
            matches = self.kiosk.services.facade.search_patients(name, birth)
        except Exception as exc:
            logger.error("patient search failed: %s", type(exc).__name__)
            matches = []
        self.app.call_from_thread(self._show, matches)

    def _show(self, matches: list[PatientMatch]) -> None:
        tr = self.kiosk.staff_tr
        found = self.query_one("#manual-matches", OptionList)
        found.clear_options()
        for match in matches:
            born = tr.short_date(match.birth_date) if match.birth_date else ""
            found.add_option(
                Option(
                    Content(f"{match.last_name}, {match.first_name}  {born}"), id=match.patient_id
                )
            )
        if matches:
            found.highlighted = 0
            found.focus()
            self._hint(tr("{count} found: choose one with Enter.", count=len(matches)))
        else:
            self._hint(tr("Nobody found. Check the name and the birth date."))

    def _hint(self, text: str) -> None:
        self.query_one("#manual-hint", Static).update(text)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """The chosen patient."""
        self.dismiss(event.option.id)

    def action_back(self) -> None:
        """Give up."""
        self.dismiss(None)
