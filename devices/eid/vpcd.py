"""Puts an emulated card into vpcd, the virtual reader driver of pcscd (package vsmartcard-vpcd).

vpcd listens on TCP (35963 for its first reader, "Virtual PCD 00 00"); a card "is inserted" while
a client is connected. Its protocol is tiny: every message is a 2-byte big-endian length and a
payload. A 1-byte payload is a control code (0 power off, 1 power on, 2 reset, 4 send the ATR),
anything else a command APDU to answer with the response APDU.

We speak it directly from our own process rather than subclassing virtualsmartcard's VirtualICC:
that library lives in Debian's system Python only, and its process exits when pcscd restarts.
Here the card is the very same :class:`~devices.eid.card_os.BelpicCardOS` the simulator uses,
it reconnects by itself after a pcscd restart, and tests can pull it out after N APDUs.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading

from devices.eid.card_os import BelpicCardOS

logger = logging.getLogger(__name__)

VPCD_PORT = 35963
_CTRL_OFF, _CTRL_ON, _CTRL_RESET, _CTRL_ATR = 0, 1, 2, 4
_RETRY_SECONDS = 0.2
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class VpcdCard:
    """A virtual card inserted into vpcd while :meth:`insert` ... :meth:`remove` (own thread)."""

    def __init__(
        self,
        card: BelpicCardOS,
        *,
        host: str = "127.0.0.1",
        port: int = VPCD_PORT,
        pull_after: int | None = None,
    ) -> None:
        self.card = card
        self.host, self.port = host, port
        self.pull_after = pull_after
        """Drop the connection (card pulled out) once this many APDUs were answered."""
        self.connected = threading.Event()
        self.pulled = threading.Event()
        self._stopping = threading.Event()
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def insert(self) -> None:
        """Put the card in the virtual reader; keeps it there across pcscd restarts."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self.pulled.clear()
        self._thread = threading.Thread(target=self._run, name="vpcd-card", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Take the card out and wait for the thread."""
        self._stopping.set()
        self._close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def wait_connected(self, timeout: float) -> bool:
        """True once vpcd accepted the card."""
        return self.connected.wait(timeout)

    def _close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.connected.clear()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1)
            except OSError:
                # pcscd not (yet) running or restarting: vpcd comes back with it.
                self._stopping.wait(_RETRY_SECONDS)
                continue
            sock.settimeout(None)
            # vpcd writes the length and the APDU in two sends; without these, Nagle's algorithm
            # and delayed ACKs add about 40 ms to every APDU.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socket = sock
            self.card.reset()
            self.connected.set()
            try:
                self._serve(sock)
            except OSError:
                pass  # vpcd went away (pcscd stopped) or we closed the socket
            finally:
                self._close()
            if self.pulled.is_set():
                return
            self._stopping.wait(_RETRY_SECONDS)

    def _serve(self, sock: socket.socket) -> None:
        while not self._stopping.is_set():
            message = _receive(sock)
            if message is None:
                return
            if len(message) == 1:
                code = message[0]
                if code == _CTRL_ATR:
                    _send(sock, self.card.atr)
                elif code in (_CTRL_OFF, _CTRL_RESET, _CTRL_ON):
                    self.card.reset()
                continue
            if self.pull_after is not None and self.card.apdus_served >= self.pull_after:
                self.pulled.set()
                return
            _send(sock, self.card.execute(message))


def _receive_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        if _QUICKACK is not None:
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)  # Linux resets it after each read
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _receive(sock: socket.socket) -> bytes | None:
    header = _receive_exactly(sock, 2)
    if header is None:
        return None
    (size,) = struct.unpack("!H", header)
    return _receive_exactly(sock, size) if size else b""


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack("!H", len(payload)) + payload)
