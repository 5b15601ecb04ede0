"""The patient's language: tapped at the kiosk, remembered for the next visit, changeable on the
result by touch and by the console key."""

from __future__ import annotations

import datetime as dt

from kiosk.domain.language_choice import LanguageChoices
from tests.ui.conftest import Kiosk
from tests.ui.waiting import screen_text, until


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
