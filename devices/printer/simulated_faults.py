"""Printer faults on demand, behind the same interface: for simulation mode and for tests.

The fault is set in code (:meth:`FaultyPrinter.set_fault`) or, while the kiosk runs, by writing a
fault's name to a switch file (``echo out_of_paper > FAULT``; remove the file to clear it).
"""

from __future__ import annotations

from pathlib import Path

from devices.printer.interface import (
    FaultKind,
    PrintedTicket,
    PrinterFault,
    PrinterStatus,
    TicketPrinter,
)

# The names a switch file may hold: "cable pulled" is how a disconnected printer looks.
SWITCH_NAMES = {
    "out_of_paper": FaultKind.OUT_OF_PAPER,
    "cover_open": FaultKind.COVER_OPEN,
    "offline": FaultKind.OFFLINE,
    "cable_pulled": FaultKind.DISCONNECTED,
    "error": FaultKind.ERROR,
}


class FaultyPrinter:
    """Wraps a printer; while a fault is set, status reports it and printing fails with it."""

    def __init__(self, inner: TicketPrinter, *, switch_file: Path | None = None) -> None:
        self.inner = inner
        self.switch_file = switch_file
        self._fault: FaultKind | None = None
        self.attempts = 0
        """How many times printing was asked for, failed or not."""

    def set_fault(self, fault: FaultKind | None) -> None:
        """Make the printer fail with ``fault`` from now on; None repairs it."""
        self._fault = fault

    @property
    def fault(self) -> FaultKind | None:
        """The fault in force: the one set in code, else the switch file's."""
        if self._fault is not None or self.switch_file is None:
            return self._fault
        try:
            name = self.switch_file.read_text(encoding="utf-8").strip().lower()
        except OSError:
            return None
        return SWITCH_NAMES.get(name, FaultKind.ERROR if name else None)

    def status(self) -> PrinterStatus:
        """The simulated fault, else the wrapped printer's status."""
        fault = self.fault
        if fault is not None:
            return PrinterStatus(fault, detail="simulated")
        return self.inner.status()

    def print_ticket(self, ticket: PrintedTicket) -> None:
        """Fail with the simulated fault, else print through the wrapped printer."""
        self.attempts += 1
        fault = self.fault
        if fault is not None:
            raise PrinterFault(fault, "simulated")
        self.inner.print_ticket(ticket)
