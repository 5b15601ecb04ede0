"""The e-ID's simplified TLV: the encoding of the identity and address files.

One tag byte, a length, then that many value bytes. The length is one byte in practice; the
card content document describes longer lengths as ``FF`` bytes that each add 255, followed by
one byte below ``FF`` with the rest (300 = ``FF 2D``). Trailing zero bytes are padding.
Anything else (a length running past the end, a repeated tag) is refused with
:class:`~devices.eid.errors.TlvError`, the only exception :func:`parse` raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from devices.eid.errors import TlvError

_CONTINUATION = 0xFF


def parse(data: bytes) -> dict[int, bytes]:
    """Return ``{tag: value}`` for every field of ``data``, in file order.

    Raises :class:`TlvError` when the bytes are not well-formed simplified TLV.
    """
    fields: dict[int, bytes] = {}
    size = len(data)
    # Index just past the last non-zero byte: a tag found at or after it starts the padding.
    content_end = len(data.rstrip(b"\0"))
    pos = 0
    while pos < content_end:
        tag = data[pos]
        pos += 1
        length = 0
        while True:
            if pos >= size:
                raise TlvError()
            byte = data[pos]
            pos += 1
            length += byte
            if byte != _CONTINUATION:
                break
        end = pos + length
        if end > size:
            raise TlvError()
        if tag in fields:
            raise TlvError()
        fields[tag] = bytes(data[pos:end])
        pos = end
    return fields


def encode_length(length: int) -> bytes:
    """The documented length form: ``FF`` per 255, then the remainder."""
    if length < 0:
        raise ValueError("a length is never negative")
    count, rest = divmod(length, 255)
    return bytes([_CONTINUATION] * count + [rest])


def encode(fields: Mapping[int, bytes] | Iterable[tuple[int, bytes]], pad_to: int = 0) -> bytes:
    """Build a file from ``(tag, value)`` pairs, zero padded to ``pad_to`` bytes (virtual cards)."""
    items = fields.items() if isinstance(fields, Mapping) else fields
    out = bytearray()
    for tag, value in items:
        if not 0 <= tag <= 0xFF:
            raise ValueError("a tag is one byte")
        out.append(tag)
        out += encode_length(len(value))
        out += value
    if len(out) < pad_to:
        out += bytes(pad_to - len(out))
    return bytes(out)
