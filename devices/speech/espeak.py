"""espeak-ng as the kiosk's voice: one process per text, the previous one stopped first.

The sound goes to the default audio output (a headset when the system routes it there: a first
name said into a public hall is personal data).
"""

from __future__ import annotations

import shutil
import subprocess

VOICES = {"nl": "nl", "fr": "fr-be", "en": "en-gb", "de": "de"}


class EspeakSpeaker:
    """Runs ``espeak-ng -v <voice> -- <text>``; a missing program is silence, not a crash."""

    def __init__(self, program: str = "espeak-ng", *, words_per_minute: int = 140) -> None:
        self.program = program
        self.words_per_minute = words_per_minute
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def available(self) -> bool:
        """Whether the program is installed."""
        return shutil.which(self.program) is not None

    def say(self, text: str, language: str) -> None:
        """Stop the current text and start saying ``text``."""
        self.stop()
        if not text or not self.available:
            return
        voice = VOICES.get(language, language)
        self._process = subprocess.Popen(
            [self.program, "-v", voice, "-s", str(self.words_per_minute), "--", text],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """End the text being said, if any."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
