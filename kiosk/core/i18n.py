"""Texts and dates in the patient's language: gettext catalogues read from the ``.po`` files.

The catalogues live in ``kiosk/core/locale/<lang>/LC_MESSAGES/kiosk.po`` and are read with Babel at
run time, so a fresh ``pip install -e .`` needs no compile step. Source texts are English; a
missing translation falls back on the English text (and ``tests/ui`` fails on it).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.core.clock import local

if TYPE_CHECKING:
    from babel import Locale

# Babel is imported where a text is translated, not here: the configuration imports this module
# for LANGUAGES alone, and every command reads the configuration.
LANGUAGES = ("nl", "fr", "en", "de")
"""The languages of the kiosk: the patient's choice, the configured default, the catalogues."""
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English", "de": "Deutsch"}
"""Each language in itself: what the language buttons show."""
# The four languages as a scheduling system may name them in words (in each of the four, folded
# to lower case), for a FHIR ``language`` given by its text alone.
_NAMED = {
    "nl": ("nederlands", "dutch", "néerlandais", "niederländisch", "vlaams", "flemish", "flamand"),
    "fr": ("français", "francais", "french", "frans", "französisch"),
    "en": ("english", "engels", "anglais", "englisch"),
    "de": ("deutsch", "german", "duits", "allemand"),
}
_BY_NAME = {name: language for language, names in _NAMED.items() for name in names}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "kiosk"
# Belgian forms of each language (date order, 24-hour clock); English as in the UK.
_BABEL_LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "en": "en_GB", "de": "de_BE"}


TIME_PATTERNS = {"fr": "H'h'mm"}
"""Clock times where a language does not write ``14:05`` (Belgian French writes ``8h30``)."""


def kiosk_language(tag: str) -> str | None:
    """The kiosk's language for a BCP-47 tag (``fr-BE``, ``nl``) or a language's name (``Frans``,
    ``Deutsch``), or None for any other language: a patient's language from elsewhere."""
    words = tag.strip().casefold()
    primary = words.replace("_", "-").split("-", 1)[0]
    return primary if primary in LANGUAGES else _BY_NAME.get(words)


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark ``message`` in ``context`` for extraction (a catalogue may translate it apart, as
    French does a sentence's masculine and feminine forms); see :meth:`Translator.pgettext`."""
    return message


def catalogue_path(language: str) -> Path:
    """Where the ``.po`` file of ``language`` is."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """The translated, non-fuzzy messages of ``language`` (source text -> translation)."""
    from babel.messages.pofile import read_po

    with catalogue_path(language).open("rb") as handle:
        po = read_po(handle, locale=_BABEL_LOCALES[language], domain=DOMAIN)
    return {
        (f"{message.context}\x04{message.id}" if message.context else message.id): message.string
        for message in po
        if isinstance(message.id, str)
        and message.id
        and isinstance(message.string, str)
        and message.string
        and not message.fuzzy
    }


class Translator:
    """Texts, times and dates in one language."""

    def __init__(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        from babel import Locale

        self.language = language
        self.locale: Locale = Locale.parse(_BABEL_LOCALES[language])
        self._texts = catalogue(language)

    def __call__(self, message: str, **values: object) -> str:
        """``message`` translated, with ``{name}`` placeholders filled from ``values``."""
        text = self._texts.get(message, message)
        return text.format(**values) if values else text

    def pgettext(self, context: str, message: str, **values: object) -> str:
        """``message`` as translated in ``context``, else as without one."""
        text = self._texts.get(f"{context}\x04{message}") or self._texts.get(message, message)
        return text.format(**values) if values else text

    def time(self, moment: dt.datetime) -> str:
        """A local clock time: ``14:05``, in Belgian French ``8h30``."""
        from babel.dates import format_time

        return format_time(
            local(moment), TIME_PATTERNS.get(self.language, "HH:mm"), locale=self.locale
        )

    def date(self, day: dt.date) -> str:
        """A date with its weekday (``maandag 23 november 2026``)."""
        from babel.dates import format_date

        return format_date(day, "full", locale=self.locale)

    def short_date(self, day: dt.date) -> str:
        """A date in the locale's short numeric form."""
        from babel.dates import format_date

        return format_date(day, "short", locale=self.locale)


@functools.cache
def translator(language: str) -> Translator:
    """The (shared) translator of ``language``."""
    return Translator(language)
