"""The patient's flow on a real demo database, the real simulated reader and the file printer."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from devices.printer.interface import FaultKind
from kiosk.core.i18n import LANGUAGES, translator
from kiosk.domain.outcomes import Outcome
from kiosk.ui.screens.patient import PatientScreen
from kiosk.ui.screens.pin import PinScreen
from tests.ui.conftest import NOW, Kiosk, with_language
from tests.ui.samples import CHECKED_IN, INTERIM, START, TEST, TITLE
from tests.ui.waiting import opened, screen_text, shown, shown_in, until


def patient_screen(app: object) -> PatientScreen:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, PatientScreen)
    return screen


async def test_home_screen_in_dutch_then_every_language(kiosk: Kiosk) -> None:
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        # 07:30: the frozen clock, Brussels time.
        await shown(
            pilot,
            "Steek uw e-ID in de kaartlezer",
            "Ambulante Revalidatie",
            "07:30",
            "maandag 16 maart 2026",
        )
        await pilot.press("l")
        await shown(pilot, "Insérez votre eID dans le lecteur", "lundi 16 mars 2026")
        await pilot.press("l")
        await shown(pilot, "Please insert your e-ID in the reader")
        await pilot.click("#lang-de")
        await shown(pilot, "Bitte stecken Sie Ihre eID in den Leser", "Montag, 16. März 2026")


async def test_card_checks_in_and_prints_the_ticket(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = patient_screen(app)
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: screen.last_result is not None)
        result = screen.last_result
        assert result is not None and result.outcome == Outcome.CHECKED_IN
        assert result.parking is not None
        # The QR code is drawn in blocks.
        await shown(
            pilot,
            f"Welkom, {result.display_name}!",
            "Groepsprogramma: sessie",
            "█",
            "Neem uw parkeerticket.",
        )
        printed = list(kiosk.tickets.glob("*"))
        assert printed, "the file printer wrote no ticket"


async def test_printer_out_of_paper_sends_the_patient_to_reception(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=5))
    kiosk.printer.set_fault(FaultKind.OUT_OF_PAPER)
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = patient_screen(app)
        kiosk.reader.insert(kiosk.card(patient))
        await shown(pilot, "De printer werkt niet")
        assert screen.last_result is not None and screen.last_result.parking is not None


def bells(app: object) -> list[None]:
    """Count the app's terminal bells from now on."""
    rung: list[None] = []
    app.bell = lambda: rung.append(None)  # type: ignore[attr-defined]
    return rung


async def test_card_back_then_the_result_stays_for_the_configured_time(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Neem uw kaart terug." in screen_text(pilot))
        screen = patient_screen(app)
        name = screen.last_result.display_name if screen.last_result else "?"
        assert f"Welkom, {name}!" in screen_text(pilot)
        kiosk.reader.remove()
        await until(pilot, lambda: "Neem uw kaart terug." not in screen_text(pilot))
        out = kiosk.ticks[0]
        # The result (name, code) stays readable once the card is out.
        kiosk.ticks[0] = out + kiosk.settings.result_after_card_seconds - 0.01
        await pilot.pause(0.3)
        assert f"Welkom, {name}!" in screen_text(pilot)
        kiosk.ticks[0] = out + kiosk.settings.result_after_card_seconds
        await until(pilot, lambda: "Steek uw e-ID in de kaartlezer" in screen_text(pilot))
        assert name not in screen_text(pilot)


async def test_the_result_stays_eight_seconds_by_default_and_is_configurable(
    kiosk: Kiosk,
) -> None:
    assert kiosk.settings.result_after_card_seconds == 8
    with_setting = dataclasses.replace(kiosk.settings, result_after_card_seconds=30)
    kiosk.context.settings = with_setting
    kiosk.settings = with_setting
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Neem uw kaart terug." in screen_text(pilot))
        kiosk.reader.remove()
        await until(pilot, lambda: "Neem uw kaart terug." not in screen_text(pilot))
        kiosk.ticks[0] += 29
        await pilot.pause(0.3)
        assert "Welkom, " in screen_text(pilot)
        kiosk.ticks[0] += 1
        await until(pilot, lambda: "Steek uw e-ID in de kaartlezer" in screen_text(pilot))


async def test_the_next_card_replaces_the_result_at_once(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Neem uw kaart terug." in screen_text(pilot))
        kiosk.reader.remove()
        await until(pilot, lambda: "Neem uw kaart terug." not in screen_text(pilot))
        kiosk.reader.insert_bank_card()
        await until(pilot, lambda: "Dit is geen e-ID." in screen_text(pilot))
        assert "Welkom, " not in screen_text(pilot)


async def test_a_card_left_in_is_signalled_before_the_screen_clears(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        rung = bells(app)
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: "Neem uw kaart terug." in screen_text(pilot))
        screen = patient_screen(app)
        name = screen.last_result.display_name if screen.last_result else "?"
        shown = kiosk.ticks[0]
        timeout = kiosk.settings.result_timeout_seconds
        kiosk.ticks[0] = shown + timeout - 6
        await pilot.pause(0.3)
        assert not rung
        # A few seconds before the timeout: a warning on the result itself, and the bell.
        kiosk.ticks[0] = shown + timeout - 5
        await until(pilot, lambda: "Uw kaart zit nog in de lezer" in screen_text(pilot))
        assert f"Welkom, {name}!" in screen_text(pilot)
        assert len(rung) == 1
        # At the timeout: nothing personal, a card-left screen for whoever comes next.
        kiosk.ticks[0] = shown + timeout
        await until(pilot, lambda: "Er zit nog een kaart in de lezer." in screen_text(pilot))
        assert name not in screen_text(pilot)
        assert "Neem uw kaart terug." in screen_text(pilot)
        assert len(rung) == 2
        kiosk.ticks[0] += 3600  # it stays until the card comes out
        await pilot.pause(0.3)
        assert "Er zit nog een kaart in de lezer." in screen_text(pilot)
        kiosk.reader.remove()
        await until(pilot, lambda: "Steek uw e-ID in de kaartlezer" in screen_text(pilot))


async def test_a_card_taken_out_too_soon_is_seen(kiosk: Kiosk) -> None:
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        kiosk.reader.insert_unreadable()
        await until(pilot, lambda: "We konden uw kaart niet lezen." in screen_text(pilot))
        kiosk.reader.remove()
        await until(pilot, lambda: "Neem uw kaart terug." not in screen_text(pilot))
        assert "We konden uw kaart niet lezen." in screen_text(pilot)


async def test_too_early_says_when_check_in_opens(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(hours=3))
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = patient_screen(app)
        kiosk.reader.insert(kiosk.card(patient))
        # Wait for what the patient reads, not for a state flag.
        await until(pilot, lambda: "U kunt zich aanmelden vanaf" in screen_text(pilot), seconds=10)
        assert "Kom dan terug en steek uw kaart opnieuw in." in " ".join(screen_text(pilot).split())
        assert screen.last_result is not None
        assert screen.last_result.outcome == Outcome.TOO_EARLY


async def test_bank_card_and_unreadable_card_are_plain_words(kiosk: Kiosk) -> None:
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        kiosk.reader.insert_bank_card()
        await shown(pilot, "Dit is geen e-ID.")
        kiosk.reader.remove()
        await until(pilot, lambda: "Neem uw kaart terug." not in screen_text(pilot))
        kiosk.ticks[0] += kiosk.settings.result_after_card_seconds
        await until(pilot, lambda: "Steek uw e-ID in de kaartlezer" in screen_text(pilot))
        kiosk.reader.insert_unreadable()
        await shown(pilot, "We konden uw kaart niet lezen.")


async def test_unknown_card_is_sent_to_reception(kiosk: Kiosk) -> None:
    from devices.eid.virtual_card import load

    card = load(kiosk.cards / "card-0001.json")
    stranger = card.__class__(
        **{**card.__dict__, "national_number": "85073003328", "first_names": "Zoë"}
    )
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = patient_screen(app)
        kiosk.reader.insert(stranger)
        # Wait for what the patient reads: the state changes before the result is painted.
        await until(pilot, lambda: "We kennen deze kaart niet." in screen_text(pilot))
        assert screen.state == "result"
        text = screen_text(pilot)
        assert "Ga naar het onthaal" in text


async def test_unplugged_reader_is_a_calm_screen_until_plugged_in(kiosk: Kiosk) -> None:
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = patient_screen(app)
        kiosk.reader.unplug()
        await shown(pilot, "Aanmelden aan deze kiosk kan nu niet.")
        assert screen.state == "reader_down"
        kiosk.ticks[0] += 3600  # no timeout leaves this screen
        await pilot.pause(0.3)
        assert screen.state == "reader_down"
        kiosk.reader.plug()
        await shown(pilot, "Steek uw e-ID in de kaartlezer")


async def test_database_failure_is_a_calm_screen(kiosk: Kiosk) -> None:
    patient, start = kiosk.expected_patient()
    kiosk.clock.set(start - dt.timedelta(minutes=10))
    kiosk.context.engine.dispose()
    (kiosk.settings.data_dir / "kiosk.sqlite").unlink()
    (kiosk.settings.data_dir / "kiosk.sqlite").mkdir()  # no database can open here now
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = patient_screen(app)
        kiosk.reader.insert(kiosk.card(patient))
        await shown(pilot, "Aanmelden kan nu niet.")
        assert screen.state == "result"
        assert app.is_running


async def test_the_patient_cannot_quit_or_open_the_palette(kiosk: Kiosk) -> None:
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("ctrl+q", "ctrl+c", "ctrl+p", "escape", "q", "f1"):
            await pilot.press(key)
        await pilot.pause()
        assert app.is_running
        assert isinstance(app.screen, PatientScreen)
        assert not app.screen.query("CommandPalette")
        # Every binding of the patient screen is hidden from any footer.
        assert all(not b.show for _, b in app.screen._bindings)


async def test_staff_key_asks_for_the_pin_and_locks_after_five_wrong(kiosk: Kiosk) -> None:
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f9")
        await opened(pilot, PinScreen)
        for _ in range(5):
            await pilot.press("1", "1", "1", "1", "enter")
            await pilot.pause(0.3)
        await shown_in(pilot, "#pin-message", "vergrendeld tot")
        await pilot.press(*"4321", "enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, PinScreen)  # still locked, even with the right PIN
        kiosk.clock.advance(dt.timedelta(minutes=5))
        await pilot.press(*"4321", "enter")
        await until(pilot, lambda: type(app.screen).__name__ == "ReceptionScreen")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PatientScreen))


async def test_pin_screen_closes_by_itself(kiosk: Kiosk) -> None:
    app = kiosk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, PinScreen))
        kiosk.ticks[0] += 31
        await until(pilot, lambda: isinstance(app.screen, PatientScreen))


def test_now_is_a_monday() -> None:
    assert NOW.weekday() == 0


@pytest.mark.parametrize("language", LANGUAGES)
async def test_what_matters_is_visible_at_80x24(kiosk: Kiosk, language: str) -> None:
    """Name, session, time and room, progress, today's test and what follows, code and QR."""
    app = with_language(kiosk, language).app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = patient_screen(app)
        await until(pilot, lambda: app.services.ready)
        screen.show_result(CHECKED_IN)
        tr = translator(language)
        needed = (
            "Lieve D.",
            TITLE[language],
            tr.time(START),
            "Zaal 1",
            "18",
            "36",
            TEST[language],
            INTERIM[language].split()[-1],
            CHECKED_IN.parking.short_code if CHECKED_IN.parking else "?",
            "█▀▀▀▀▀█",
            tr("Please take a seat; you will be called.").split()[-1],
        )
        await shown(pilot, *needed)
