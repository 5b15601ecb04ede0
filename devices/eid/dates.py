"""Dates as the e-ID writes them.

Validity dates are ``DD.MM.YYYY``. The birth date is ``DD MMMM YYYY`` with a month
abbreviation in the card's language (Dutch, French or German), or ``DD.MMM.YYYY`` on German
cards; real cards add quirks (``26 AVR  1975``, ``23.SEP. 1982``) and write only the year
when the day and month are unknown. Every parser here raises only
:class:`~devices.eid.errors.CardDataError`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from devices.eid.digits import ascii_digits
from devices.eid.errors import CardDataError

# Every abbreviation seen on cards, after accents are removed (MÄR -> MAR, FÉV -> FEV).
MONTHS: dict[str, int] = {
    # Dutch
    "JAN": 1, "FEB": 2, "MAAR": 3, "APR": 4, "MEI": 5, "JUN": 6,
    "JUL": 7, "AUG": 8, "SEP": 9, "OKT": 10, "NOV": 11, "DEC": 12,
    # French
    "FEV": 2, "MARS": 3, "AVR": 4, "MAI": 5, "JUIN": 6, "JUIL": 7,
    "AOUT": 8, "SEPT": 9, "OCT": 10,
    # German (MÄR loses its umlaut; MAE is how some systems spell it without one)
    "MAR": 3, "MAE": 3, "DEZ": 12,
}  # fmt: skip

MONTH_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "nl": ("JAN", "FEB", "MAAR", "APR", "MEI", "JUN", "JUL", "AUG", "SEP", "OKT", "NOV", "DEC"),
    "fr": ("JAN", "FEV", "MARS", "AVR", "MAI", "JUIN", "JUIL", "AOUT", "SEPT", "OCT", "NOV", "DEC"),
    "de": ("JAN", "FEB", "MÄR", "APR", "MAI", "JUN", "JUL", "AUG", "SEP", "OKT", "NOV", "DEZ"),
}
"""How each card language writes the months (used to build virtual cards)."""

_SEPARATORS = re.compile(r"[\s.]+")
_VALIDITY = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{4})")


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A birth date from the card: the full date, or only the year when that is all it holds."""

    year: int
    date: dt.date | None

    def isoformat(self) -> str:
        """``YYYY-MM-DD``, or ``YYYY`` when the day and month are unknown (ISO 8601 reduced)."""
        return self.date.isoformat() if self.date else f"{self.year:04d}"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def parse_birth_date(text: str) -> BirthDate:
    """Parse the card's birth date in any of its languages and spellings."""
    parts = [p for p in _SEPARATORS.split(_fold(text.strip())) if p]
    if len(parts) == 1 and ascii_digits(parts[0], 4, 4):
        return BirthDate(int(parts[0]), None)
    if len(parts) != 3:
        raise CardDataError()
    day, month, year = parts
    if not (ascii_digits(day, 1, 2) and ascii_digits(year, 4, 4)):
        raise CardDataError()
    number = MONTHS.get(month)
    if number is None:
        raise CardDataError()
    try:
        return BirthDate(int(year), dt.date(int(year), number, int(day)))
    except ValueError:
        raise CardDataError() from None


def format_birth_date(date: dt.date, language: str) -> str:
    """The card's spelling of a birth date: ``DD.MMM.YYYY`` in German, ``DD MMMM YYYY`` else."""
    month = MONTH_ABBREVIATIONS[language][date.month - 1]
    if language == "de":
        return f"{date.day:02d}.{month}.{date.year:04d}"
    return f"{date.day:02d} {month} {date.year:04d}"


def parse_validity_date(text: str) -> dt.date:
    """Parse a validity date, ``DD.MM.YYYY``."""
    match = _VALIDITY.fullmatch(text)
    if match is None:
        raise CardDataError()
    day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CardDataError() from None


def format_validity_date(date: dt.date) -> str:
    """The card's spelling of a validity date."""
    return f"{date.day:02d}.{date.month:02d}.{date.year:04d}"
