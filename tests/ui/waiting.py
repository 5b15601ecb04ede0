"""Waiting in Pilot tests for something another thread causes (the reader, a worker)."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Static


async def until(pilot: Pilot[None], condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Let the app run until ``condition`` holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the app did not get there in time")
        await pilot.pause(0.02)


def screen_text(pilot: Pilot[None]) -> str:
    """What the screen shows, as plain text lines."""
    strips = pilot.app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def label(pilot: Pilot[None], selector: str) -> str:
    """The text of one Static."""
    return str(pilot.app.screen.query_one(selector, Static).render())
