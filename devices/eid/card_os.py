"""An emulated BELPIC card: the applet's file system answering APDUs like a real card.

The simulated reader talks to it in memory and the vpcd bridge (:mod:`devices.eid.vpcd`) puts it
behind pcscd, so both read it through the same APDU code as a real card. It answers SELECT
(by path, by file id in the current DF, by AID) and READ BINARY with the status words of the
applet manual, including ``6Cxx`` when Le asks for more than is left and ``6B00`` past the end.
A "bank card" is the same machine with no BELPIC applet and no e-ID files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from devices.eid.belpic import BELPIC_AID

ATR_APPLET_18 = bytes.fromhex("3B 7F 96 00 00 80 31 80 65 B0 85 04 01 20 12 0F FF 82 90 00")
ATR_APPLET_17 = bytes.fromhex("3B 98 13 40 0A A5 03 01 01 01 AD 13 11")
ATR_T1 = bytes.fromhex("3B80800101")
"""A minimal ATR offering T=1 only, to exercise T=1 on the PC/SC path."""
ATR_BANK_CARD = bytes.fromhex("3B 6E 00 00 80 31 80 66 B0 84 12 01 6E 01 83 00 90 00")

_MF = bytes.fromhex("3F00")
_DIRECTORIES = (bytes.fromhex("DF00"), bytes.fromhex("DF01"))


def _sw(value: int) -> bytes:
    return value.to_bytes(2, "big")


@dataclass
class CardImage:
    """What a card holds: its ATR, whether it has the BELPIC applet, and its files by path.

    Paths are absolute without 3F00 (``DF014031``), as SELECT with P1 = 08 sends them.
    """

    atr: bytes
    files: Mapping[bytes, bytes] = field(default_factory=dict)
    has_applet: bool = True
    applet_version: int = 0x18
    """The byte GET CARD DATA reports (0x18 for applet 1.8, 0x17 for 1.7...)."""


def bank_card() -> CardImage:
    """A payment card: ISO 7816 answers, no BELPIC applet, no e-ID files."""
    return CardImage(atr=ATR_BANK_CARD, files={}, has_applet=False)


class BelpicCardOS:
    """Executes command APDUs against a :class:`CardImage`; counts what it served."""

    def __init__(self, image: CardImage) -> None:
        self.image = image
        self.apdus_served = 0
        self._df = b""
        self._ef: bytes | None = None

    @property
    def atr(self) -> bytes:
        """The answer to reset."""
        return self.image.atr

    def reset(self) -> None:
        """Power cycle: nothing selected any more."""
        self._df = b""
        self._ef = None

    def execute(self, apdu: bytes) -> bytes:
        """Answer one command APDU with response data and status word."""
        self.apdus_served += 1
        if len(apdu) < 4:
            return _sw(0x6700)
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        if cla == 0x80 and ins == 0xE4:
            return self._card_data()
        if cla != 0x00:
            return _sw(0x6E00)
        if ins == 0xA4:
            return self._select(p1, p2, body)
        if ins == 0xB0:
            return self._read_binary(p1, p2, body)
        return _sw(0x6D00)

    def _select(self, p1: int, p2: int, body: bytes) -> bytes:
        if not body or len(body) != body[0] + 1:
            return _sw(0x6700)
        data = body[1:]
        if p2 != 0x0C:
            return _sw(0x6A86)
        if p1 == 0x04:
            return _sw(0x9000 if self.image.has_applet and data == BELPIC_AID else 0x6A82)
        if p1 == 0x08:
            path = data
        elif p1 == 0x02 and len(data) == 2:
            path = self._df + data
        elif p1 == 0x00 and data == _MF:
            self._df, self._ef = b"", None
            return _sw(0x9000)
        else:
            return _sw(0x6A86)
        if not self.image.has_applet:
            return _sw(0x6A82)
        if path in _DIRECTORIES:
            self._df, self._ef = path, None
            return _sw(0x9000)
        if path in self.image.files:
            self._df, self._ef = path[:-2], path
            return _sw(0x9000)
        return _sw(0x6A82)

    def _read_binary(self, p1: int, p2: int, body: bytes) -> bytes:
        if self._ef is None:
            return _sw(0x6986)
        if len(body) > 1:
            return _sw(0x6700)
        content = self.image.files[self._ef]
        offset = (p1 << 8) | p2
        wanted = (body[0] or 256) if body else 256
        if offset >= len(content):
            return _sw(0x6B00)
        left = len(content) - offset
        if wanted > left:
            return _sw(0x6C00 | min(left, 0xFF))
        return content[offset : offset + wanted] + _sw(0x9000)

    def _card_data(self) -> bytes:
        if not self.image.has_applet:
            return _sw(0x6D00)
        data = bytearray(28)
        data[21] = self.image.applet_version
        return bytes(data) + _sw(0x9000)
