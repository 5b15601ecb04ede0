"""The QR code on screen and in the PNG reads back as the payload (decoded with zxing-cpp)."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from kiosk.domain.parking import qr

PAYLOAD = "RK1:ABCDEFGH:ABCDEFGHIJ-12345:9999999999:202612312359:ZWD4LN7OFUY2AN7R"
# Which of a cell's two modules (top, bottom) each glyph inks.
INK = {" ": (False, False), "▀": (True, False), "▄": (False, True), "█": (True, True)}


def _decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def _text_to_image(text: str, *, light_on_dark: bool) -> Image.Image:
    """Draw the text blocks as a screen would: ink black on white, or light on dark."""
    lines = text.split("\n")
    width = max(len(line) for line in lines)
    image = Image.new("L", (width, len(lines) * 2), 255)
    for y, line in enumerate(lines):
        for x, glyph in enumerate(line.ljust(width)):
            for half, inked in enumerate(INK[glyph]):
                # On a dark screen the ink is light and the blank cells are dark.
                dark = inked != light_on_dark
                image.putpixel((x, 2 * y + half), 0 if dark else 255)
    return image.resize((image.width * 8, image.height * 8), Image.Resampling.NEAREST)


@pytest.mark.parametrize("light_on_dark", [False, True])
def test_screen_blocks_read_back(light_on_dark: bool) -> None:
    text = qr.screen_text(PAYLOAD, light_on_dark=light_on_dark)
    assert set(text) <= set(INK) | {"\n"}
    assert _decode(_text_to_image(text, light_on_dark=light_on_dark)) == [PAYLOAD]


def test_png_reads_back_and_is_deterministic() -> None:
    data = qr.png(PAYLOAD)
    assert data.startswith(b"\x89PNG") and data == qr.png(PAYLOAD)
    assert _decode(Image.open(io.BytesIO(data))) == [PAYLOAD]


def test_longest_payload_stays_small_enough_for_the_screen() -> None:
    # Alphanumeric mode keeps the longest payload at version 4 (33 modules + 8 quiet zone).
    lines = qr.screen_text(PAYLOAD).split("\n")
    assert len(lines[0]) <= 41 and len(lines) <= 21
