"""The parking tickets a printer fault left unprinted, for reception to reprint, and the parts
of a printer alert (which kiosk, which fault) for a screen to say in its own language."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db.models import Booking, ParkingTicket, Patient
from kiosk.domain.parking.issue import ticket_short_code

# The message kiosk.domain.parking.printing raises: "Ticket printer of kiosk K1: out of paper".
_PRINTER_ALERT = re.compile(r"^Ticket printer of kiosk (?P<kiosk>[^:]+): (?P<fault>[^:]+)")


@dataclass(frozen=True)
class UnprintedTicket:
    """A ticket issued but not printed because the printer failed. Names are for reception's
    screen, never for logs."""

    ticket_id: str
    booking_id: str
    number: int
    short_code: str
    issued_at: dt.datetime
    patient_name: str


@dataclass(frozen=True)
class PrinterAlert:
    """What a printer alert's message says: the kiosk and the fault (a
    :class:`~devices.printer.interface.FaultKind` value)."""

    kiosk_id: str
    fault: str


def printer_alert(message: str) -> PrinterAlert | None:
    """The kiosk and fault of a printer alert's message; None for another message."""
    found = _PRINTER_ALERT.match(message)
    if found is None:
        return None
    return PrinterAlert(found["kiosk"].strip(), found["fault"].strip())


def unprinted_tickets(
    db: Session, *, site_id: str, since: dt.datetime, keys: Mapping[str, bytes]
) -> list[UnprintedTicket]:
    """This site's tickets issued from ``since`` whose printing failed and that no print has
    replaced since, oldest first."""
    rows = db.execute(
        select(ParkingTicket, Patient)
        .join(Booking, Booking.id == ParkingTicket.booking_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(
            ParkingTicket.site_id == site_id,
            ParkingTicket.issued_at >= since,
            ParkingTicket.printed_at.is_(None),
            ParkingTicket.print_error != "",
        )
        .order_by(ParkingTicket.issued_at)
    )
    return [
        UnprintedTicket(
            ticket_id=ticket.id,
            booking_id=ticket.booking_id,
            number=ticket.ticket_number,
            short_code=ticket_short_code(ticket, keys),
            issued_at=ticket.issued_at,
            patient_name=f"{patient.last_name}, {patient.first_name}".strip(", "),
        )
        for ticket, patient in rows
    ]
