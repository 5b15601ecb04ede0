"""A speaker that only remembers what it was asked to say (tests, the simulation)."""

from __future__ import annotations


class RecordingSpeaker:
    """Keeps every ``(text, language)`` it is asked to say."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []
        self.stopped = 0

    def say(self, text: str, language: str) -> None:
        """Remember the text."""
        self.said.append((text, language))

    def stop(self) -> None:
        """Count the stops."""
        self.stopped += 1
