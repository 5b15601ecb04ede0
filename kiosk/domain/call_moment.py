"""When a patient called to cancel, as reception types it: ``09:40``, ``13/03 16:05`` or
``13/03/2026 16:05`` (local time; a time alone is today's)."""

from __future__ import annotations

import datetime as dt
import re

from kiosk.core.clock import BRUSSELS, local
from kiosk.domain.patient_search import parse_birth_date

_MOMENT = re.compile(
    r"^(?:(?P<date>[0-9]{1,2}[/.-][0-9]{1,2}(?:[/.-][0-9]{4})?)\s+)?"
    r"(?P<hour>[0-9]{1,2})[:.hu](?P<minute>[0-9]{2})$"
)


def parse_call_moment(text: str, now: dt.datetime) -> dt.datetime | None:
    """The moment ``text`` names, in local time; None when ``text`` is empty (the call is now).

    Raises :class:`ValueError` for a text that is no moment (the screen asks again)."""
    text = text.strip().lower()
    if not text:
        return None
    found = _MOMENT.match(text)
    if found is None:
        raise ValueError("not a moment")
    today = local(now).date()
    day = today
    if found["date"]:
        typed = found["date"]
        parts = re.split(r"[/.-]", typed)
        full = typed if len(parts) == 3 else f"{parts[0]}/{parts[1]}/{today.year}"
        parsed = parse_birth_date(full)
        if parsed is None:
            raise ValueError("not a date")
        day = parsed
    hour, minute = int(found["hour"]), int(found["minute"])
    if hour > 23 or minute > 59:
        raise ValueError("not a time")
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BRUSSELS)
