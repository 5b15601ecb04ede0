"""Every time limit of the patient screen warns before it expires (a countdown line in the
patient's language) and a touch, a click or a key gives the patient the whole time again."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from kiosk.core.config import ConfigError, from_mapping
from kiosk.ui.screens.patient import PatientScreen
from kiosk.ui.time_limits import TimeLimit
from tests.ui.conftest import Kiosk
from tests.ui.waiting import screen_text, until

COUNTDOWN_NL = "Deze pagina sluit over"
HOME_NL = "Steek uw e-ID in de kaartlezer"
CARD_BACK_NL = "Neem uw kaart terug."


def test_a_limit_warns_in_its_last_seconds_and_starts_again_when_extended() -> None:
    limit = TimeLimit("card_in", started=100.0, seconds=15, warning_seconds=5)
    assert limit.warning(109.9) is None
    assert limit.warning(110.0) == 5
    assert limit.warning(114.5) == 1
    assert not limit.expired(114.9)
    limit.extend(114.9)
    assert limit.warning(115.0) is None
    assert limit.expired(129.9)
    # A short limit is not all warning: half of it at most.
    assert TimeLimit("card_out", 0.0, 8, 5).warning(3.9) is None
    assert TimeLimit("card_out", 0.0, 8, 5).warning(4.0) == 4


def test_warning_seconds_is_read_from_ui_and_checked(kiosk: Kiosk) -> None:
    assert kiosk.settings.warning_seconds == 5
    assert from_mapping({"ui": {"warning_seconds": 10}}, None).warning_seconds == 10
    with pytest.raises(ConfigError, match="warning_seconds"):
        from_mapping({"ui": {"warning_seconds": 0}}, None)


async def test_the_stay_after_the_card_counts_down_and_a_touch_extends_it(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: CARD_BACK_NL in screen_text(pilot))
        kiosk.reader.remove()
        await until(pilot, lambda: CARD_BACK_NL not in screen_text(pilot))
        out = kiosk.ticks[0]
        stay = kiosk.settings.result_after_card_seconds
        kiosk.ticks[0] = out + stay - 5.5
        await pilot.pause(0.3)
        assert COUNTDOWN_NL not in screen_text(pilot)
        kiosk.ticks[0] = out + stay - 3
        assert "Welkom, " in screen_text(pilot)
        # A touch: the whole time again, the countdown gone.
        await pilot.click("#result-title")
        await until(pilot, lambda: COUNTDOWN_NL not in screen_text(pilot))
        touched = kiosk.ticks[0]
        kiosk.ticks[0] = touched + stay - 0.5
        await until(pilot, lambda: f"{COUNTDOWN_NL} 1 s." in screen_text(pilot))
        # A key does it too.
        await pilot.press("space")
        await until(pilot, lambda: COUNTDOWN_NL not in screen_text(pilot))
        kiosk.ticks[0] += stay
        await until(pilot, lambda: HOME_NL in screen_text(pilot))


async def test_the_card_left_in_warns_with_a_countdown_and_a_touch_extends_it(
    kiosk: Kiosk,
) -> None:
    settings = dataclasses.replace(kiosk.settings, warning_seconds=6)
    kiosk.context.settings = settings
    kiosk.settings = settings
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(120, 34)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: CARD_BACK_NL in screen_text(pilot))
        shown = kiosk.ticks[0]
        timeout = settings.result_timeout_seconds
        kiosk.ticks[0] = shown + timeout - 6
        await until(pilot, lambda: f"{COUNTDOWN_NL} 6 s." in screen_text(pilot))
        assert "Uw kaart zit nog in de lezer" in screen_text(pilot)
        await pilot.press("space")
        await until(pilot, lambda: COUNTDOWN_NL not in screen_text(pilot))
        assert CARD_BACK_NL in screen_text(pilot)
        # The card still in: the result never goes home, it ends in the card-left screen.
        kiosk.ticks[0] += timeout - 1
        await until(pilot, lambda: f"{COUNTDOWN_NL} 1 s." in screen_text(pilot))
        kiosk.ticks[0] += 1
        await until(pilot, lambda: "Er zit nog een kaart in de lezer." in screen_text(pilot))
        assert COUNTDOWN_NL not in screen_text(pilot)
        screen = app.screen
        assert isinstance(screen, PatientScreen) and screen.last_result is None


async def test_the_countdown_is_in_the_patients_language(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("l")  # French, chosen before the card
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Reprenez votre carte." in screen_text(pilot))
        kiosk.reader.remove()
        await until(pilot, lambda: "Reprenez votre carte." not in screen_text(pilot))
        kiosk.ticks[0] += kiosk.settings.result_after_card_seconds - 2
        await until(pilot, lambda: "Cette page se ferme dans 2 s." in screen_text(pilot))
