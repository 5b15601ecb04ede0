"""Time for the kiosk: the wall clock in production, a settable one in simulation and tests.

Everything in the domain takes the time from a :class:`Clock` so that a demo can jump to the
next session and tests are exact. Times are aware datetimes in UTC; the centre's local zone
(Europe/Brussels) is only used to decide what "today" and "09:00" mean.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol
from zoneinfo import ZoneInfo

UTC = dt.UTC
BRUSSELS = ZoneInfo("Europe/Brussels")

FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
"""The days the kiosk works with: every session it will see, and far enough from the calendar's
ends (years 1 and 9999) that a day's arithmetic (its UTC bounds, the weeks around it, a ticket's
expiry) cannot overflow."""


class DayOutOfRange(ValueError):
    """A day before :data:`FIRST_DAY` or after :data:`LAST_DAY`."""


def within_range(day: dt.date) -> dt.date:
    """``day`` itself, or :class:`DayOutOfRange` when the kiosk does not work with it."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DayOutOfRange(
            f"the kiosk works with days from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
        )
    return day


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> dt.datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        """The current time, aware, in UTC."""
        return dt.datetime.now(UTC)


class SettableClock:
    """A clock that runs from a chosen moment (simulation mode) or stands still (tests)."""

    def __init__(self, start: dt.datetime, *, running: bool = True) -> None:
        self._lock = threading.Lock()
        self._running = running
        self._set(start)

    def _set(self, moment: dt.datetime) -> None:
        self._offset = to_utc(moment) - dt.datetime.now(UTC)
        self._frozen = to_utc(moment)

    def now(self) -> dt.datetime:
        """The simulated current time, aware, in UTC."""
        with self._lock:
            if self._running:
                return dt.datetime.now(UTC) + self._offset
            return self._frozen

    def set(self, moment: dt.datetime) -> None:
        """Jump to ``moment``; a running clock keeps running from there."""
        with self._lock:
            self._set(moment)

    def advance(self, delta: dt.timedelta) -> None:
        """Move the clock forward (or back, with a negative delta)."""
        with self._lock:
            self._set(
                (dt.datetime.now(UTC) + self._offset if self._running else self._frozen) + delta
            )


def to_utc(moment: dt.datetime) -> dt.datetime:
    """An aware datetime in UTC; a naive one is taken as Brussels local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BRUSSELS)
    return moment.astimezone(UTC)


def local(moment: dt.datetime) -> dt.datetime:
    """The same instant in the centre's local time."""
    return moment.astimezone(BRUSSELS)


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants where a local calendar day starts and ends (DST-aware)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=BRUSSELS)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=BRUSSELS)
    return start.astimezone(UTC), end.astimezone(UTC)
