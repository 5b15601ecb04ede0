"""The Belgian national register number (INSZ/NISS), including bis numbers.

Eleven digits: YYMMDD, a three-digit sequence, two check digits. The check is
97 - (first nine digits mod 97); for people born in 2000 or later a leading "2"
is put in front before the mod. Bis numbers add 20 or 40 to the month.
The number is sensitive: nothing here logs it or puts it in an exception.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from devices.eid.digits import ascii_digits

_SEPARATORS = re.compile(r"[\s.\-/]")


class InvalidNationalNumber(ValueError):
    """The text is not a valid national register number (the message never repeats it)."""


@dataclass(frozen=True, slots=True)
class NationalNumberInfo:
    """What the number itself says about its holder."""

    birth_date: dt.date | None
    """None when the day or month is unknown (00, or a day past the month's end)."""
    century: int
    """1900 or 2000: which check-digit rule matched."""
    bis: bool
    sex: str | None
    """"M" or "F" for ordinary numbers; None for bis numbers with the sex unknown (month + 20)."""


def normalise(text: str) -> str:
    """Return the 11 digits of a number written with the usual separators (``85.07.30-033.28``).

    This is the one place a number's characters are checked: every other function here, and
    every caller (command line, card parsing, import), relies on it.
    """
    digits = _SEPARATORS.sub("", text)
    if not ascii_digits(digits, 11, 11):
        raise InvalidNationalNumber("a national register number has 11 digits from 0 to 9")
    return digits


def _check(digits: str, prefix: str) -> bool:
    return 97 - int(prefix + digits[:9]) % 97 == int(digits[9:])


def parse(text: str) -> tuple[str, NationalNumberInfo]:
    """Validate and normalise a national register or bis number.

    Returns the 11 digits and what they encode; raises :class:`InvalidNationalNumber`.
    """
    digits = normalise(text)
    if int(digits) == 0:
        raise InvalidNationalNumber("a national register number cannot be all zeros")
    # The 2000 rule only applies to years that have begun: nobody is born in the future.
    if _check(digits, ""):
        century = 1900
    elif 2000 + int(digits[:2]) <= dt.date.today().year and _check(digits, "2"):
        century = 2000
    else:
        raise InvalidNationalNumber("the check digits of the national register number are wrong")
    yy, mm, dd = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    bis = mm >= 20
    if mm >= 40:
        mm -= 40
    elif mm >= 20:
        mm -= 20
    if mm > 12:
        raise InvalidNationalNumber("the national register number holds an impossible birth date")
    birth: dt.date | None = None
    if mm and 0 < dd <= calendar.monthrange(century + yy, mm)[1]:
        birth = dt.date(century + yy, mm, dd)
    # A day of 00 or past the month's end is allowed: the day (or the day counter) was unknown
    # or ran out when the number was given; the birth date is then simply not known.
    sequence = int(digits[6:9])
    sex: str | None
    if bis and int(digits[2:4]) < 40:
        # Month + 20: the sex was unknown when the bis number was given.
        sex = None
    else:
        sex = "M" if sequence % 2 else "F"
    return digits, NationalNumberInfo(birth_date=birth, century=century, bis=bis, sex=sex)


def validate(text: str) -> str:
    """Return the normalised 11 digits, or raise :class:`InvalidNationalNumber`."""
    return parse(text)[0]


def is_valid(text: str) -> bool:
    """True when ``text`` is a valid national register or bis number."""
    try:
        parse(text)
    except InvalidNationalNumber:
        return False
    return True


def make(birth: dt.date, sequence: int, *, bis: bool = False) -> str:
    """Build a valid number for a birth date and sequence (demo data and tests)."""
    month = birth.month + (40 if bis else 0)
    body = f"{birth.year % 100:02d}{month:02d}{birth.day:02d}{sequence:03d}"
    prefix = "2" if birth.year >= 2000 else ""
    return body + f"{97 - int(prefix + body) % 97:02d}"


def masked(digits: str) -> str:
    """A form safe for screens and logs: only the last two check digits."""
    return "•" * 9 + digits[-2:]
