"""The technician's view: reader, printer, database and sync state, version, recent errors."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from devices.printer.interface import FaultKind, PrinterStatus
from kiosk import __version__
from kiosk.core.clock import local
from kiosk.core.i18n import N_, Translator

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp
    from kiosk.ui.facade import BoxState

REFRESH_SECONDS = 2.0
PRINTER_FAULTS: dict[FaultKind | None, str] = {
    FaultKind.OUT_OF_PAPER: N_("Printer: out of paper"),
    FaultKind.COVER_OPEN: N_("Printer: cover open"),
    FaultKind.OFFLINE: N_("Printer: offline"),
    FaultKind.DISCONNECTED: N_("Printer: disconnected"),
    FaultKind.ERROR: N_("Printer: fault"),
}
"""The technician's line for each printer fault, translated whole."""
ERROR_WIDTH = 60
"""The last sync error is cut to this many characters (the log has it whole)."""


class TechnicianScreen(Screen[None]):
    """State of the box, refreshed every few seconds. ``x`` stops the kiosk program."""

    CSS_PATH = "technician.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", show=False),
        Binding("x", "quit_kiosk", show=False),
    ]

    @property
    def kiosk(self) -> KioskApp:
        """The app, typed."""
        return cast("KioskApp", self.app)

    def compose(self) -> ComposeResult:
        """Title, the state lines, the key line."""
        tr = self.kiosk.staff_tr
        yield Static(tr("Technician"), id="tech-title")
        yield Static(id="tech-state")
        yield Static(tr("Esc back  x stop the kiosk program"), id="tech-keys")

    def on_mount(self) -> None:
        """Read the state now and then every few seconds."""
        self.refresh_state()
        self.set_interval(REFRESH_SECONDS, self.refresh_state)

    def refresh_state(self) -> None:
        """Ask the printer and the database (in a worker: either may be slow)."""
        self._probe()

    @work(thread=True, exclusive=True, group="tech-probe")
    def _probe(self) -> None:
        services = self.kiosk.services
        printer = services.printer.status() if services.printer is not None else None
        self.app.call_from_thread(self._show, printer, services.facade.box_state())

    def _show(self, printer: PrinterStatus | None, box: BoxState) -> None:
        tr = self.kiosk.staff_tr
        services = self.kiosk.services
        devices = services.devices
        lines = [
            tr("Version: rehab-kiosk {version}", version=__version__),
            tr("Mode: simulation") if self.kiosk.simulate else tr("Mode: production"),
            tr(
                "Kiosk: {kiosk} at site {site}",
                kiosk=services.settings.kiosk_id,
                site=services.settings.site_id,
            ),
        ]
        if services.reader is None:
            lines.append(tr("Card reader: none in this program"))
        elif devices.reader_attached:
            lines.append(tr("Card reader: {name}, connected", name=devices.reader_name))
        elif devices.reader_attached is False:
            # The reader's own words are English: on a line of their own, never inside a sentence.
            lines.append(tr("Card reader: not connected"))
            if devices.reader_reason:
                lines.append(f"    {devices.reader_reason}")
        else:
            lines.append(tr("Card reader: waiting for the reader"))
        lines.append(
            tr("Last card read: {time}", time=tr.time(devices.last_card_at))
            if devices.last_card_at
            else tr("Last card read: none yet")
        )
        if printer is None:
            lines.append(tr("Printer: none configured"))
        elif printer.ready:
            lines.append(tr("Printer: ready"))
        else:
            lines.append(tr(PRINTER_FAULTS.get(printer.fault, PRINTER_FAULTS[FaultKind.ERROR])))
        if box.health.reachable:
            lines.append(tr("Database: {url}, answering", url=box.database))
            lines.extend(_sync_lines(box, tr))
        else:
            lines.append(tr("Database: not answering ({error})", error=box.health.error))
        lines.append("")
        lines.append(tr("Recent errors:"))
        errors = list(devices.recent_errors)
        lines.extend(f"  {tr.time(at)} {text}" for at, text in errors[-6:])
        if not errors:
            lines.append(tr("  none"))
        self.query_one("#tech-state", Static).update("\n".join(lines))

    def action_back(self) -> None:
        """Back to the kiosk screen."""
        self.app.pop_screen()

    def action_quit_kiosk(self) -> None:
        """Stop the program (systemd starts it again unless it was stopped on purpose)."""
        self.app.exit()


def _sync_lines(box: BoxState, tr: Translator) -> list[str]:
    """Queue, set aside, last success, last error and the age of the central copy."""
    sync = box.sync
    if sync is None:
        return [tr("Sync: state unknown")]
    lines = [
        tr(
            "Sync: {queue} events waiting, {aside} set aside",
            queue=sync.queue,
            aside=sync.set_aside,
        ),
        tr("Last sync: {moment}", moment=_moment(sync.last_success_at, tr))
        if sync.last_success_at
        else tr("Last sync: never"),
    ]
    if sync.last_error:
        lines.append(
            tr(
                "Last sync error: {moment} {error}",
                moment=_moment(sync.last_error_at, tr),
                error=sync.last_error[:ERROR_WIDTH],
            )
        )
    if sync.replica_age_seconds is None:
        lines.append(tr("Bookings from the central database: none pulled yet"))
    else:
        lines.append(
            tr(
                "Bookings from the central database: {minutes} min old",
                minutes=sync.replica_age_seconds // 60,
            )
        )
    return lines


def _moment(moment: dt.datetime | None, tr: Translator) -> str:
    if moment is None:
        return "-"
    return f"{tr.short_date(local(moment).date())} {tr.time(moment)}"
