"""The day's attendance as CSV, for reception's export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from kiosk.core.clock import local
from kiosk.domain.today import DaySession
from kiosk.programme.model import text_in

COLUMNS = (
    "date",
    "start",
    "end",
    "session",
    "room",
    "last_name",
    "first_name",
    "birth_date",
    "status",
    "checked_in_at",
)


def attendance_csv(sessions: Iterable[DaySession], *, language: str) -> str:
    """One row per booking: session, patient, status and check-in time (local times)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for session in sessions:
        start, end = local(session.starts_at), local(session.ends_at)
        for person in session.attendees:
            arrived = local(person.checked_in_at).strftime("%H:%M") if person.checked_in_at else ""
            writer.writerow(
                (
                    start.date().isoformat(),
                    start.strftime("%H:%M"),
                    end.strftime("%H:%M"),
                    text_in(session.kind_title, language),
                    session.room,
                    person.last_name,
                    person.first_name,
                    person.birth_date.isoformat() if person.birth_date else "",
                    str(person.status),
                    arrived,
                )
            )
    return out.getvalue()
