"""The simulated twin of the PC/SC reader: virtual cards, driven by calls.

:class:`SimulatedReader` behaves like :class:`~devices.eid.pcsc.PcscReader` behind the same
:class:`~devices.eid.reader.CardReader` interface. A test, the demo or the command line drives it
(:meth:`~SimulatedReader.insert`, :meth:`~SimulatedReader.remove`, :meth:`~SimulatedReader.unplug`
...); its own thread plays each action and reads the virtual card through the same APDU, signature
and parsing code as a real card, talking to the card emulator in memory.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from pathlib import Path

from devices.eid import belpic
from devices.eid.card_os import ATR_APPLET_18, BelpicCardOS, CardImage, bank_card
from devices.eid.errors import CardCommunicationError, CardReadError, CardRemovedError
from devices.eid.identity import SOURCE_SIMULATED
from devices.eid.reader import (
    CardInserted,
    CardReader,
    CardReadFailed,
    CardRemoved,
    IdentityRead,
    ReaderAttached,
    ReaderDetached,
)
from devices.eid.rrn_test_key import TEST_ROOTS
from devices.eid.trust import TrustedRoots
from devices.eid.virtual_card import VirtualCard, VirtualCardError, build_image, load

logger = logging.getLogger(__name__)

SIMULATED_READER_NAME = "Simulated e-ID reader"
_POLL_SECONDS = 0.2


class MemoryTransport:
    """The link to an emulated card in the same process; can be "pulled" after N APDUs."""

    def __init__(self, card: BelpicCardOS, pull_after: int | None = None) -> None:
        self.card = card
        self.pull_after = pull_after
        self.removed = False

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Exchange one APDU with the emulated card."""
        if self.pull_after is not None and self.card.apdus_served >= self.pull_after:
            self.removed = True
        if self.removed:
            raise CardRemovedError()
        answer = self.card.execute(apdu)
        return answer[:-2], int.from_bytes(answer[-2:], "big")


class _MuteCard(BelpicCardOS):
    """A card whose chip answers nothing sensible (dirty contacts, a broken chip)."""

    def execute(self, apdu: bytes) -> bytes:
        self.apdus_served += 1
        return b"\x6f\x00"


@dataclass(frozen=True)
class _Insert:
    card: VirtualCard | CardImage | Path | str
    pull_after: int | None


@dataclass(frozen=True)
class _Command:
    action: str  # "remove", "unplug", "plug", "mute", "bank"


class SimulatedReader(CardReader):
    """A reader with virtual cards; every method returns at once and the thread does the work.

    Like the real reader it checks the RRN certificate's chain, by default against the TEST roots
    that issue the virtual cards' certificate; ``trusted_roots=None`` skips the check.
    """

    def __init__(
        self,
        name: str = SIMULATED_READER_NAME,
        *,
        with_address: bool = False,
        trusted_roots: TrustedRoots | None = TEST_ROOTS,
    ) -> None:
        super().__init__()
        self._name = name
        self.with_address = with_address
        self.trusted_roots = trusted_roots
        self._commands: queue.Queue[_Insert | _Command] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._plugged = True
        self._card_in = False

    @property
    def name(self) -> str:
        """The simulated reader's name."""
        return self._name

    def start(self) -> None:
        """Start the reader thread; announces the reader."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="simulated-eid-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def insert(
        self, card: VirtualCard | CardImage | Path | str, *, pull_after: int | None = None
    ) -> None:
        """Insert a virtual card (card, image or file); pulled out after ``pull_after`` APDUs."""
        self._commands.put(_Insert(card, pull_after))

    def remove(self) -> None:
        """Take the card out."""
        self._commands.put(_Command("remove"))

    def insert_unreadable(self) -> None:
        """Insert a card whose chip cannot be read."""
        self._commands.put(_Command("mute"))

    def insert_bank_card(self) -> None:
        """Insert a payment card (no e-ID applet)."""
        self._commands.put(_Command("bank"))

    def unplug(self) -> None:
        """Pull the reader's cable (the card, if any, goes with it)."""
        self._commands.put(_Command("unplug"))

    def plug(self) -> None:
        """Plug the reader back in."""
        self._commands.put(_Command("plug"))

    def _run(self) -> None:
        if self._plugged:
            self.emit(ReaderAttached(self._name))
        while not self._stopping.is_set():
            try:
                command = self._commands.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            try:
                self._play(command)
            except Exception:  # the thread must survive any surprise; say so without data
                logger.exception("the simulated reader failed on a command")

    def _play(self, command: _Insert | _Command) -> None:
        if isinstance(command, _Insert):
            self._insert(command)
            return
        action = command.action
        if action == "remove":
            self._take_out()
        elif action == "unplug":
            self._take_out()
            if self._plugged:
                self._plugged = False
                self.emit(ReaderDetached(self._name))
        elif action == "plug":
            if not self._plugged:
                self._plugged = True
                self.emit(ReaderAttached(self._name))
        elif action == "mute":
            self._read(_MuteCard(CardImage(atr=ATR_APPLET_18)), None)
        elif action == "bank":
            self._read(BelpicCardOS(bank_card()), None)

    def _take_out(self) -> None:
        if self._card_in:
            self._card_in = False
            self.emit(CardRemoved(self._name))

    def _insert(self, command: _Insert) -> None:
        card = command.card
        try:
            if isinstance(card, str | Path):
                card = load(Path(card))
            image = build_image(card) if isinstance(card, VirtualCard) else card
        except VirtualCardError as exc:
            if self._begin():
                self.emit(CardReadFailed(self._name, f"the virtual card cannot be used: {exc}"))
            return
        self._read(BelpicCardOS(image), command.pull_after)

    def _begin(self) -> bool:
        """A card goes in: false when there is no reader to put it in."""
        if not self._plugged:
            return False
        self._take_out()
        self._card_in = True
        self.emit(CardInserted(self._name))
        return True

    def _read(self, card: BelpicCardOS, pull_after: int | None) -> None:
        if not self._begin():
            return
        transport = MemoryTransport(card, pull_after)
        try:
            identity, count = belpic.read_identity(
                transport,
                with_address=self.with_address,
                source=SOURCE_SIMULATED,
                reader=self._name,
                trusted_roots=self.trusted_roots,
            )
        except CardReadError as exc:
            self.emit(CardReadFailed(self._name, exc.reason))
            if transport.removed:
                self._take_out()
            return
        except Exception:  # defensive: the parser's contract is CardReadError only
            logger.exception("unexpected failure reading a virtual card")
            self.emit(CardReadFailed(self._name, CardCommunicationError.reason))
            return
        self.emit(IdentityRead(self._name, identity, count))
