"""When a session's check-in window opens and closes: the one place that says it (the check-in
engine, the day view and the simulation clock's jump all ask here)."""

from __future__ import annotations

import datetime as dt

from kiosk.core.config import CheckinWindow


def window_of(starts_at: dt.datetime, window: CheckinWindow) -> tuple[dt.datetime, dt.datetime]:
    """(opens, closes) of the check-in window of a session starting at ``starts_at``: both ends
    belong to it."""
    return (
        starts_at - dt.timedelta(minutes=window.opens_before_minutes),
        starts_at + dt.timedelta(minutes=window.closes_after_minutes),
    )


def first_start_after(moment: dt.datetime, window: CheckinWindow) -> dt.datetime:
    """The earliest session start whose window opens after ``moment``: sessions starting later
    than this are still ahead of a clock at ``moment``."""
    return moment + dt.timedelta(minutes=window.opens_before_minutes)
