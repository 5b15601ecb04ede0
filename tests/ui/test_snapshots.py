"""Screenshots of every screen in every language (80x24), every result outcome at the kiosk's
sizes (80x24, 120x34, 240x67), plus the console theme and the panel.

Plain test functions (pytest-textual-snapshot runs the app); frozen clock, cursor blink off.
Before each screenshot the test waits until the screen shows what the workers fill in.
Update after a deliberate change: ``pytest tests/ui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from devices.eid.reader import CardInserted
from devices.speech.recording import RecordingSpeaker
from kiosk.core.i18n import LANGUAGES
from kiosk.domain.outcomes import CheckinResult
from kiosk.ui.screens.patient import PatientScreen
from kiosk.ui.screens.pin import PinScreen
from kiosk.ui.screens.reception import ReceptionScreen
from kiosk.ui.screens.technician import TechnicianScreen
from tests.ui.conftest import Kiosk, with_language
from tests.ui.samples import CHECKED_IN, OUTCOMES, TOO_EARLY
from tests.ui.waiting import label, opened, shown, until

SnapCompare = Callable[..., bool]
KIOSK_SIZES = [(80, 24), (120, 34), (240, 67)]
"""A small console, a 15 to 22 inch screen with a large font, a 1080p console at 8x16."""


def showing(result: CheckinResult) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, PatientScreen)
        await until(pilot, lambda: screen.kiosk.services.ready)
        screen.handle_card(CardInserted("simulated"))  # the card is in: "take your card back"
        screen.show_result(result)
        await shown(pilot, result.display_name)

    return run_before


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until reception shows the day its worker read."""
    screen = pilot.app.screen
    assert isinstance(screen, ReceptionScreen)
    await until(pilot, lambda: bool(screen.sessions))
    # The title and the table's first row, both filled in when the day was read.
    first = screen.tr.time(screen.sessions[0].starts_at)
    await shown(pilot, label(pilot, "#reception-title"), first)


@pytest.mark.parametrize("language", LANGUAGES)
def test_home(kiosk: Kiosk, snap_compare: SnapCompare, language: str) -> None:
    app = with_language(kiosk, language).app()
    assert snap_compare(app, terminal_size=(80, 24))


@pytest.mark.parametrize("language", LANGUAGES)
def test_result_checked_in(kiosk: Kiosk, snap_compare: SnapCompare, language: str) -> None:
    app = with_language(kiosk, language).app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=showing(CHECKED_IN))


@pytest.mark.parametrize("language", LANGUAGES)
def test_result_refused(kiosk: Kiosk, snap_compare: SnapCompare, language: str) -> None:
    app = with_language(kiosk, language).app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=showing(TOO_EARLY))


async def two_digits_typed(pilot: Pilot[Any]) -> None:
    """The PIN screen, two digits typed once it takes keys."""
    await pilot.press("f9")
    await opened(pilot, PinScreen)
    await pilot.press("1", "2")
    await shown(pilot, "••")


@pytest.mark.parametrize("size", KIOSK_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
def test_result_at_kiosk_sizes(
    kiosk: Kiosk, snap_compare: SnapCompare, outcome: str, size: tuple[int, int]
) -> None:
    """Every outcome at the sizes a kiosk really has: no scroll bar, key facts centred."""
    app = kiosk.app()
    assert snap_compare(app, terminal_size=size, run_before=showing(OUTCOMES[outcome]))


@pytest.mark.parametrize("size", KIOSK_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_home_at_kiosk_sizes(
    kiosk: Kiosk, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    app = kiosk.app()
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("language", LANGUAGES)
def test_pin(kiosk: Kiosk, snap_compare: SnapCompare, language: str) -> None:
    app = with_language(kiosk, language).app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=two_digits_typed)


@pytest.mark.parametrize("language", LANGUAGES)
def test_reception(kiosk: Kiosk, snap_compare: SnapCompare, language: str) -> None:
    app = with_language(kiosk, language).app(mode="reception")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


@pytest.mark.parametrize("language", LANGUAGES)
def test_technician(kiosk: Kiosk, snap_compare: SnapCompare, language: str) -> None:
    app = with_language(kiosk, language).app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: bool(app.services.devices.reader_attached))
        pilot.app.push_screen(TechnicianScreen())
        # The reader's and the database's lines, filled in by the screen's worker.
        await shown(pilot, "Simulated e-ID reader", "SQLite kiosk.sqlite")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_console_theme_result(kiosk: Kiosk, snap_compare: SnapCompare) -> None:
    app = kiosk.app(console_safe=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=showing(CHECKED_IN))


@pytest.mark.parametrize("outcome", ["checked_in", "no_booking"])
def test_high_contrast_theme(kiosk: Kiosk, snap_compare: SnapCompare, outcome: str) -> None:
    settings = dataclasses.replace(kiosk.settings, theme="high-contrast")
    kiosk.context.settings = settings
    kiosk.settings = settings
    app = kiosk.app()
    assert snap_compare(app, terminal_size=(120, 34), run_before=showing(OUTCOMES[outcome]))


def test_simulation_panel(kiosk: Kiosk, snap_compare: SnapCompare) -> None:
    app = kiosk.app(simulate=True)
    assert snap_compare(app, terminal_size=(110, 30))


@pytest.mark.parametrize("size", KIOSK_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_countdown_and_repeat_at_kiosk_sizes(
    kiosk: Kiosk, snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    """A result about to time out with speech on: the countdown line and the Repeat button."""
    settings = dataclasses.replace(kiosk.settings, speech="espeak-ng")
    kiosk.context.settings = settings
    kiosk.settings = settings
    app = kiosk.app(speaker=RecordingSpeaker())

    async def run_before(pilot: Pilot[Any]) -> None:
        await showing(CHECKED_IN)(pilot)
        kiosk.ticks[0] += settings.result_timeout_seconds - 3
        await shown(pilot, "Deze pagina sluit over 3 s.", "Herhaal")

    assert snap_compare(app, terminal_size=size, run_before=run_before)
