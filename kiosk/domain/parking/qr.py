"""The ticket's QR code for the result screen (text blocks) and as a PNG.

The screen shows the code as half-block characters: each text cell holds two modules, so a
ticket's code (version 3 or 4 with the quiet zone) is about 37 cells wide and 19 lines high,
large enough for a phone camera at arm's length.
"""

from __future__ import annotations

from devices.printer import qr


def screen_text(payload: str, *, light_on_dark: bool = False) -> str:
    """The QR code as lines of half blocks.

    Draw it black on white. On a screen that draws light text on a dark background, pass
    ``light_on_dark=True`` so the code still reads as dark modules on a light field.
    """
    return qr.as_text(payload, invert=light_on_dark)


def png(payload: str, *, box_size: int = 8) -> bytes:
    """The QR code as PNG bytes, ``box_size`` pixels per module."""
    return qr.as_png(payload, box_size=box_size)
