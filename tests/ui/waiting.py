"""Waiting in Pilot tests for something another thread causes (the reader, a worker).

A test waits for what it asserts. A state flag (``screen.state == "result"``) is set before the
screen is laid out and painted, so reading the screen right after it sees the previous picture
on a loaded machine: wait for the words with :func:`shown` instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static


async def until(pilot: Pilot[None], condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the app run until ``condition`` holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the app did not get there in time")
        await pilot.pause(0.02)


async def shown(
    pilot: Pilot[None], *texts: str, absent: tuple[str, ...] = (), seconds: float = 10.0
) -> str:
    """Let the app run until the screen shows every one of ``texts`` and none of ``absent``;
    the screen's text then. Fails after ``seconds``, saying what the screen showed.

    Texts are looked for in the screen's words joined by single spaces, so a sentence the
    layout wraps or pads still counts as shown.
    """
    deadline = time.monotonic() + seconds
    while True:
        text = screen_text(pilot)
        words = " ".join(text.split())
        missing = [t for t in texts if t not in words]
        present = [t for t in absent if t in words]
        if not missing and not present:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(
                f"after {seconds} s the screen lacks {missing} / still shows {present}:\n{text}"
            )
        await pilot.pause(0.02)


async def shown_in(pilot: Pilot[None], selector: str, *texts: str, seconds: float = 10.0) -> str:
    """Let the app run until the Static ``selector`` holds every one of ``texts``; its text."""
    deadline = time.monotonic() + seconds
    while True:
        text = label(pilot, selector)
        missing = [t for t in texts if t not in text]
        if not missing:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"after {seconds} s {selector} lacks {missing}: {text!r}")
        await pilot.pause(0.02)


async def opened(pilot: Pilot[None], kind: type[Screen[object]], seconds: float = 10.0) -> None:
    """Let the app run until a ``kind`` screen is on top, ready for keys: its text field has
    the focus if it has one. Keys pressed before that would go to the screen below."""

    def ready() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, kind):
            return False
        return not screen.query(Input) or isinstance(pilot.app.focused, Input)

    await until(pilot, ready, seconds)


def screen_text(pilot: Pilot[None]) -> str:
    """What the screen shows, as plain text lines."""
    strips = pilot.app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def label(pilot: Pilot[None], selector: str) -> str:
    """The text of one Static."""
    return str(pilot.app.screen.query_one(selector, Static).render())
