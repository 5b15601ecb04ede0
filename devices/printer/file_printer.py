"""The simulated printer: each ticket becomes a text file and a PNG of its QR code in a folder.

A ticket printed again (a reprint) gets new files (``REF-2.txt``, ``REF-3.txt``...) so that what
was handed out can be counted, as with paper.
"""

from __future__ import annotations

import os
from pathlib import Path

from devices.printer import qr
from devices.printer.interface import FaultKind, PrintedTicket, PrinterFault, PrinterStatus

WIDTH = 42
"""Characters per line of an 80 mm receipt in the printer's standard font."""


def render_text(ticket: PrintedTicket, *, width: int = WIDTH) -> str:
    """The ticket as plain text, laid out as the receipt printer lays it out."""
    lines = [line.center(width).rstrip() for line in ticket.heading]
    lines.append("")
    lines.extend(line.center(width).rstrip() for line in qr.as_text(ticket.qr_payload).split("\n"))
    lines.append("")
    lines.append(ticket.code.center(width).rstrip())
    lines.extend(line.center(width).rstrip() for line in ticket.footer)
    return "\n".join(lines) + "\n"


class FileTicketPrinter:
    """Writes ``<reference>.txt`` and ``<reference>.png`` into ``folder`` for each ticket."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def status(self) -> PrinterStatus:
        """Ready when the folder exists (or can be made) and is writable."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return PrinterStatus(FaultKind.OFFLINE, detail=exc.strerror or "folder unusable")
        if not os.access(self.folder, os.W_OK):
            return PrinterStatus(FaultKind.OFFLINE, detail="folder not writable")
        return PrinterStatus()

    def print_ticket(self, ticket: PrintedTicket) -> None:
        """Write the ticket's text and QR image; an unwritable folder is an offline printer."""
        if not ticket.reference or not ticket.reference.replace("-", "").isalnum():
            raise ValueError("a ticket reference is letters, digits and '-' only")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stem = self._free_stem(ticket.reference)
            # Write under a temporary name first so that nobody sees half a ticket.
            for suffix, data in (
                (".png", qr.as_png(ticket.qr_payload)),
                (".txt", render_text(ticket).encode("utf-8")),
            ):
                partial = self.folder / f".{stem}{suffix}.partial"
                partial.write_bytes(data)
                partial.replace(self.folder / f"{stem}{suffix}")
        except OSError as exc:
            raise PrinterFault(FaultKind.OFFLINE, exc.strerror or "cannot write") from exc

    def _free_stem(self, reference: str) -> str:
        stem, copy = reference, 1
        while (self.folder / f"{stem}.txt").exists():
            copy += 1
            stem = f"{reference}-{copy}"
        return stem
