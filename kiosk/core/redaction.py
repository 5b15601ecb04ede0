"""Scrubbing personal data from text: national register numbers (eleven digits, with or without
the usual separators, and any run of nine digits or more, in any script) and the names and
birth dates the kiosk has seen (``remember_sensitive``).

Its own module, importing nothing of the kiosk: the log filter uses it, and so does the command
line's one error line, which must not pay for the configuration's modules.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict

REDACTED_NUMBER = "[national-number]"
REDACTED_VALUE = "[redacted]"
MAX_REMEMBERED = 512
"""Sensitive values kept for scrubbing: several hundred taps' names, a bounded amount of memory."""

# A digit as a careless eye or str.isdigit() sees one: \d (every script's decimal digits,
# fullwidth included) and the superscript and subscript digits, which \d leaves out.
_DIGIT = r"[\d\u00b2\u00b3\u00b9\u2070\u2074-\u2079\u2080-\u2089]"
# Eleven digits, optionally written 85.07.30-033.28 or 850730 033 28, not part of a longer
# number; or any run of nine digits or more: nine digits of a national number give the rest (the
# last two are check digits), and a mistyped number (a digit missing, one too many, a "¹") is no
# longer eleven digits but is still the patient's.
_NATIONAL_NUMBER = re.compile(
    rf"(?<!{_DIGIT})(?:{_DIGIT}{{2}}[.\s-]?{_DIGIT}{{2}}[.\s-]?{_DIGIT}{{2}}[.\s/-]?"
    rf"{_DIGIT}{{3}}[.\s-]?{_DIGIT}{{2}}|{_DIGIT}{{9,}})(?!{_DIGIT})"
)


class _Sensitive:
    """A thread-safe, bounded set of personal values to scrub, newest kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: OrderedDict[str, None] = OrderedDict()
        self._pattern: re.Pattern[str] | None = None

    def add(self, values: list[str]) -> None:
        with self._lock:
            for value in values:
                self._values[value] = None
                self._values.move_to_end(value)
            while len(self._values) > MAX_REMEMBERED:
                self._values.popitem(last=False)
            # Longest first, so "Anne-Marie" is replaced whole rather than leaving "-Marie".
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = (
                re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE)
                if ordered
                else None
            )

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None

    def scrub(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(REDACTED_VALUE, text) if pattern is not None else text


_sensitive = _Sensitive()


def _date_forms(day: dt.date) -> list[str]:
    """The ways a birth date gets written: ISO, Belgian with / . -, and the card's own text."""
    return [
        day.isoformat(),
        f"{day:%d/%m/%Y}",
        f"{day:%d.%m.%Y}",
        f"{day:%d-%m-%Y}",
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day}.{day.month}.{day.year}",
        f"{day:%Y%m%d}",
        repr(day),
    ]


def remember_sensitive(*values: str | dt.date | None) -> None:
    """Scrub these names and birth dates from every later log line of this process.

    Call it as soon as a card's identity is known. Texts shorter than two characters are ignored
    (an initial would redact every letter); a date is registered in all its usual spellings.
    """
    texts: list[str] = []
    for value in values:
        if isinstance(value, dt.date):
            texts.extend(_date_forms(value))
        elif value:
            texts.extend(part for part in {value.strip(), *value.split()} if len(part) >= 2)
    if texts:
        _sensitive.add(texts)


def forget_sensitive() -> None:
    """Drop every remembered value (tests; a process never needs to)."""
    _sensitive.clear()


def redact(text: str) -> str:
    """``text`` with national numbers and remembered names and birth dates replaced."""
    return _sensitive.scrub(_NATIONAL_NUMBER.sub(REDACTED_NUMBER, text))
