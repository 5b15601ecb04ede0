"""Reception's alerts strip: a card reader that is down, the open alerts, what is due today."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from kiosk.core.clock import local
from kiosk.core.i18n import N_, Translator
from kiosk.domain.alerts import AlertView, DueToday
from kiosk.ui import result_text

ALERT_LABELS = {
    "programme_stopped": N_("Programme stopped (absence limit)"),
    "absences_warning": N_("Two absences"),
    "printer_fault": N_("Printer fault"),
}
ALERT_LINES = 5
"""Lines of the alerts strip; beyond them one line says how many more there are."""


def alert_line(alert: AlertView, tr: Translator) -> str:
    """``16/03 Two absences: Lieve De Smedt``: when, what, about whom."""
    label = ALERT_LABELS.get(alert.kind)
    what = tr(label) if label else alert.kind
    about = alert.patient_name or alert.message
    return f"{tr.short_date(local(alert.raised_at).date())} {what}: {about}"


def due_line(item: DueToday, tr: Translator) -> str:
    """``08:30 Test moment 2, followed by the interim consultation: Lieve De Smedt``."""
    what = result_text.today_text(item.title, item.followed_by, tr)
    return f"{tr.time(item.starts_at)} {what}: {item.patient_name}"


class AlertsStrip(Static):
    """A few lines under the day; names are plain text, never markup."""

    def show(
        self,
        alerts: list[AlertView],
        due: list[DueToday],
        tr: Translator,
        *,
        reader_down: bool = False,
    ) -> None:
        """Show the alerts and the day's test moments and consultations."""
        lines = [tr("Card reader: not available")] if reader_down else []
        lines.extend(alert_line(alert, tr) for alert in alerts)
        lines.extend(due_line(item, tr) for item in due)
        if len(lines) > ALERT_LINES:
            more = len(lines) - (ALERT_LINES - 1)
            lines = [*lines[: ALERT_LINES - 1], tr("... and {count} more", count=more)]
        if not lines:
            lines.append(tr("No alerts."))
        self.update(Content("\n".join(lines)))
