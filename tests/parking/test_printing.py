"""Printing after the commit: the file printer's output, and faults that lose or double nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from devices.printer.escpos_printer import EscposTicketPrinter
from devices.printer.file_printer import FileTicketPrinter
from devices.printer.interface import FaultKind, PrintedTicket, PrinterFault, TicketPrinter
from devices.printer.simulated_faults import FaultyPrinter
from kiosk.core.clock import SettableClock
from kiosk.core.config import ConfigError, Settings
from kiosk.db.models import Alert, ParkingTicket
from kiosk.domain.parking.issue import issue_ticket
from kiosk.domain.parking.printing import ALERT_KIND, print_ticket, printer_from_settings

REFERENCE = Path(__file__).parent / "reference"
END = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
NOW = END - dt.timedelta(hours=2)


def _check_in(sessions: sessionmaker[Session], settings: Settings, booking: str) -> str:
    """The check-in side: the ticket is issued and committed before anything is printed."""
    with sessions() as db, db.begin():
        ticket = issue_ticket(db, settings=settings, booking_id=booking, session_end=END, now=NOW)
        return ticket.id


def _ticket(sessions: sessionmaker[Session], ticket_id: str) -> ParkingTicket:
    with sessions() as db:
        ticket = db.get(ParkingTicket, ticket_id)
        assert ticket is not None
        return ticket


def _count(sessions: sessionmaker[Session], model: type[object]) -> int:
    with sessions() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def _open_alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions() as db:
        return list(db.scalars(select(Alert).where(Alert.resolved_at.is_(None))))


def test_file_printer_output_matches_the_reference(
    sessions: sessionmaker[Session],
    settings: Settings,
    new_booking: Callable[..., str],
    tmp_path: Path,
) -> None:
    ticket_id = _check_in(sessions, settings, new_booking())
    folder = tmp_path / "tickets"
    clock = SettableClock(NOW, running=False)
    outcome = print_ticket(
        sessions, FileTicketPrinter(folder), ticket_id, settings=settings, clock=clock
    )
    assert outcome.printed and _ticket(sessions, ticket_id).printed_at == NOW
    name = "GENK-0100000001"
    expected_text = (REFERENCE / f"{name}.txt").read_text(encoding="utf-8")
    assert (folder / f"{name}.txt").read_text(encoding="utf-8") == expected_text
    with (
        Image.open(folder / f"{name}.png") as printed,
        Image.open(REFERENCE / f"{name}.png") as ref,
    ):
        assert printed.size == ref.size
        assert printed.convert("1").tobytes() == ref.convert("1").tobytes()


@pytest.mark.parametrize(
    "fault",
    [FaultKind.OUT_OF_PAPER, FaultKind.COVER_OPEN, FaultKind.OFFLINE, FaultKind.DISCONNECTED],
)
def test_a_printer_fault_loses_and_doubles_nothing(
    sessions: sessionmaker[Session],
    settings: Settings,
    new_booking: Callable[..., str],
    tmp_path: Path,
    fault: FaultKind,
) -> None:
    folder = tmp_path / "tickets"
    printer = FaultyPrinter(FileTicketPrinter(folder))
    printer.set_fault(fault)
    clock = SettableClock(NOW, running=False)
    booking = new_booking()

    ticket_id = _check_in(sessions, settings, booking)
    failed = print_ticket(sessions, printer, ticket_id, settings=settings, clock=clock)
    assert not failed.printed and failed.fault is fault and failed.alert_raised
    kept = _ticket(sessions, ticket_id)
    assert kept.printed_at is None and str(fault) in kept.print_error
    alerts = _open_alerts(sessions)
    assert [a.kind for a in alerts] == [ALERT_KIND] and "GENK-1" in alerts[0].message

    # The patient taps again while the printer is still broken: same ticket, no second alert.
    assert _check_in(sessions, settings, booking) == ticket_id
    again = print_ticket(sessions, printer, ticket_id, settings=settings, clock=clock)
    assert not again.printed and not again.alert_raised
    assert len(_open_alerts(sessions)) == 1

    # Reception fixes the printer; the next print gives the paper and ends the fault episode.
    printer.set_fault(None)
    clock.advance(dt.timedelta(minutes=3))
    fixed = print_ticket(sessions, printer, ticket_id, settings=settings, clock=clock)
    assert fixed.printed
    printed = _ticket(sessions, ticket_id)
    assert printed.printed_at == NOW + dt.timedelta(minutes=3) and printed.print_error == ""
    assert _open_alerts(sessions) == []

    # Another tap prints nothing more; an explicit reprint gives exactly one more paper.
    assert print_ticket(
        sessions, printer, ticket_id, settings=settings, clock=clock
    ).already_printed
    assert sorted(p.name for p in folder.glob("*.txt")) == ["GENK-0100000001.txt"]
    reprinted = print_ticket(
        sessions, printer, ticket_id, settings=settings, clock=clock, reprint=True
    )
    assert reprinted.printed
    assert sorted(p.name for p in folder.glob("*.txt")) == [
        "GENK-0100000001-2.txt",
        "GENK-0100000001.txt",
    ]
    assert _count(sessions, ParkingTicket) == 1 and _count(sessions, Alert) == 1

    # A new fault after the repair is a new episode: one new alert.
    printer.set_fault(fault)
    other = _check_in(sessions, settings, new_booking())
    assert print_ticket(sessions, printer, other, settings=settings, clock=clock).alert_raised
    assert _count(sessions, Alert) == 2


def test_a_printer_that_vanishes_is_reported_not_raised(
    sessions: sessionmaker[Session], settings: Settings, new_booking: Callable[..., str]
) -> None:
    def unplugged() -> object:
        raise OSError(19, "No such device")

    printer: TicketPrinter = EscposTicketPrinter(unplugged)
    ticket_id = _check_in(sessions, settings, new_booking())
    clock = SettableClock(NOW, running=False)
    outcome = print_ticket(sessions, printer, ticket_id, settings=settings, clock=clock)
    assert outcome.fault is FaultKind.DISCONNECTED and outcome.alert_raised


def test_fault_switch_file_for_simulation(tmp_path: Path) -> None:
    switch = tmp_path / "FAULT"
    printer = FaultyPrinter(FileTicketPrinter(tmp_path), switch_file=switch)
    assert printer.status().ready
    switch.write_text("cable_pulled\n", encoding="utf-8")
    assert printer.status().fault is FaultKind.DISCONNECTED
    with pytest.raises(PrinterFault):
        printer.print_ticket(_paper())
    switch.unlink()
    printer.print_ticket(_paper())
    assert (tmp_path / "T-1.txt").is_file() and printer.attempts == 2


def test_unwritable_folder_is_an_offline_printer(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    printer = FileTicketPrinter(blocker / "tickets")
    assert printer.status().fault is FaultKind.OFFLINE
    with pytest.raises(PrinterFault) as caught:
        printer.print_ticket(_paper())
    assert caught.value.kind is FaultKind.OFFLINE


def test_printer_from_settings(settings: Settings, tmp_path: Path) -> None:
    assert printer_from_settings(dataclasses.replace(settings, printer="none")) is None
    simulated = printer_from_settings(settings)
    assert isinstance(simulated, FaultyPrinter) and simulated.switch_file == (
        tmp_path / "tickets" / "FAULT"
    )
    network = dataclasses.replace(settings, printer="escpos", printer_target="tcp:10.0.0.9")
    assert isinstance(printer_from_settings(network), EscposTicketPrinter)
    with pytest.raises(ConfigError, match="printer target"):
        printer_from_settings(dataclasses.replace(network, printer_target="lpt1"))


def test_unknown_ticket_id(sessions: sessionmaker[Session], settings: Settings) -> None:
    with pytest.raises(LookupError):
        print_ticket(
            sessions,
            FileTicketPrinter(Path("unused")),
            "no-such-id",
            settings=settings,
            clock=SettableClock(NOW),
        )


def _paper() -> PrintedTicket:
    return PrintedTicket(reference="T-1", heading=("x",), qr_payload="RK1:X", code="1")
