"""The app factory, reception's actions declared once (keys and dispatch), and alerts
resolved on screen."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.widgets import OptionList

from kiosk.core.config import ConfigError
from kiosk.core.i18n import translator
from kiosk.db.models import Alert
from kiosk.domain.alerts import raise_alert, resolve
from kiosk.domain.attendance import AttendanceError
from kiosk.domain.today import Status
from kiosk.ui.facade import KioskFacade
from kiosk.ui.factory import DEMO_PIN_HASH, make_app
from kiosk.ui.reception_actions import RECEPTION_ACTIONS
from kiosk.ui.screens.alerts import AlertsScreen
from kiosk.ui.screens.reason_prompt import ReasonPrompt
from kiosk.ui.screens.reception import ReceptionScreen
from kiosk.ui.widgets.alerts_strip import AlertsStrip
from tests.ui.conftest import Kiosk
from tests.ui.waiting import opened, shown_in, until


def test_every_reception_action_has_its_own_key_and_is_on_the_key_line() -> None:
    bindings = [b for b in ReceptionScreen.BINDINGS if isinstance(b, Binding)]
    by_action = {b.action: b.key for b in bindings}
    keys = [b.key for b in bindings]
    assert len(keys) == len(set(keys)), "two bindings share a key"
    for name, action in RECEPTION_ACTIONS.items():
        assert by_action[f"booking_action('{name}')"] == action.key
    english = translator("en")(
        "m manual check-in  a admit  u undo  c cancel  e excuse  p present  s resume  "
        "t reprint  d close day  x export  l alerts  [ ] day  r reload"
    )
    for action in RECEPTION_ACTIONS.values():
        assert f"{action.key} " in english


def test_the_facade_dispatches_by_the_table_and_the_domain_refuses(kiosk: Kiosk) -> None:
    facade = KioskFacade(kiosk.context)
    day = facade.reception_day(kiosk.clock.now().date())
    booking = next(
        p.booking_id for s in day.sessions for p in s.attendees if p.status == Status.EXPECTED
    )
    with pytest.raises(AttendanceError, match="there is no absence recorded for this booking"):
        facade.perform("excuse", booking, "doktersbriefje", translator("nl"))
    with pytest.raises(KeyError):
        facade.perform("delete", booking, "", translator("nl"))


def open_alert(kiosk: Kiosk, message: str) -> str:
    """A printer fault alert at the demo site; its id."""
    with kiosk.context.sessions() as db, db.begin():
        alert = raise_alert(
            db, now=kiosk.clock.now(), kind="printer_fault", site_id="GENK", message=message
        )
        return alert.id


async def test_reception_resolves_an_alert_on_screen(kiosk: Kiosk) -> None:
    alert_id = open_alert(kiosk, "paper out at the kiosk")
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReceptionScreen)
        await shown_in(pilot, "#alerts", "Printerfout: paper out at the kiosk")
        await pilot.press("l")
        await opened(pilot, AlertsScreen)
        assert app.screen.query_one(OptionList).option_count == len(screen.alerts)
        await pilot.press("enter")
        await opened(pilot, ReasonPrompt)
        await pilot.press(*"papier bijgevuld", "enter")
        await until(
            pilot, lambda: any("Melding afgehandeld." in str(n.message) for n in app._notifications)
        )
        await until(pilot, lambda: all(a.alert_id != alert_id for a in screen.alerts))
    with kiosk.context.sessions() as db:
        alert = db.get(Alert, alert_id)
        assert alert is not None and alert.resolved_at is not None
        assert (alert.resolved_by, alert.resolution) == ("reception", "papier bijgevuld")


async def test_an_alert_resolved_meanwhile_is_said_not_done(kiosk: Kiosk) -> None:
    alert_id = open_alert(kiosk, "cover open")
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReceptionScreen)
        await until(pilot, lambda: any(a.alert_id == alert_id for a in screen.alerts))
        await pilot.press("l")
        await opened(pilot, AlertsScreen)
        found = app.screen.query_one(OptionList)
        found.highlighted = found.get_option_index(alert_id)
        await pilot.press("enter")
        await opened(pilot, ReasonPrompt)
        with kiosk.context.sessions() as db, db.begin():
            resolve(db, alert_id, now=kiosk.clock.now(), actor="technician")
        await pilot.press("enter")  # the resolution is optional
        expected = "Niet gedaan: de melding is niet meer open"
        await until(pilot, lambda: any(expected in str(n.message) for n in app._notifications))


async def test_escape_leaves_the_alerts_unresolved(kiosk: Kiosk) -> None:
    alert_id = open_alert(kiosk, "offline")
    app = kiosk.app(mode="reception")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReceptionScreen)
        await until(pilot, lambda: any(a.alert_id == alert_id for a in screen.alerts))
        await pilot.press("l")
        await opened(pilot, AlertsScreen)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
    with kiosk.context.sessions() as db:
        alert = db.get(Alert, alert_id)
        assert alert is not None and alert.resolved_at is None


def test_the_factory_makes_the_simulated_kiosk_and_refuses_a_missing_database(
    kiosk: Kiosk, tmp_path: Path
) -> None:
    settings = dataclasses.replace(kiosk.settings, reception_pin_hash="")
    app = make_app(settings, simulate=True)
    services = app.services
    assert app.simulate and app.mode == "kiosk" and not services.ready
    assert services.settable_clock is not None and services.configured_printer
    assert services.settings.reader == "simulated" and services.settings.printer == "file"
    assert services.settings.reception_pin_hash == DEMO_PIN_HASH
    assert services.cards_dir == settings.data_dir / "cards"
    missing = tmp_path / "nowhere.sqlite"
    with pytest.raises(ConfigError, match=f"no database at {missing}"):
        make_app(settings, mode="reception", url=f"sqlite:///{missing}")
    reception = make_app(settings, mode="reception", url=settings.local_url)
    # Reception opens its database before any screen (the kiosk after its first paint).
    assert reception.services.opened is not None and reception.services.reader is None
    assert reception.services.printer is None and not reception.services.configured_printer
    reception.services.close()


async def test_on_the_linux_console_the_alerts_have_ascii_borders(kiosk: Kiosk) -> None:
    open_alert(kiosk, "offline")
    app = kiosk.app(mode="reception", console_safe=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReceptionScreen)
        await until(pilot, lambda: bool(screen.alerts))
        assert screen.query_one(AlertsStrip).styles.border_top[0] == "ascii"
        await pilot.press("l")
        await opened(pilot, AlertsScreen)
        assert app.screen.query_one("#alerts-box").styles.border_top[0] == "ascii"
