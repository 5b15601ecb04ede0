"""ISO 7816-4 file access as the BELPIC applet answers it: SELECT and READ BINARY.

A :class:`Transport` sends one command APDU and returns the response data and status word
(pyscard for a real reader, the card emulator in memory for the simulated one). On top of it
:class:`CardChannel` selects files by absolute path and reads them whole, in the largest chunks
the card allows, doing what T=0 leaves to the application: ``61xx`` (fetch with GET RESPONSE) and
``6Cxx`` (send again with Le = xx). It counts the APDUs it exchanges. Every failure is a
:class:`~devices.eid.errors.CardReadError`; a read is bounded, so a card that misbehaves cannot
make it loop forever.
"""

from __future__ import annotations

from typing import Protocol

from devices.eid.errors import CardCommunicationError, CardReadError

SW_OK = 0x9000
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_OFFSET_OUTSIDE = 0x6B00
SW_END_OF_FILE = 0x6282
SW_NOT_ACTIVATED = 0x6985
SW_SECURITY = 0x6982
SW_NO_CURRENT_EF = 0x6986
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00

MAX_FILE_SIZE = 16 * 1024
"""Larger than any e-ID file (the photo is about 3 KB); a card claiming more is misbehaving."""
_MAX_GET_RESPONSE = 8


class FileNotFound(CardReadError):
    """The card has no such file (``6A82``): for the first file, not an e-ID at all."""

    reason = "the card does not hold the e-ID files"


class Transport(Protocol):
    """Sends one command APDU; returns ``(data, sw)`` or raises ``CardReadError``."""

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Exchange one APDU with the card."""
        ...


class CardChannel:
    """File-level access to a card over a :class:`Transport`, counting APDUs."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self.apdu_count = 0

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """One exchange, plus the GET RESPONSE rounds a ``61xx`` answer asks for."""
        data, sw = self._exchange(apdu)
        rounds = 0
        collected = bytearray(data)
        while sw >> 8 == 0x61:
            rounds += 1
            if rounds > _MAX_GET_RESPONSE:
                raise CardCommunicationError()
            more, sw = self._exchange(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
            collected += more
        return bytes(collected), sw

    def _exchange(self, apdu: bytes) -> tuple[bytes, int]:
        self.apdu_count += 1
        data, sw = self._transport.transmit(apdu)
        if not 0 <= sw <= 0xFFFF or len(data) > 258:
            raise CardCommunicationError()
        return data, sw

    def select_path(self, path: bytes) -> int:
        """SELECT FILE by absolute path from the MF, no FCI (``00 A4 08 0C``); returns the SW."""
        _, sw = self.transmit(bytes([0x00, 0xA4, 0x08, 0x0C, len(path)]) + path)
        return sw

    def select_aid(self, aid: bytes) -> int:
        """SELECT an application by AID, no FCI (``00 A4 04 0C``); returns the SW."""
        _, sw = self.transmit(bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid)
        return sw

    def read_selected(self) -> bytes:
        """READ BINARY the selected file to its end, 256 bytes (Le = 00) at a time."""
        content = bytearray()
        while True:
            offset = len(content)
            if offset > MAX_FILE_SIZE or offset > 0x7FFF:
                raise CardCommunicationError()
            data, sw = self._read_binary(offset, 0)
            if sw >> 8 == 0x6C:
                available = sw & 0xFF
                if available == 0:
                    raise CardCommunicationError()
                data, sw = self._read_binary(offset, available)
            if sw == SW_OFFSET_OUTSIDE:
                return bytes(content)  # the previous chunk ended exactly at the end of the file
            if sw == SW_END_OF_FILE:
                content += data
                return bytes(content)
            if sw != SW_OK:
                raise _status_error(sw)
            if len(data) > 256:
                raise CardCommunicationError()
            content += data
            if len(data) < 256:
                return bytes(content)

    def _read_binary(self, offset: int, le: int) -> tuple[bytes, int]:
        data, sw = self.transmit(bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, le]))
        wanted = le or 256
        if sw == SW_OK and len(data) > wanted:
            raise CardCommunicationError()
        return data, sw

    def read_file(self, path: bytes) -> bytes:
        """Select a file by absolute path and read it whole."""
        sw = self.select_path(path)
        if sw == SW_FILE_NOT_FOUND:
            raise FileNotFound()
        if sw != SW_OK:
            raise _status_error(sw)
        return self.read_selected()


def _status_error(sw: int) -> CardReadError:
    if sw in (SW_FILE_NOT_FOUND, SW_WRONG_P1P2, SW_INS_NOT_SUPPORTED, SW_CLA_NOT_SUPPORTED):
        return FileNotFound()
    if sw in (SW_SECURITY, SW_NOT_ACTIVATED):
        return CardReadError("the card refused to give its data")
    return CardCommunicationError()
