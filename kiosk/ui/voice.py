"""The patient screen's voice, off the UI thread: what to say, and silence on a fault.

The screen hands these to a thread worker (``group="speech"``, exclusive: a new text replaces
the one waiting); an engine that fails is logged by its error's type alone (the text may hold a
first name) and the screen goes on.
"""

from __future__ import annotations

import logging

from devices.speech.interface import Speaker

logger = logging.getLogger(__name__)


def say(speaker: Speaker | None, sentence: str, language: str) -> None:
    """Say ``sentence`` in ``language``; no sound is better than no screen."""
    if speaker is None:
        return
    try:
        speaker.say(sentence, language)
    except OSError as exc:
        logger.error("speech output failed: %s", type(exc).__name__)


def hush(speaker: Speaker | None) -> None:
    """Stop saying anything."""
    if speaker is None:
        return
    try:
        speaker.stop()
    except OSError as exc:
        logger.error("stopping speech output failed: %s", type(exc).__name__)
