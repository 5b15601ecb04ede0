"""The real reader: PC/SC through pcscd with pyscard's low-level ``smartcard.scard`` API.

pyscard's ``CardMonitor`` is a singleton whose thread dies for good when pcscd restarts, so
:class:`PcscReader` runs its own watcher on ``SCardGetStatusChange`` (half-second waits, so
:meth:`PcscReader.stop` returns promptly). When pcscd goes away the watcher reports the readers
as detached, drops its context and keeps trying to establish a new one; readers that come back
are reported as attached. A card is read in the watcher thread right after its insertion is
seen: a failure of any kind (pulled out, not an e-ID, busy reader, mute chip, forged data) is a
:class:`~devices.eid.reader.CardReadFailed` event, never an exception.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from smartcard import scard

from devices.eid import belpic
from devices.eid.errors import CardCommunicationError, CardReadError, CardRemovedError
from devices.eid.identity import SOURCE_CHIP
from devices.eid.reader import (
    CardInserted,
    CardReader,
    CardReadFailed,
    CardRemoved,
    IdentityRead,
    ReaderAttached,
    ReaderDetached,
)
from devices.eid.trust import TrustedRoots

logger = logging.getLogger(__name__)

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
_WAIT_MS = 500
_RETRY_SECONDS = 0.5
_BUSY_RETRY_SECONDS = 1.0
_PRESENCE_SECONDS = 0.8

REASON_BUSY = "the card reader is in use by another program"
REASON_MUTE = "the card does not respond; insert it the right way round"
REASON_SERVICE = "the card reader service (pcscd) stopped"

_CARD_GONE = {
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_W_RESET_CARD,
    scard.SCARD_E_READER_UNAVAILABLE,
    scard.SCARD_E_UNKNOWN_READER,
}
_MUTE = {scard.SCARD_W_UNRESPONSIVE_CARD, scard.SCARD_W_UNPOWERED_CARD}


class PcscUnavailable(CardReadError):
    """pcscd is not running (or not reachable)."""

    reason = "the card reader service (pcscd) is not running"


def list_readers() -> list[str]:
    """The readers pcscd sees now; raises :class:`PcscUnavailable` when it is not running."""
    hr, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        raise PcscUnavailable()
    try:
        hr, readers = scard.SCardListReaders(context, [])
        if hr == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hr != scard.SCARD_S_SUCCESS:
            raise PcscUnavailable()
        return list(readers)
    finally:
        scard.SCardReleaseContext(context)


class PcscTransport:
    """APDUs over a connected PC/SC card handle (T=0 or T=1, as negotiated)."""

    def __init__(
        self,
        card: Any,
        protocol: int,
        stopping: threading.Event,
        card_present: Callable[[], bool] = lambda: True,
    ) -> None:
        self._card = card
        self._protocol = protocol
        self._stopping = stopping
        self._card_present = card_present

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Exchange one APDU; a vanished card raises ``CardRemovedError``."""
        if self._stopping.is_set():
            raise CardCommunicationError("the card reader was stopped")
        hr, response = scard.SCardTransmit(self._card, self._protocol, list(apdu))
        if hr in _CARD_GONE:
            raise CardRemovedError()
        if hr != scard.SCARD_S_SUCCESS or len(response) < 2:
            # Some readers report a pulled card as a failed exchange, not as a removal.
            if not self._card_present():
                raise CardRemovedError()
            raise CardCommunicationError()
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]


class PcscReader(CardReader):
    """Watches the PC/SC readers whose name contains ``reader_filter`` (all when empty).

    Cards whose RRN certificate no root of ``trusted_roots`` issued are refused; without roots
    the chain is not checked (``Identity.chain_trusted`` is None), which production must avoid.
    """

    def __init__(
        self,
        reader_filter: str = "",
        *,
        with_address: bool = False,
        trusted_roots: TrustedRoots | None = None,
    ) -> None:
        super().__init__()
        self.reader_filter = reader_filter
        self.with_address = with_address
        self.trusted_roots = trusted_roots
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._context: Any = None
        self._states: dict[str, int] = {}
        self._cards: set[str] = set()
        self._pnp_state = scard.SCARD_STATE_UNAWARE

    @property
    def name(self) -> str:
        """The configured reader filter, or "PC/SC" for every reader."""
        return self.reader_filter or "PC/SC"

    def start(self) -> None:
        """Start the watcher thread."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="pcsc-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and wait for the thread (at most about 2 seconds)."""
        self._stopping.set()
        context = self._context
        if context is not None:
            scard.SCardCancel(context)  # wakes SCardGetStatusChange at once
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    # The watcher -----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._step()
            except Exception:  # keep watching whatever happens; the log line carries no data
                logger.exception("the PC/SC watcher failed; starting over")
                self._lose_service(REASON_SERVICE)
                self._stopping.wait(_RETRY_SECONDS)
        self._release()

    def _step(self) -> None:
        if self._context is None:
            hr, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hr != scard.SCARD_S_SUCCESS:
                self._stopping.wait(_RETRY_SECONDS)
                return
            self._context = context
            self._pnp_state = scard.SCARD_STATE_UNAWARE
        readers = self._list()
        if readers is None:
            self._lose_service(REASON_SERVICE)
            return
        self._update_readers(readers)
        request = [(name, self._states[name]) for name in readers]
        request.append((PNP_NOTIFICATION, self._pnp_state))
        hr, states = scard.SCardGetStatusChange(self._context, _WAIT_MS, request)
        if hr in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
            return
        if hr == scard.SCARD_E_UNKNOWN_READER:
            return  # a reader left between the listing and the wait; list again
        if hr != scard.SCARD_S_SUCCESS:
            self._lose_service(REASON_SERVICE)
            return
        for name, event_state, _atr in states:
            if name == PNP_NOTIFICATION:
                self._pnp_state = event_state & ~scard.SCARD_STATE_CHANGED
            elif name in self._states:
                self._reader_changed(name, event_state)

    def _list(self) -> list[str] | None:
        hr, readers = scard.SCardListReaders(self._context, [])
        if hr == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hr != scard.SCARD_S_SUCCESS:
            return None
        wanted = self.reader_filter.casefold()
        return [name for name in readers if wanted in name.casefold()]

    def _update_readers(self, readers: list[str]) -> None:
        for name in [n for n in self._states if n not in readers]:
            self._detach(name, "the card reader was disconnected")
        for name in readers:
            if name not in self._states:
                self._states[name] = scard.SCARD_STATE_UNAWARE
                self.emit(ReaderAttached(name))

    def _detach(self, name: str, reason: str) -> None:
        if name in self._cards:
            self._cards.discard(name)
            self.emit(CardRemoved(name))
        del self._states[name]
        self.emit(ReaderDetached(name, reason))

    def _lose_service(self, reason: str) -> None:
        for name in list(self._states):
            self._detach(name, reason)
        self._release()
        self._stopping.wait(_RETRY_SECONDS)

    def _release(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            scard.SCardReleaseContext(context)

    def _reader_changed(self, name: str, event_state: int) -> None:
        previous = self._states[name]
        self._states[name] = event_state & ~scard.SCARD_STATE_CHANGED
        if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_IGNORE):
            return  # the reader is going away; the next listing reports it
        present = bool(event_state & scard.SCARD_STATE_PRESENT)
        had_card = name in self._cards
        # The high word counts card events: a different count with a card still present means
        # it was swapped between two waits.
        swapped = present and had_card and previous != 0 and (previous >> 16) != (event_state >> 16)
        if had_card and (not present or swapped):
            self._cards.discard(name)
            self.emit(CardRemoved(name))
        if present and name not in self._cards:
            self._cards.add(name)
            self.emit(CardInserted(name))
            if event_state & scard.SCARD_STATE_MUTE:
                self.emit(CardReadFailed(name, REASON_MUTE))
            else:
                self._read(name)

    # Reading one card -----------------------------------------------------------------------

    def _connect(self, name: str) -> tuple[Any, int]:
        deadline = time.monotonic() + _BUSY_RETRY_SECONDS
        while True:
            hr, card, protocol = scard.SCardConnect(
                self._context,
                name,
                scard.SCARD_SHARE_SHARED,
                scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            )
            if hr == scard.SCARD_S_SUCCESS:
                return card, protocol
            if hr == scard.SCARD_E_SHARING_VIOLATION:
                if time.monotonic() < deadline and not self._stopping.is_set():
                    time.sleep(0.1)
                    continue
                raise CardReadError(REASON_BUSY)
            if hr in _CARD_GONE:
                raise CardRemovedError()
            if hr in _MUTE:
                raise CardReadError(REASON_MUTE)
            raise CardCommunicationError()

    def _still_present(self, name: str) -> bool:
        """Whether a card is still in ``name`` (asked after a failed exchange; waits briefly)."""
        deadline = time.monotonic() + _PRESENCE_SECONDS
        while True:
            hr, states = scard.SCardGetStatusChange(
                self._context, 50, [(name, scard.SCARD_STATE_UNAWARE)]
            )
            if hr != scard.SCARD_S_SUCCESS or not states:
                return False
            if not states[0][1] & scard.SCARD_STATE_PRESENT:
                return False
            if time.monotonic() >= deadline:
                return True
            time.sleep(0.05)

    def _read(self, name: str) -> None:
        try:
            card, protocol = self._connect(name)
            try:
                transport = PcscTransport(
                    card, protocol, self._stopping, lambda: self._still_present(name)
                )
                identity, count = belpic.read_identity(
                    transport,
                    with_address=self.with_address,
                    source=SOURCE_CHIP,
                    reader=name,
                    trusted_roots=self.trusted_roots,
                )
            finally:
                scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
        except CardReadError as exc:
            self.emit(CardReadFailed(name, exc.reason))
            return
        except Exception:  # the contract below is CardReadError only; never let one escape
            logger.exception("unexpected failure reading a card")
            self.emit(CardReadFailed(name, CardCommunicationError.reason))
            return
        self.emit(IdentityRead(name, identity, count))
