"""The sentences about the patient agree with the sex the e-ID states (French "enregistrée"),
through gettext contexts; without a known sex the wording is neutral (no "(e)")."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from kiosk.core import i18n
from kiosk.core.i18n import LANGUAGES, translator
from kiosk.domain.outcomes import GrammaticalForm
from kiosk.ui import result_text
from kiosk.ui.screens.patient import PatientScreen
from tests.ui.conftest import Kiosk
from tests.ui.samples import ALREADY, CHECKED_IN, REFUSED
from tests.ui.waiting import screen_text, until

FEMININE = GrammaticalForm.FEMININE
MASCULINE = GrammaticalForm.MASCULINE
NEUTRAL = GrammaticalForm.NEUTRAL


def test_the_form_comes_from_the_eids_sex() -> None:
    assert GrammaticalForm.of_sex("F") is FEMININE
    assert GrammaticalForm.of_sex("M") is MASCULINE
    assert GrammaticalForm.of_sex(None) is NEUTRAL
    assert GrammaticalForm.of_sex("X") is NEUTRAL


@pytest.mark.parametrize(
    ("form", "welcome", "already"),
    [
        (FEMININE, "Vous êtes enregistrée.", "vous étiez déjà enregistrée."),
        (MASCULINE, "Vous êtes enregistré.", "vous étiez déjà enregistré."),
        (NEUTRAL, "Votre enregistrement est fait.", "votre enregistrement était déjà fait."),
    ],
)
def test_french_agrees_with_the_patient(form: GrammaticalForm, welcome: str, already: str) -> None:
    fr = translator("fr")
    checked_in = result_text.for_result(dataclasses.replace(CHECKED_IN, form=form), fr)
    assert checked_in.title == f"Bienvenue, Lieve D. ! {welcome}"
    assert checked_in.anonymous_title == f"Bienvenue ! {welcome}"
    again = result_text.for_result(dataclasses.replace(ALREADY, form=form), fr)
    assert again.title == f"Lieve D., {already}"


def test_a_refusal_badge_agrees_too() -> None:
    refused = next(iter(REFUSED.values()))
    fr = translator("fr")
    badges = {
        form: result_text.for_result(dataclasses.replace(refused, form=form), fr).badge
        for form in GrammaticalForm
    }
    assert badges == {
        FEMININE: "Pas encore enregistrée",
        MASCULINE: "Pas encore enregistré",
        NEUTRAL: "Enregistrement pas encore fait",
    }


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "fr"])
def test_languages_without_agreement_say_it_alike(language: str) -> None:
    tr = translator(language)
    titles = {
        result_text.for_result(dataclasses.replace(CHECKED_IN, form=form), tr).title
        for form in GrammaticalForm
    }
    assert len(titles) == 1


def test_no_patient_sentence_writes_both_forms() -> None:
    for language in LANGUAGES:
        catalogue = i18n.catalogue(language)
        for message in result_text.AGREEING:
            assert "(e)" not in catalogue[message], (language, message)


async def test_a_womans_card_reads_enregistree_in_french(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    card = kiosk.card(patient)
    data = json.loads(card.read_text(encoding="utf-8"))
    data["sex"] = "F"
    card.write_text(json.dumps(data), encoding="utf-8")
    app = kiosk.app()
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("l")  # French, chosen before the card
        kiosk.reader.insert(card)
        await until(pilot, lambda: "Reprenez votre carte." in screen_text(pilot))
        words = " ".join(screen_text(pilot).split())
        assert "Vous êtes enregistrée." in words
        screen = app.screen
        assert isinstance(screen, PatientScreen) and screen.last_result is not None
        assert screen.last_result.form is FEMININE
        # The form stays with the result when the patient switches the language.
        await pilot.press("l")
        await until(pilot, lambda: "Please take your card back." in screen_text(pilot))
        await pilot.press("l", "l", "l")
        await until(pilot, lambda: "Reprenez votre carte." in screen_text(pilot))
        assert "Vous êtes enregistrée." in " ".join(screen_text(pilot).split())
