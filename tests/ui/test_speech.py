"""Speech output: off by default (the engine is never called), and when on, the engine gets the
screen's own text in the screen's language."""

from __future__ import annotations

import dataclasses
import datetime as dt
import stat
from pathlib import Path

import pytest

from devices.eid.reader import CardInserted
from devices.speech.espeak import EspeakSpeaker
from devices.speech.recording import RecordingSpeaker
from kiosk.core.i18n import translator
from kiosk.ui import result_text
from kiosk.ui.app import KioskApp
from kiosk.ui.screens.patient import PatientScreen
from tests.ui.conftest import Kiosk
from tests.ui.samples import OUTCOMES
from tests.ui.waiting import screen_text, until


def app_with(
    kiosk: Kiosk, speaker: RecordingSpeaker, *, speech: str, output: str = "speaker"
) -> KioskApp:
    settings = dataclasses.replace(kiosk.settings, speech=speech, speech_output=output)
    kiosk.context.settings = settings
    kiosk.settings = settings
    return kiosk.app(speaker=speaker)


async def test_speech_is_off_by_default_and_the_engine_is_not_called(kiosk: Kiosk) -> None:
    assert kiosk.settings.speech == "off"
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    speaker = RecordingSpeaker()
    app = app_with(kiosk, speaker, speech="off")
    async with app.run_test(size=(120, 34)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Neem uw kaart terug." in screen_text(pilot))
        await pilot.press("l")
        await until(pilot, lambda: "Reprenez votre carte." in screen_text(pilot))
        await pilot.pause(0.3)
        assert speaker.said == []
        assert speaker.stopped == 0


async def test_the_engine_says_what_the_screen_says(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    speaker = RecordingSpeaker()
    app = app_with(kiosk, speaker, speech="espeak-ng")
    async with app.run_test(size=(120, 34)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Neem uw kaart terug." in screen_text(pilot))
        await until(pilot, lambda: bool(speaker.said))
        text, language = speaker.said[-1]
        assert language == "nl"
        # A speaker is heard in the hall: the name is left out of what it says.
        assert text.startswith("Welkom! U bent aangemeld.")
        assert "Welkom, " in screen_text(pilot)
        assert text.endswith("Neem uw kaart terug.")
        screen_words = " ".join(screen_text(pilot).split())
        for sentence in ("U bent aangemeld.", "Neem plaats; u wordt opgehaald."):
            assert sentence in text and sentence in screen_words
        # The patient switches the result to French: it is said again, in French.
        await pilot.press("l")
        await until(pilot, lambda: speaker.said[-1][1] == "fr")
        assert speaker.said[-1][0].endswith("Reprenez votre carte.")


@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
async def test_each_outcome_is_said_as_shown(kiosk: Kiosk, outcome: str) -> None:
    speaker = RecordingSpeaker()
    app = app_with(kiosk, speaker, speech="espeak-ng")
    async with app.run_test(size=(120, 34)) as pilot:
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        await until(pilot, lambda: screen.kiosk.services.ready)
        screen.handle_card(CardInserted("simulated"))
        screen.show_result(OUTCOMES[outcome])
        await until(pilot, lambda: bool(speaker.said))
        said, language = speaker.said[-1]
        assert language == "nl"
        shown = result_text.for_result(OUTCOMES[outcome], translator("nl"))
        screen_words = " ".join(screen_text(pilot).split())
        for sentence in (shown.badge, shown.next_step, "Neem uw kaart terug."):
            if sentence:
                assert sentence in said
                assert sentence in screen_words
        assert shown.title in screen_words
        assert "Lieve" not in said
        if shown.anonymous_title:
            assert said.startswith(f"{shown.badge} {shown.anonymous_title}".strip())


def test_espeak_gets_the_voice_and_the_text_as_one_argument(tmp_path: Path) -> None:
    record = tmp_path / "args"
    program = tmp_path / "espeak-ng"
    program.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    speaker = EspeakSpeaker(str(program))
    speaker.say("Bienvenue, Lieve D. ! -v en", "fr")
    assert speaker._process is not None
    speaker._process.wait(5)
    assert record.read_text().splitlines() == [
        "-v",
        "fr-be",
        "-s",
        "140",
        "--",
        "Bienvenue, Lieve D. ! -v en",
    ]


def test_a_missing_espeak_is_silence() -> None:
    speaker = EspeakSpeaker("/nonexistent/espeak-ng")
    assert not speaker.available
    speaker.say("Welkom", "nl")
    speaker.stop()


async def test_a_headset_hears_the_name_and_the_repeat_key_says_it_again(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    speaker = RecordingSpeaker()
    app = app_with(kiosk, speaker, speech="espeak-ng", output="headset")
    async with app.run_test(size=(120, 34)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Neem uw kaart terug." in screen_text(pilot))
        await until(pilot, lambda: bool(speaker.said))
        screen = app.screen
        assert isinstance(screen, PatientScreen) and screen.last_result is not None
        name = screen.last_result.display_name
        first = speaker.said[-1]
        assert first[0].startswith(f"Welkom, {name}!")
        assert "Herhaal" in screen_text(pilot)
        await pilot.press("r")
        await until(pilot, lambda: len(speaker.said) == 2)
        assert speaker.said[-1] == first
        await pilot.click("#result-repeat")
        await until(pilot, lambda: len(speaker.said) == 3)
        assert speaker.said[-1] == first


async def test_no_repeat_button_without_speech(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    speaker = RecordingSpeaker()
    app = app_with(kiosk, speaker, speech="off")
    async with app.run_test(size=(120, 34)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Neem uw kaart terug." in screen_text(pilot))
        assert "Herhaal" not in screen_text(pilot)
        await pilot.press("r")
        await pilot.pause(0.2)
        assert speaker.said == []


def test_the_spoken_title_is_the_shown_one_without_the_name() -> None:
    for outcome, result in OUTCOMES.items():
        shown = result_text.for_result(result, translator("fr"))
        with_name = result_text.spoken(shown, with_name=True)
        without = result_text.spoken(shown, with_name=False)
        assert shown.title in with_name, outcome
        assert "Lieve" not in without, outcome
