"""Every text of the screens and the paper ticket is translated in all four catalogues,
placeholders intact."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

import kiosk
from kiosk.core import i18n

KIOSK = Path(kiosk.__file__).parent
KEYWORDS = {"tr": None, "staff_tr": None, "N_": None, "NP_": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@functools.cache
def source_texts() -> frozenset[str]:
    """Every text the kiosk's code marks for translation (the scan takes a while: once)."""
    found = extract_from_dir(str(KIOSK), keywords=KEYWORDS, method_map=[("**.py", "python")])
    return frozenset(
        f"{context}\x04{message}" if context else message
        for _, _, message, _, context in found
        if isinstance(message, str)
    )


def test_the_screens_have_texts_to_translate() -> None:
    assert len(source_texts()) > 100


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_catalogue_is_complete(language: str) -> None:
    catalogue = i18n.catalogue(language)
    missing = sorted(source_texts() - catalogue.keys())
    assert not missing, f"{language} lacks translations for: {missing}"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_translations_keep_their_placeholders(language: str) -> None:
    for source, translated in i18n.catalogue(language).items():
        assert set(PLACEHOLDER.findall(source)) == set(PLACEHOLDER.findall(translated)), source


def test_catalogues_carry_no_stale_texts() -> None:
    current = source_texts()
    for language in i18n.LANGUAGES:
        stale = sorted(i18n.catalogue(language).keys() - current)
        assert not stale, f"{language} has texts no screen uses: {stale}"


def test_dates_and_times_in_each_language() -> None:
    import datetime as dt

    from kiosk.core.clock import BRUSSELS

    moment = dt.datetime(2026, 3, 16, 14, 5, tzinfo=BRUSSELS)
    expected = {
        "nl": "maandag 16 maart 2026",
        "fr": "lundi 16 mars 2026",
        "en": "Monday, 16 March 2026",
        "de": "Montag, 16. März 2026",
    }
    for language, day in expected.items():
        tr = i18n.translator(language)
        assert tr.date(moment.date()) == day
        assert tr.time(moment) == ("14h05" if language == "fr" else "14:05")
    assert i18n.translator("fr").time(moment.replace(hour=8, minute=30)) == "8h30"


def test_the_wording_the_centre_uses() -> None:
    """The centre's own words: "onthaal", German "Termin", no English inside translated lines."""
    texts = {language: i18n.catalogue(language) for language in i18n.LANGUAGES}
    assert not [t for t in texts["nl"].values() if "balie" in t.lower()]
    german = " ".join(texts["de"].values())
    for word in ("Sitzung", "abgeholt", "freiwillig", "beendet"):
        assert word not in german, word
    assert texts["de"]["Your programme has been stopped."] == "Ihr Programm wurde unterbrochen."
    assert texts["fr"]["Nobody found. Check the name and the birth date."].startswith(
        "Personne trouvée."
    )
    for language in ("nl", "fr", "de"):
        assert not [s for s in texts[language] if "({reason})" in s or "({fault})" in s]
