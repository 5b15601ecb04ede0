"""One booking line of the scheduling system's export, checked, and the rows it makes.

Every line is checked here, before the database sees it, against what the kiosk and both kinds
of centre can hold: a programme and session kind of the programme files, the column lengths of
:mod:`kiosk.db.models` (SQLite would keep a longer value that PostgreSQL refuses), dates within
the years the rules can count in. Row ids are derived from the row's natural keys (UUID v5).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, String

from devices.eid.national_number import InvalidNationalNumber, validate
from kiosk.core.i18n import LANGUAGES
from kiosk.db.models import Base, BookingStatus, EnrolmentStatus
from kiosk.domain.patients import nn_hash
from kiosk.programme import Programme

HEADER = [
    "national_number",
    "first_name",
    "last_name",
    "birth_date",
    "site_id",
    "programme",
    "enrolment_start",
    "kind",
    "starts_at",
    "ends_at",
    "room",
    "status",
]
OPTIONAL = ["language"]
"""The columns a CSV may have after the header's twelve (an export without them is fine)."""
COLUMNS = [*HEADER, *OPTIONAL]
HEADER_TEXT = f"{','.join(HEADER)}[,{','.join(OPTIONAL)}]"
"""The header as the problems show it: the optional columns in brackets."""
REQUIRED = frozenset(
    {"national_number", "site_id", "programme", "enrolment_start", "kind", "starts_at", "ends_at"}
)
NAMESPACE = uuid.UUID("6f1c2a52-6a43-4d5e-9a7e-2f0b1c9d8e11")

_TABLES = Base.metadata.tables
STORED_IN: dict[str, tuple[Column[Any], ...]] = {
    # national_number is not listed: it is stored as the 11 digits validate() returns.
    "first_name": (_TABLES["patients"].c.first_name,),
    "last_name": (_TABLES["patients"].c.last_name,),
    "site_id": (_TABLES["sites"].c.id, _TABLES["sites"].c.name),
    "programme": (_TABLES["programmes"].c.code,),
    "kind": (_TABLES["sessions"].c.kind,),
    "room": (_TABLES["sessions"].c.room,),
}
"""The columns each text field of a line is stored in: the shortest one is the field's limit."""


def _shortest(columns: Iterable[Column[Any]]) -> int:
    lengths = [c.type.length for c in columns if isinstance(c.type, String)]
    return min(n for n in lengths if n is not None)


LIMITS = {name: _shortest(columns) for name, columns in STORED_IN.items()}
"""The most characters each text field may have."""

# Enrolments and sessions outside these days are typing errors in the scheduling system; the
# bounds also keep the rules' arithmetic (months after a start, a day's bounds in Brussels) far
# from the ends of the calendar, where it would overflow.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
EARLIEST_BIRTH = dt.date(1900, 1, 1)

# Control characters break a screen line and PostgreSQL refuses NUL; unpaired surrogates (a
# JSON escape can make them) cannot be encoded for either database.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")

Line = tuple[str, Mapping[str, str]]
"""A booking line labelled with where it came from (``line 7``, ``entry 3 (Appointment)``)."""


class ImportFailed(ValueError):
    """The file cannot be imported: one problem per bad line, each naming the line and the field,
    never a person's data. Nothing was written."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(parts)))


class _Checker:
    """One line's fields, checked; ``problems`` holds what is wrong, by field."""

    def __init__(self, line: Mapping[str, str]) -> None:
        self.line = line
        self.problems: dict[str, str] = {}

    def text(self, name: str) -> str:
        """The field as given, or "" (with a problem) when it cannot be stored."""
        value = self.line.get(name, "")
        if not isinstance(value, str):
            self.problems[name] = "is not text"
        elif _CONTROL.search(value):
            self.problems[name] = "holds a control character"
        elif _SURROGATE.search(value):
            self.problems[name] = "holds an unpaired surrogate (not Unicode text)"
        elif name in REQUIRED and not value.strip():
            self.problems[name] = "is missing"
        elif name in LIMITS and len(value) > LIMITS[name]:
            self.problems[name] = f"is longer than {LIMITS[name]} characters"
        else:
            return value
        return ""

    def day(self, name: str, low: dt.date, high: dt.date) -> dt.date | None:
        """A date from ``low`` to ``high``; None when empty or wrong."""
        text = self.text(name)
        if not text:
            return None
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            self.problems[name] = "is not a date (YYYY-MM-DD)"
            return None
        if not low <= value <= high:
            self.problems[name] = f"is not from {low.isoformat()} to {high.isoformat()}"
            return None
        return value

    def instant(self, name: str) -> dt.datetime | None:
        """A date-time with its UTC offset, in UTC, within the programme days."""
        text = self.text(name)
        if not text:
            return None
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            self.problems[name] = "is not a date-time (YYYY-MM-DDTHH:MM+01:00)"
            return None
        if value.tzinfo is None:
            self.problems[name] = "has no UTC offset"
            return None
        span = f"is not from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
        try:
            utc = value.astimezone(dt.UTC)
        except OverflowError:  # the offset moves year 1 or 9999 off the calendar
            self.problems[name] = span
            return None
        if not FIRST_DAY <= utc.date() <= LAST_DAY:
            self.problems[name] = span
            return None
        return utc


def line_rows(
    line: Mapping[str, str], lookup_key: bytes, programmes: Mapping[str, Programme]
) -> tuple[dict[str, tuple[str, dict[str, Any]]], dict[str, str]]:
    """The rows (by table: id and values) one line makes, and its problems by field."""
    check = _Checker(line)
    nn = check.text("national_number")
    if nn:
        try:
            # Only ASCII digits are a number (str.isdigit also takes other scripts' digits).
            if not nn.isascii():
                raise InvalidNationalNumber("a national register number has 11 digits")
            nn = validate(nn)
        except InvalidNationalNumber as exc:
            check.problems["national_number"] = str(exc)
    first_name = check.text("first_name")
    last_name = check.text("last_name")
    site = check.text("site_id")
    code = check.text("programme")
    programme = programmes.get(code) if code else None
    if code and programme is None:
        check.problems["programme"] = f"is not a programme of the files ({', '.join(programmes)})"
    started = check.day("enrolment_start", FIRST_DAY, LAST_DAY)
    born = check.day("birth_date", EARLIEST_BIRTH, LAST_DAY)
    if born is not None and started is not None and born > started:
        check.problems["birth_date"] = "is after enrolment_start"
    kind = check.text("kind")
    if kind and programme is not None:
        if kind not in programme.kinds:
            kinds = ", ".join(programme.kinds)
            check.problems["kind"] = f"is not a session kind of {code} ({kinds})"
        elif not any(kind in phase.kinds for phase in programme.phases):
            check.problems["kind"] = f"belongs to no phase of {code}"
    starts = check.instant("starts_at")
    ends = check.instant("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        check.problems["ends_at"] = "is not after starts_at"
    room = check.text("room")
    status_text = check.text("status") or BookingStatus.BOOKED.value
    if "status" not in check.problems and status_text not in {s.value for s in BookingStatus}:
        check.problems["status"] = f"is not {' or '.join(BookingStatus)}"
    # The schedule owns the patient's language: a line without one says "not known".
    language = check.text("language") or None
    if language is not None and language not in LANGUAGES:
        check.problems["language"] = f"is not {', '.join(LANGUAGES[:-1])} or {LANGUAGES[-1]}"
    if check.problems:
        return {}, {name: check.problems[name] for name in COLUMNS if name in check.problems}
    assert started is not None and starts is not None and ends is not None  # no problems

    hashed = nn_hash(lookup_key, nn)
    patient_id = _id("patient", hashed)
    enrolment_id = _id("enrolment", patient_id, code, started.isoformat())
    session_id = _id("session", site, kind, starts.isoformat(), room)
    booking_id = _id("booking", session_id, enrolment_id)
    rows: dict[str, tuple[str, dict[str, Any]]] = {
        "sites": (site, {"id": site, "name": site}),
        "patients": (
            patient_id,
            {
                "id": patient_id,
                "nn_hash": hashed,
                "national_number": nn,
                "first_name": first_name,
                "last_name": last_name,
                "birth_date": born,
                "site_id": site,
                "language": language,
            },
        ),
        "enrolments": (
            enrolment_id,
            {
                "id": enrolment_id,
                "patient_id": patient_id,
                "programme_code": code,
                "site_id": site,
                "status": EnrolmentStatus.ACTIVE,
                "started_on": started,
                "stop_reason": "",
            },
        ),
        "sessions": (
            session_id,
            {
                "id": session_id,
                "site_id": site,
                "programme_code": code,
                "kind": kind,
                "starts_at": starts,
                "ends_at": ends,
                "room": room,
            },
        ),
        "bookings": (
            booking_id,
            {
                "id": booking_id,
                "session_id": session_id,
                "enrolment_id": enrolment_id,
                "patient_id": patient_id,
                "status": BookingStatus(status_text),
            },
        ),
    }
    return rows, {}
