"""The tickets a printer fault left unprinted, and a printer alert's parts, as reception reads
them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from devices.printer.file_printer import FileTicketPrinter
from devices.printer.interface import FaultKind
from devices.printer.simulated_faults import FaultyPrinter
from kiosk.core.clock import SettableClock
from kiosk.core.config import Settings
from kiosk.db.models import Alert
from kiosk.domain.parking.issue import issue_ticket, ticket_short_code
from kiosk.domain.parking.printing import print_ticket
from kiosk.domain.parking.unprinted import PrinterAlert, printer_alert, unprinted_tickets

END = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
NOW = END - dt.timedelta(hours=2)


def test_a_fault_leaves_a_ticket_to_reprint_until_it_prints(
    sessions: sessionmaker[Session],
    settings: Settings,
    new_booking: Callable[..., str],
    tmp_path: Path,
) -> None:
    with sessions() as db, db.begin():
        ticket = issue_ticket(
            db, settings=settings, booking_id=new_booking(), session_end=END, now=NOW
        )
        ticket_id, code = ticket.id, ticket_short_code(ticket, settings.parking.keys)
    printer = FaultyPrinter(FileTicketPrinter(tmp_path / "tickets"))
    printer.set_fault(FaultKind.OUT_OF_PAPER)
    clock = SettableClock(NOW, running=False)
    print_ticket(sessions, printer, ticket_id, settings=settings, clock=clock)
    since = NOW - dt.timedelta(hours=1)
    keys = settings.parking.keys
    with sessions() as db:
        (left,) = unprinted_tickets(db, site_id="GENK", since=since, keys=keys)
        assert (left.ticket_id, left.short_code) == (ticket_id, code)
        assert not unprinted_tickets(db, site_id="GENK", since=NOW + dt.timedelta(1), keys=keys)
        alert = db.scalars(select(Alert)).one()
    assert printer_alert(alert.message) == PrinterAlert(settings.kiosk_id, "out of paper")
    printer.set_fault(None)
    print_ticket(sessions, printer, ticket_id, settings=settings, clock=clock, reprint=True)
    with sessions() as db:
        assert not unprinted_tickets(db, site_id="GENK", since=since, keys=keys)


def test_another_message_is_no_printer_alert() -> None:
    assert printer_alert("paper out at the kiosk") is None
    assert printer_alert("Ticket printer of kiosk K1: offline") == PrinterAlert("K1", "offline")
