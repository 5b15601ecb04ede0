"""The day's attendance as CSV, for reception's export, and the escaping every CSV the kiosk
writes applies to its cells."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a cell begins that a spreadsheet would run as a formula (OWASP's CSV injection list)."""


def spreadsheet_safe(cell: object) -> object:
    """``cell`` as a spreadsheet shows it and never runs it: text that would start a formula
    gets a leading apostrophe (``=HYPERLINK(...)`` becomes ``'=HYPERLINK(...)``); other values
    pass unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def safe_row(cells: Sequence[object]) -> list[object]:
    """A CSV row with every cell made :func:`spreadsheet_safe`."""
    return [spreadsheet_safe(cell) for cell in cells]


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
                safe_row(
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
            )
    return out.getvalue()
