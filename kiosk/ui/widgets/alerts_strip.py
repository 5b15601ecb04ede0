"""Reception's alerts strip: a card reader that is down, the open alerts, the tickets a printer
fault left unprinted, what is due today; all in the screen's language."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from kiosk.core.clock import local
from kiosk.core.i18n import N_, Translator
from kiosk.domain.alerts import AlertView, DueToday
from kiosk.domain.parking.unprinted import UnprintedTicket, printer_alert
from kiosk.ui import result_text

ALERT_LABELS = {
    "programme_stopped": N_("Programme stopped (absence limit)"),
    "absences_warning": N_("Two absences"),
    "printer_fault": N_("Printer fault"),
}
PRINTER_FAULTS = {
    # The values of devices.printer.interface.FaultKind, as the alert's message has them.
    "out of paper": N_("out of paper"),
    "cover open": N_("cover open"),
    "offline": N_("offline"),
    "disconnected": N_("disconnected"),
    "printer error": N_("printer error"),
}
ALERT_LINES = 5
"""Lines of the alerts strip; beyond them one line says how many more there are."""


def alert_line(alert: AlertView, tr: Translator) -> str:
    """``16/03 Two absences: Lieve De Smedt``: when, what, about whom."""
    label = ALERT_LABELS.get(alert.kind)
    what = tr(label) if label else alert.kind
    about = alert.patient_name or _message(alert, tr)
    return f"{tr.short_date(local(alert.raised_at).date())} {what}: {about}"


def _message(alert: AlertView, tr: Translator) -> str:
    """A printer alert's message in ``tr``'s language; others as they were raised."""
    printer = printer_alert(alert.message) if alert.kind == "printer_fault" else None
    if printer is None:
        return alert.message
    fault = PRINTER_FAULTS.get(printer.fault)
    return tr(
        "kiosk {kiosk}, {fault}",
        kiosk=printer.kiosk_id,
        fault=tr(fault) if fault else printer.fault,
    )


def unprinted_line(ticket: UnprintedTicket, tr: Translator) -> str:
    """``Not printed: ticket 12 (code K7M2-P9), De Smedt, Lieve: t reprints``."""
    return tr(
        "Not printed: ticket {number} (code {code}), {name}: t reprints",
        number=f"{ticket.number:010d}",
        code=ticket.short_code,
        name=ticket.patient_name,
    )


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
        unprinted: tuple[UnprintedTicket, ...] = (),
    ) -> None:
        """Show the alerts, the unprinted tickets and the day's test moments and
        consultations."""
        lines = [tr("Card reader: not available")] if reader_down else []
        lines.extend(alert_line(alert, tr) for alert in alerts)
        lines.extend(unprinted_line(ticket, tr) for ticket in unprinted)
        lines.extend(due_line(item, tr) for item in due)
        if len(lines) > ALERT_LINES:
            more = len(lines) - (ALERT_LINES - 1)
            lines = [*lines[: ALERT_LINES - 1], tr("... and {count} more", count=more)]
        if not lines:
            lines.append(tr("No alerts."))
        self.update(Content("\n".join(lines)))
