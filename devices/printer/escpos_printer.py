"""ESC/POS receipt printers over USB, serial or the network (python-escpos).

Each print opens the connection, asks the printer for its status where it can answer, prints and
closes again: a printer that was unplugged and plugged back in works on the next ticket without a
restart. The QR code is drawn by the printer itself (``GS ( k``) when its profile says it can,
else sent as a raster image.

Status is read with the real-time request ``DLE EOT n`` (n = 1 printer, 2 offline cause,
4 paper roll sensor). Printers on a one-way link never answer; they are then assumed ready and a
fault only shows as a failed write.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable
from typing import Any

from escpos.constants import QR_ECLEVEL_M
from escpos.exceptions import DeviceNotFoundError
from escpos.exceptions import Error as EscposError

from devices.printer.interface import FaultKind, PrintedTicket, PrinterFault, PrinterStatus

DLE_EOT = b"\x10\x04"
# Every status byte has bits 1 and 4 set and bits 0 and 7 clear; anything else is not an answer.
_STATUS_FIXED_MASK, _STATUS_FIXED_BITS = 0x93, 0x12
_OFFLINE = 0x08  # n=1: the printer is offline
_COVER_OPEN = 0x04  # n=2: cover open
_PAPER_END_STOP = 0x20  # n=2: printing stopped because the paper ran out
_PAPER_END = 0x60  # n=4: paper roll end sensor
QR_MODULE_DOTS = 6  # about 0.75 mm per module at 203 dpi: easy for barrier scanners
_GONE = {errno.ENODEV, errno.ENOENT, errno.EPIPE, errno.ENXIO, errno.EIO}

Connect = Callable[[], Any]
"""Makes a fresh, unopened python-escpos printer (``Usb``, ``Serial``, ``Network``, ``Dummy``)."""


class EscposTicketPrinter:
    """A ticket printer speaking ESC/POS through a python-escpos connection."""

    def __init__(self, connect: Connect, *, native_qr: bool | None = None) -> None:
        """``native_qr``: None follows the printer profile's ``qrCode`` capability."""
        self._connect = connect
        self._native_qr = native_qr

    @classmethod
    def usb(
        cls, vendor_id: int, product_id: int, *, profile: str | None = None
    ) -> EscposTicketPrinter:
        """A USB printer identified by its vendor and product ids."""
        from escpos.printer import Usb

        return cls(lambda: Usb(vendor_id, product_id, timeout=2000, profile=profile))

    @classmethod
    def serial(
        cls, device: str, *, baudrate: int = 9600, profile: str | None = None
    ) -> EscposTicketPrinter:
        """A printer on a serial port such as ``/dev/ttyUSB0``."""
        from escpos.printer import Serial

        return cls(lambda: Serial(device, baudrate=baudrate, timeout=1, profile=profile))

    @classmethod
    def network(
        cls, host: str, *, port: int = 9100, profile: str | None = None
    ) -> EscposTicketPrinter:
        """A network printer (raw TCP, port 9100 by default)."""
        from escpos.printer import Network

        return cls(lambda: Network(host, port=port, timeout=5, profile=profile))

    def status(self) -> PrinterStatus:
        """Open the printer, ask for its status and close it again; never raises."""
        try:
            device = self._open()
        except PrinterFault as fault:
            return PrinterStatus(fault.kind, detail=fault.detail)
        try:
            return _read_status(device)
        except PrinterFault as fault:
            return PrinterStatus(fault.kind, detail=fault.detail)
        finally:
            _close(device)

    def print_ticket(self, ticket: PrintedTicket) -> None:
        """Print one ticket; a known fault before or after printing raises :class:`PrinterFault`."""
        device = self._open()
        try:
            before = _read_status(device)
            if before.fault is not None:
                raise PrinterFault(before.fault, before.detail)
            _guarded(lambda: self._send(device, ticket))
            after = _read_status(device)
            if after.fault is not None:
                raise PrinterFault(after.fault, "the ticket may be incomplete")
        finally:
            _close(device)

    def _open(self) -> Any:
        device = _guarded(self._connect)
        _guarded(device.open)
        return device

    def _send(self, device: Any, ticket: PrintedTicket) -> None:
        device.set_with_default(align="center", bold=True)
        for line in ticket.heading:
            device.textln(line)
        device.set_with_default(align="center")
        native = self._native_qr
        if native is None:
            native = bool(device.profile.supports("qrCode"))
        if native:
            device.qr(ticket.qr_payload, ec=QR_ECLEVEL_M, size=QR_MODULE_DOTS, native=True)
        else:
            device.qr(ticket.qr_payload, ec=QR_ECLEVEL_M, size=QR_MODULE_DOTS, center=True)
        device.set_with_default(align="center", bold=True, double_width=True, double_height=True)
        device.textln(ticket.code)
        device.set_with_default(align="center")
        for line in ticket.footer:
            device.textln(line)
        device.cut()


def _guarded(action: Callable[[], Any]) -> Any:
    """Run a device action, turning the library's and the OS's errors into printer faults."""
    try:
        return action()
    except PrinterFault:
        raise
    except DeviceNotFoundError as exc:
        raise PrinterFault(FaultKind.DISCONNECTED, _first_line(exc)) from exc
    except TimeoutError as exc:
        raise PrinterFault(FaultKind.OFFLINE, "no answer") from exc
    except OSError as exc:
        # pyusb's USBError and pyserial's SerialException are OSErrors too.
        kind = FaultKind.DISCONNECTED if exc.errno in _GONE else FaultKind.OFFLINE
        raise PrinterFault(kind, _first_line(exc)) from exc
    except EscposError as exc:
        raise PrinterFault(FaultKind.ERROR, _first_line(exc)) from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:120]


def _query(device: Any, n: int) -> int | None:
    """One status byte for ``DLE EOT n``, or None when the printer does not answer."""

    def ask() -> bytes | None:
        device._raw(DLE_EOT + bytes([n]))
        try:
            return bytes(device._read())
        except NotImplementedError:
            return None

    reply = _guarded(ask)
    if not reply or reply[0] & _STATUS_FIXED_MASK != _STATUS_FIXED_BITS:
        return None
    return int(reply[0])


def _read_status(device: Any) -> PrinterStatus:
    printer = _query(device, 1)
    if printer is None:
        return PrinterStatus(known=False)
    cause = _query(device, 2) or 0
    paper = _query(device, 4) or 0
    if cause & _COVER_OPEN:
        return PrinterStatus(FaultKind.COVER_OPEN)
    if paper & _PAPER_END == _PAPER_END or cause & _PAPER_END_STOP:
        return PrinterStatus(FaultKind.OUT_OF_PAPER)
    if printer & _OFFLINE:
        return PrinterStatus(FaultKind.OFFLINE)
    return PrinterStatus()


def _close(device: Any) -> None:
    # A printer that vanished mid-ticket cannot be closed cleanly; the fault is already reported.
    with contextlib.suppress(OSError, EscposError):
        device.close()


def open_target(target: str) -> EscposTicketPrinter:
    """A printer from a target text: ``usb:VVVV:PPPP`` (hex ids), ``serial:DEVICE[:BAUD]``
    or ``tcp:HOST[:PORT]``. Raises ValueError with one clear sentence otherwise."""
    scheme, _, rest = target.partition(":")
    parts = rest.split(":") if rest else []
    try:
        if scheme == "usb" and len(parts) == 2:
            return EscposTicketPrinter.usb(int(parts[0], 16), int(parts[1], 16))
        if scheme == "serial" and len(parts) in (1, 2) and parts[0]:
            baud = int(parts[1]) if len(parts) == 2 else 9600
            return EscposTicketPrinter.serial(parts[0], baudrate=baud)
        if scheme == "tcp" and len(parts) in (1, 2) and parts[0]:
            port = int(parts[1]) if len(parts) == 2 else 9100
            return EscposTicketPrinter.network(parts[0], port=port)
    except ValueError:
        pass
    raise ValueError(
        f"printer target {target!r} is not usb:VVVV:PPPP, serial:DEVICE[:BAUD] or tcp:HOST[:PORT]"
    )
