"""The home screen comes first; the database opens after it, then the card reader starts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

from kiosk.ui.app import KioskApp
from kiosk.ui.factory import make_app
from kiosk.ui.screens.patient import PatientScreen
from tests.ui.conftest import Kiosk
from tests.ui.waiting import shown, until


def as_kiosk_run(kiosk: Kiosk, **changes: object) -> KioskApp:
    """The app as ``kiosk run`` builds it (the database opened by the app, the printer of the
    settings), with the test's reader and clock."""
    settings = dataclasses.replace(kiosk.settings, **changes)  # type: ignore[arg-type]
    return make_app(
        settings,
        clock=kiosk.clock,
        reader=kiosk.reader,
        monotonic=lambda: kiosk.ticks[0],
        cursor_blink=False,
    )


async def test_database_opens_after_the_home_screen_then_the_reader_starts(kiosk: Kiosk) -> None:
    app = as_kiosk_run(kiosk, printer="file", printer_target="")
    services = app.services
    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, "Steek uw e-ID in de kaartlezer")
        await until(pilot, lambda: services.ready)
        assert services.faulty_printer is not None  # the configured file printer
        patient, start = kiosk.expected_patient()
        kiosk.clock.set(start - dt.timedelta(minutes=10))
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        kiosk.reader.insert(kiosk.card(patient))
        await until(pilot, lambda: screen.last_result is not None)
        assert screen.last_result is not None and screen.last_result.parking is not None
        # The configured file printer prints it (and the test ends only after that).
        await shown(pilot, "Neem uw parkeerticket.")
    services.close()


async def test_a_database_that_does_not_open_is_a_calm_screen_and_retried(kiosk: Kiosk) -> None:
    path = kiosk.settings.data_dir / "kiosk.sqlite"
    kiosk.context.engine.dispose()
    saved = path.with_suffix(".saved")
    shutil.move(path, saved)
    path.mkdir()  # no database can open here
    app = as_kiosk_run(kiosk)
    services = app.services
    app.retry_seconds = 0.2
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        await shown(pilot, "Aanmelden aan deze kiosk kan nu niet.")
        assert screen.state == "reader_down"
        assert app.is_running and not services.ready
        path.rmdir()
        shutil.move(saved, path)
        await until(pilot, lambda: services.ready)
        await shown(pilot, "Steek uw e-ID in de kaartlezer")
    services.close()


async def test_a_configuration_error_found_late_stops_the_program(kiosk: Kiosk) -> None:
    app = as_kiosk_run(kiosk, printer="escpos", printer_target="nonsense:target")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: not app.is_running)
    assert app.fatal_error and app.return_code == 2
