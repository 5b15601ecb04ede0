"""What the screen needs of a speech engine: say a text in a language, stop at the next one."""

from __future__ import annotations

from typing import Protocol


class Speaker(Protocol):
    """Says one text at a time; a new text interrupts the one being said."""

    def say(self, text: str, language: str) -> None:
        """Start saying ``text`` in ``language`` (nl, fr, en, de) and return at once."""
        ...

    def stop(self) -> None:
        """Stop talking (nothing is said any more)."""
        ...
