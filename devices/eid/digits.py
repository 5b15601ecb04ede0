"""Digits as cards and the people typing numbers mean them: ASCII ``0`` to ``9`` only."""

from __future__ import annotations


def ascii_digits(text: str, shortest: int, longest: int) -> bool:
    """True when ``text`` is ``shortest`` to ``longest`` ASCII digits.

    ``str.isdigit()`` alone also takes superscripts, fullwidth and other scripts' digits, which
    ``int()`` then refuses or reads as another number; the upper bound keeps ``int()`` far from
    its 4300-digit limit, past which it raises ValueError too.
    """
    return shortest <= len(text) <= longest and text.isascii() and text.isdigit()
