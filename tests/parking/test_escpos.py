"""The ESC/POS printer against python-escpos's Dummy (the hardware edge) and a TCP printer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy

from devices.printer.escpos_printer import EscposTicketPrinter, open_target
from devices.printer.interface import FaultKind, PrintedTicket, PrinterFault

PAYLOAD = "RK1:K1:GENK:0100000001:202603021100:ZWD4LN7OFUY2AN7R"
TICKET = PrintedTicket(
    reference="GENK-0100000001",
    heading=("Ambulante Revalidatie", "Parkeerticket"),
    qr_payload=PAYLOAD,
    code="010-0000-001-15",
    footer=("GENK 0100000001",),
)
QR_STORE = b"\x1d(k" + (len(PAYLOAD) + 3).to_bytes(2, "little") + b"1P0" + PAYLOAD.encode()
QR_PRINT = b"\x1d(k\x03\x001Q0"
RASTER_IMAGE = b"\x1dv0"
CUT = b"\x1dV"


class StatusDummy(Dummy):  # type: ignore[misc]
    """A Dummy that answers ``DLE EOT n`` like a printer with the given status bytes."""

    def __init__(self, replies: dict[int, int]) -> None:
        super().__init__()
        self.replies = replies
        self._asked = 0

    def _raw(self, msg: bytes) -> None:
        if msg.startswith(b"\x10\x04") and len(msg) == 3:
            self._asked = msg[2]
        super()._raw(msg)

    def _read(self) -> bytes:
        reply = self.replies.get(self._asked)
        return b"" if reply is None else bytes([reply])


def _printer(device: Dummy, **kwargs: bool) -> EscposTicketPrinter:
    return EscposTicketPrinter(lambda: device, **kwargs)


def test_native_qr_is_printed_by_the_printer() -> None:
    device = Dummy()
    _printer(device).print_ticket(TICKET)
    out = device.output
    assert QR_STORE in out and QR_PRINT in out
    assert b"Parkeerticket" in out and b"010-0000-001-15" in out
    assert out.index(b"Parkeerticket") < out.index(QR_STORE) < out.index(b"010-0000-001-15")
    assert CUT in out[out.index(b"GENK 0100000001") :]


def test_qr_as_image_when_the_printer_cannot_draw_it() -> None:
    device = Dummy()
    _printer(device, native_qr=False).print_ticket(TICKET)
    assert RASTER_IMAGE in device.output and b"\x1d(k" not in device.output


def test_profile_without_qr_support_gets_an_image() -> None:
    device = Dummy(profile="simple")
    assert not device.profile.supports("qrCode")
    _printer(device).print_ticket(TICKET)
    assert b"\x1d(k" not in device.output


READY = {1: 0x12, 2: 0x12, 4: 0x12}


@pytest.mark.parametrize(
    ("replies", "fault"),
    [
        ({**READY, 4: 0x72}, FaultKind.OUT_OF_PAPER),
        ({**READY, 2: 0x32}, FaultKind.OUT_OF_PAPER),
        ({**READY, 2: 0x16}, FaultKind.COVER_OPEN),
        ({**READY, 1: 0x1A}, FaultKind.OFFLINE),
    ],
    ids=["paper-sensor", "stopped-paper-end", "cover-open", "offline"],
)
def test_known_fault_stops_before_printing(replies: dict[int, int], fault: FaultKind) -> None:
    device = StatusDummy(replies)
    printer = _printer(device)
    assert printer.status().fault is fault
    device.clear()
    with pytest.raises(PrinterFault) as caught:
        printer.print_ticket(TICKET)
    assert caught.value.kind is fault
    assert b"Parkeerticket" not in device.output


def test_ready_printer_prints_and_reports_ready() -> None:
    device = StatusDummy(READY)
    printer = _printer(device)
    status = printer.status()
    assert status.ready and status.known
    printer.print_ticket(TICKET)
    assert QR_STORE in device.output


def test_silent_printer_is_assumed_ready() -> None:
    status = _printer(StatusDummy({})).status()
    assert status.ready and not status.known


def test_paper_running_out_during_the_ticket_is_reported() -> None:
    class RunsOut(StatusDummy):
        def cut(self, *args: object, **kwargs: object) -> None:
            super().cut(*args, **kwargs)
            self.replies = {**READY, 4: 0x72}

    with pytest.raises(PrinterFault) as caught:
        _printer(RunsOut(READY)).print_ticket(TICKET)
    assert caught.value.kind is FaultKind.OUT_OF_PAPER


def test_cable_pulled() -> None:
    class Unplugged(Dummy):  # type: ignore[misc]
        def open(self) -> None:
            raise DeviceNotFoundError("Device not found or cable not plugged in.")

    printer = _printer(Unplugged())
    assert printer.status().fault is FaultKind.DISCONNECTED
    with pytest.raises(PrinterFault) as caught:
        printer.print_ticket(TICKET)
    assert caught.value.kind is FaultKind.DISCONNECTED

    class PulledMidTicket(Dummy):  # type: ignore[misc]
        def _raw(self, msg: bytes) -> None:
            if b"Parkeerticket" in msg:
                raise OSError(19, "No such device")
            super()._raw(msg)

    with pytest.raises(PrinterFault) as caught:
        _printer(PulledMidTicket()).print_ticket(TICKET)
    assert caught.value.kind is FaultKind.DISCONNECTED


@pytest.fixture
def tcp_printer() -> Iterator[tuple[int, bytearray]]:
    """A network printer on 127.0.0.1: keeps what it receives, answers status requests ready."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    received = bytearray()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            with conn:
                while chunk := conn.recv(65536):
                    received.extend(chunk)
                    for n in (1, 2, 4):
                        if chunk.endswith(b"\x10\x04" + bytes([n])):
                            conn.sendall(b"\x12")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join(timeout=5)
    server.close()


def test_network_printer_over_tcp(tcp_printer: tuple[int, bytearray]) -> None:
    port, received = tcp_printer
    printer = open_target(f"tcp:127.0.0.1:{port}")
    assert printer.status().known
    printer.print_ticket(TICKET)
    assert QR_STORE in received


def test_network_printer_not_listening() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    printer = open_target(f"tcp:127.0.0.1:{port}")
    assert printer.status().fault is FaultKind.DISCONNECTED


@pytest.mark.parametrize(
    "target", ["usb:04b8:0202", "serial:/dev/ttyUSB0", "serial:/dev/ttyS0:19200", "tcp:printer"]
)
def test_targets(target: str) -> None:
    assert isinstance(open_target(target), EscposTicketPrinter)


@pytest.mark.parametrize(
    "target", ["", "usb:04b8", "usb:zz:01", "serial:", "tcp:", "tcp:h:port", "lpt:1"]
)
def test_bad_targets(target: str) -> None:
    with pytest.raises(ValueError, match="printer target"):
        open_target(target)


def test_serial_port_that_does_not_exist_is_disconnected() -> None:
    printer = open_target("serial:/dev/does-not-exist")
    assert printer.status().fault is FaultKind.DISCONNECTED
