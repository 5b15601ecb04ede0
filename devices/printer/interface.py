"""What every ticket printer offers, and the plain values that cross the interface.

A printer receives a :class:`PrintedTicket` (text lines and the QR payload) and knows nothing of
patients, bookings or the database. Every failure that a receipt printer can have is reported as a
:class:`PrinterFault` with a :class:`FaultKind`, so the caller can tell the patient and reception
without knowing which printer is attached.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class FaultKind(enum.StrEnum):
    """Why a ticket could not be printed."""

    OUT_OF_PAPER = "out of paper"
    COVER_OPEN = "cover open"
    OFFLINE = "offline"
    DISCONNECTED = "disconnected"
    ERROR = "printer error"


class PrinterFault(Exception):
    """The printer could not print; ``kind`` says why, the message adds the device's detail."""

    def __init__(self, kind: FaultKind, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else str(kind))
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer reports about itself; ``fault`` is None when it is ready.

    ``known`` is False when the printer cannot be asked (one-way cables, simple models): it is then
    assumed ready and a fault only shows when printing fails.
    """

    fault: FaultKind | None = None
    known: bool = True
    detail: str = ""

    @property
    def ready(self) -> bool:
        """True unless the printer reported a fault."""
        return self.fault is None


@dataclass(frozen=True)
class PrintedTicket:
    """One ticket as it goes on paper, top to bottom.

    ``heading`` lines, then the QR code of ``qr_payload``, then ``code`` in large characters,
    then the ``footer`` lines. ``reference`` names the ticket (file names, logs); it must be
    made of letters, digits and ``-`` only.
    """

    reference: str
    heading: tuple[str, ...]
    qr_payload: str
    code: str
    footer: tuple[str, ...] = ()


@runtime_checkable
class TicketPrinter(Protocol):
    """A receipt printer for parking tickets."""

    def status(self) -> PrinterStatus:
        """Ask the printer whether it can print now (never raises)."""
        ...

    def print_ticket(self, ticket: PrintedTicket) -> None:
        """Print one ticket, or raise :class:`PrinterFault`."""
        ...
