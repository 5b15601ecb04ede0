"""Reception's search for a patient who forgot the card: by name and birth date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from devices.eid.digits import ascii_digits
from kiosk.db.models import Patient

MAX_RESULTS = 20


def parse_birth_date(text: str) -> dt.date | None:
    """``23/11/1970``, ``23-11-1970``, ``23.11.1970`` or ISO, as reception types a birth date;
    None when empty or unreadable (never an exception: the screen says "not a date")."""
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    for separator in "/-.":
        parts = text.split(separator)
        # ASCII digits only: int() refuses a superscript, and reads fullwidth digits as others.
        if len(parts) == 3 and all(ascii_digits(p, 1, 4) for p in parts):
            day, month, year = (int(p) for p in parts)
            try:
                return dt.date(year, month, day)
            except ValueError:
                return None
    return None


@dataclass(frozen=True)
class PatientMatch:
    """One patient found (names are for reception's screen, never for logs)."""

    patient_id: str
    first_name: str
    last_name: str
    birth_date: dt.date | None


def search_patients(
    db: Session,
    *,
    name: str,
    birth_date: dt.date | None = None,
    site_id: str | None = None,
) -> list[PatientMatch]:
    """Patients whose first or last name contains every word of ``name`` (case-insensitive).

    ``birth_date`` narrows the search to that exact date; at least one of the two is needed.
    """
    words = [w for w in name.lower().split() if w]
    if not words and birth_date is None:
        return []
    query = select(Patient).order_by(Patient.last_name, Patient.first_name).limit(MAX_RESULTS)
    for word in words:
        pattern = f"%{word}%"
        query = query.where(
            or_(
                func.lower(Patient.first_name).like(pattern),
                func.lower(Patient.last_name).like(pattern),
            )
        )
    if birth_date is not None:
        query = query.where(Patient.birth_date == birth_date)
    if site_id is not None:
        query = query.where(Patient.site_id == site_id)
    return [PatientMatch(p.id, p.first_name, p.last_name, p.birth_date) for p in db.scalars(query)]
