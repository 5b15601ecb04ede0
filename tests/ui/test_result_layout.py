"""The result fits the kiosk's real sizes: no scroll bar and nothing cut, for every outcome.

A patient cannot scroll: at 80x24, 120x34 and 240x67 (a 1080p console) every widget of the
result shows its whole content, in the longest languages too.
"""

from __future__ import annotations

import pytest
from textual.widget import Widget

from devices.eid.reader import CardInserted
from kiosk.core.i18n import LANGUAGES
from kiosk.ui.screens.patient import PatientScreen
from kiosk.ui.widgets.result_view import ResultView
from tests.ui.conftest import Kiosk, with_language
from tests.ui.samples import OUTCOMES
from tests.ui.waiting import screen_text, until

SIZES = [(80, 24), (120, 34), (240, 67)]


def overflowing(view: Widget) -> list[str]:
    """The widgets under ``view`` (and itself) that scroll, or are cut by their container."""
    found = []
    for widget in [view, *view.query("*")]:
        if not widget.display or widget.size.area == 0:
            continue
        if widget.show_vertical_scrollbar or widget.show_horizontal_scrollbar:
            found.append(f"{widget!r} shows a scroll bar")
        elif widget.is_container and (widget.max_scroll_y > 0 or widget.max_scroll_x > 0):
            found.append(f"{widget!r} is cut ({widget.virtual_size} in {widget.size})")
        parent = widget.parent
        inside = not isinstance(parent, Widget) or parent.region.contains_region(widget.region)
        if widget is not view and not inside:
            found.append(f"{widget!r} at {widget.region} is cut by {parent.region}")
    return found


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
async def test_every_outcome_fits_without_scrolling(
    kiosk: Kiosk, outcome: str, size: tuple[int, int], language: str
) -> None:
    app = with_language(kiosk, language).app()
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        await until(pilot, lambda: screen.kiosk.services.ready)
        screen.handle_card(CardInserted("simulated"))
        screen.show_result(OUTCOMES[outcome])
        take_back = screen.tr("Please take your card back.")
        await until(pilot, lambda: take_back in screen_text(pilot))
        await pilot.pause()
        problems = overflowing(screen.query_one(ResultView))
        assert not problems
