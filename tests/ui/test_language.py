"""The patient's language: tapped at the kiosk, remembered for the next visit, else the
schedule's; changeable on the result by touch and by the console key."""

from __future__ import annotations

import datetime as dt

from devices.speech.recording import RecordingSpeaker
from kiosk.db.models import Patient
from kiosk.domain.language_choice import LanguageChoices
from tests.ui.conftest import Kiosk
from tests.ui.test_speech import app_with
from tests.ui.waiting import screen_text, until


def schedule_says(kiosk: Kiosk, patient_id: str, language: str) -> None:
    """The kiosk's replica holds ``language`` for the patient, as a pull of the schedule brings."""
    with kiosk.context.sessions() as db, db.begin():
        patient = db.get(Patient, patient_id)
        assert patient is not None
        patient.language = language


async def test_the_schedule_language_is_the_result_language_and_the_spoken_one(
    kiosk: Kiosk,
) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    schedule_says(kiosk, patient, "fr")
    speaker = RecordingSpeaker()
    app = app_with(kiosk, speaker, speech="espeak-ng")
    async with app.run_test(size=(120, 34)) as pilot:
        assert "Steek uw e-ID in de kaartlezer" in screen_text(pilot)  # the screen is Dutch
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Reprenez votre carte." in screen_text(pilot))
        assert "Bienvenue, " in screen_text(pilot)
        await until(pilot, lambda: bool(speaker.said))
        text, language = speaker.said[-1]
        assert language == "fr" and text.endswith("Reprenez votre carte.")
    # The schedule's language is no choice of the patient's: nothing is remembered.
    assert LanguageChoices(kiosk.settings.data_dir).language_of(patient) is None


async def test_a_choice_at_the_kiosk_beats_the_schedule(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    schedule_says(kiosk, patient, "fr")
    LanguageChoices(kiosk.settings.data_dir).remember(patient, "de")
    app = kiosk.app()
    async with app.run_test(size=(120, 34)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Bitte nehmen Sie Ihre Karte zurück." in screen_text(pilot))
        assert "Willkommen, " in screen_text(pilot)


async def test_a_language_tapped_before_the_card_is_used_and_remembered(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.click("#lang-fr")
        await until(pilot, lambda: "Insérez votre eID" in screen_text(pilot))
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Reprenez votre carte." in screen_text(pilot))
        assert "Bienvenue, " in screen_text(pilot)
        kiosk.reader.remove()
        await until(pilot, lambda: "Reprenez votre carte." not in screen_text(pilot))
        kiosk.ticks[0] += kiosk.settings.result_after_card_seconds
        # Home again in the kiosk's own language ...
        await until(pilot, lambda: "Steek uw e-ID in de kaartlezer" in screen_text(pilot))
        assert LanguageChoices(kiosk.settings.data_dir).language_of(patient) == "fr"
        # ... and the same patient's next card is answered in French without a tap.
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Reprenez votre carte." in screen_text(pilot))
        assert "vous étiez déjà enregistré" in screen_text(pilot)


async def test_the_result_changes_language_by_touch_and_by_key(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(120, 34)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Neem uw kaart terug." in screen_text(pilot))
        assert "Welkom, " in screen_text(pilot)
        await pilot.press("l")
        await until(pilot, lambda: "Reprenez votre carte." in screen_text(pilot))
        assert "Bienvenue, " in screen_text(pilot)
        await pilot.press("L")
        await until(pilot, lambda: "Please take your card back." in screen_text(pilot))
        await pilot.click("#result-lang-de")
        await until(pilot, lambda: "Bitte nehmen Sie Ihre Karte zurück." in screen_text(pilot))
        assert "Willkommen, " in screen_text(pilot)
        assert LanguageChoices(kiosk.settings.data_dir).language_of(patient) == "de"


async def test_the_card_left_screen_follows_the_key_too(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Neem uw kaart terug." in screen_text(pilot))
        kiosk.ticks[0] += kiosk.settings.result_timeout_seconds
        await until(pilot, lambda: "Er zit nog een kaart in de lezer." in screen_text(pilot))
        await pilot.press("l")
        await until(pilot, lambda: "Une carte est encore dans le lecteur." in screen_text(pilot))
