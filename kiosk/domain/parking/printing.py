"""Printing a ticket after the check-in has been committed, and recording how it went.

A code on paper must exist in the database, so printing only ever happens after the commit; a
failed print leaves the ticket as it is (the screen still shows the code) and records the error.
Either way a ``ticket_printed`` event tells the centre. The first failure of a printer raises one
``printer_fault`` alert for reception; it is resolved by the next ticket that prints, so the next
fault raises a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printer.escpos_printer import open_target
from devices.printer.file_printer import FileTicketPrinter
from devices.printer.interface import FaultKind, PrintedTicket, PrinterFault, TicketPrinter
from devices.printer.simulated_faults import FaultyPrinter
from kiosk.core.clock import Clock, local
from kiosk.core.config import ConfigError, Settings
from kiosk.core.i18n import translator
from kiosk.db.models import Alert, ParkingTicket
from kiosk.domain.alerts import raise_alert, resolve
from kiosk.domain.events import TicketPrintedPayload
from kiosk.domain.journal import emit
from kiosk.domain.parking.issue import ticket_short_code

ALERT_KIND = "printer_fault"
FAULT_SWITCH = "FAULT"
"""File in the simulated printer's folder whose content (``out_of_paper``...) fakes a fault."""


@dataclass(frozen=True)
class PrintOutcome:
    """What happened to one print request."""

    ticket_id: str
    printed: bool
    """True when the ticket came out of the printer this time."""
    already_printed: bool = False
    """Nothing was printed because the ticket had been printed before (no reprint asked)."""
    fault: FaultKind | None = None
    error: str = ""
    alert_raised: bool = False


def printed_ticket(
    ticket: ParkingTicket, settings: Settings, language: str | None = None
) -> PrintedTicket:
    """The paper layout of a ticket in ``language`` (the patient's; default the kiosk's)."""
    tr = translator(language or settings.language)
    expires = local(ticket.expires_at).strftime("%d-%m-%Y %H:%M")
    number = f"{ticket.ticket_number:010d}"
    return PrintedTicket(
        reference=f"{ticket.site_id}-{number}",
        heading=(
            settings.centre_name,
            tr("Parking ticket"),
            tr("Free exit until {time}", time=expires),
        ),
        qr_payload=ticket.payload,
        code=ticket_short_code(ticket, settings.parking.keys),
        footer=(
            tr("Show the QR code at the barrier"),
            tr("or give the code at the cash desk."),
            f"{ticket.site_id} {number}",
        ),
    )


def print_ticket(
    sessions: Callable[[], Session],
    printer: TicketPrinter,
    ticket_id: str,
    *,
    settings: Settings,
    clock: Clock,
    reprint: bool = False,
    language: str | None = None,
) -> PrintOutcome:
    """Print a committed ticket and record ``printed_at`` or ``print_error`` in its own commit.

    A ticket already printed is not printed again unless ``reprint`` is set (a second tap never
    gives a second paper). No database transaction is held while the printer works.
    """
    with sessions() as db:
        ticket = db.get(ParkingTicket, ticket_id)
        if ticket is None:
            raise LookupError(f"no parking ticket with id {ticket_id}")
        if ticket.printed_at is not None and not reprint:
            return PrintOutcome(ticket_id, printed=False, already_printed=True)
        paper = printed_ticket(ticket, settings, language)
    fault: PrinterFault | None = None
    try:
        printer.print_ticket(paper)
    except PrinterFault as exc:
        fault = exc
    now = clock.now()
    with sessions() as db, db.begin():
        ticket = db.get(ParkingTicket, ticket_id)
        assert ticket is not None  # tickets are never deleted
        open_alerts = _open_alerts(db, settings)
        if fault is None:
            ticket.printed_at, ticket.print_error = now, ""
        else:
            ticket.print_error = str(fault)[:200]
        # The centre keeps what the paper did too (and a pull never undoes it before it is sent).
        emit(
            db,
            TicketPrintedPayload(
                id=ticket.id, printed_at=ticket.printed_at, print_error=ticket.print_error
            ),
            now,
        )
        if fault is None:
            for alert in open_alerts:
                resolve(db, alert.id, now=now, actor="kiosk", resolution="a ticket printed")
            return PrintOutcome(ticket_id, printed=True)
        if not open_alerts:
            raise_alert(
                db,
                now=now,
                kind=ALERT_KIND,
                site_id=settings.site_id,
                message=f"{_alert_prefix(settings)} {fault}",
            )
        return PrintOutcome(
            ticket_id,
            printed=False,
            fault=fault.kind,
            error=ticket.print_error,
            alert_raised=not open_alerts,
        )


def _alert_prefix(settings: Settings) -> str:
    return f"Ticket printer of kiosk {settings.kiosk_id}:"


def _open_alerts(db: Session, settings: Settings) -> list[Alert]:
    """This kiosk's unresolved printer alerts (the kiosk is named at the start of the message)."""
    return list(
        db.scalars(
            select(Alert).where(
                Alert.kind == ALERT_KIND,
                Alert.site_id == settings.site_id,
                Alert.resolved_at.is_(None),
                Alert.message.startswith(_alert_prefix(settings), autoescape=True),
            )
        )
    )


def printer_from_settings(settings: Settings) -> TicketPrinter | None:
    """The configured printer: none, the simulated file printer, or an ESC/POS printer.

    The file printer writes into ``printer_target`` (default: ``tickets/`` in the data directory)
    and fakes a fault while a file named ``FAULT`` there names one.
    """
    if settings.printer == "none":
        return None
    if settings.printer == "file":
        folder = (
            Path(settings.printer_target)
            if settings.printer_target
            else (settings.data_dir / "tickets")
        )
        return FaultyPrinter(FileTicketPrinter(folder), switch_file=folder / FAULT_SWITCH)
    try:
        return open_target(settings.printer_target)
    except ValueError as exc:
        raise ConfigError(f"{settings.source or 'configuration'}: [devices] {exc}") from None
