"""Reception's open alerts, one to choose and resolve (with how it was resolved)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from kiosk.domain.alerts import AlertView
from kiosk.ui.widgets.alerts_strip import alert_line

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp


class AlertsScreen(ModalScreen[str | None]):
    """Every open alert; answers the id of the one chosen (Enter), or None (Escape)."""

    CSS_PATH = "alerts.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", show=False)]

    def __init__(self, alerts: list[AlertView]) -> None:
        super().__init__()
        self.alerts = alerts

    def compose(self) -> ComposeResult:
        """A title, the alerts (names as plain text, never markup), a hint."""
        tr = cast("KioskApp", self.app).staff_tr
        with Vertical(id="alerts-box"):
            yield Static(tr("Open alerts"), id="alerts-title")
            found = OptionList(
                *(Option(Content(alert_line(a, tr)), id=a.alert_id) for a in self.alerts),
                id="alerts-list",
            )
            yield found
            hint = (
                tr("Enter resolves the alert chosen; Escape goes back.")
                if self.alerts
                else tr("No open alerts. Escape goes back.")
            )
            yield Static(hint, id="alerts-hint")

    def on_mount(self) -> None:
        """The first alert is chosen to begin with."""
        found = self.query_one(OptionList)
        if self.alerts:
            found.highlighted = 0
        found.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """The alert to resolve."""
        self.dismiss(event.option.id)

    def action_back(self) -> None:
        """Nothing to resolve."""
        self.dismiss(None)
