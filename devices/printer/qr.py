"""QR codes as a matrix of modules, as text blocks and as a PNG image.

The error correction level is M (15 %): a printed code survives a crease or a smudge, and the
payload of a parking ticket (at most 64 characters of the QR alphanumeric set) still fits in a
small version. The quiet zone is the 4 modules the standard asks for; phone cameras need it.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from PIL import Image

QUIET_ZONE = 4


def matrix(payload: str, *, border: int = QUIET_ZONE) -> list[list[bool]]:
    """The modules of the QR code of ``payload`` (True is dark), quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border)
    code.add_data(payload)
    code.make(fit=True)
    return [[bool(module) for module in row] for row in code.get_matrix()]


def as_text(payload: str, *, invert: bool = False, border: int = QUIET_ZONE) -> str:
    """The QR code drawn with half blocks, two module rows per text line.

    Dark modules are drawn as ink (the glyph's foreground). On a screen with light text on a dark
    background pass ``invert=True`` so that the code still reads dark-on-light.
    """
    rows = matrix(payload, border=border)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    glyphs = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=True):
        lines.append(
            "".join(glyphs[(t != invert, b != invert)] for t, b in zip(top, bottom, strict=True))
        )
    return "\n".join(lines)


def as_image(payload: str, *, box_size: int = 8, border: int = QUIET_ZONE) -> Image.Image:
    """The QR code as a black-and-white image, ``box_size`` pixels per module."""
    rows = matrix(payload, border=border)
    size = len(rows)
    image = Image.new("1", (size, size), 1)
    pixels = image.load()
    assert pixels is not None
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                pixels[x, y] = 0
    return image.resize((size * box_size, size * box_size), Image.Resampling.NEAREST)


def as_png(payload: str, *, box_size: int = 8, border: int = QUIET_ZONE) -> bytes:
    """The QR code as PNG bytes (deterministic: the same payload gives the same bytes)."""
    buffer = io.BytesIO()
    as_image(payload, box_size=box_size, border=border).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
