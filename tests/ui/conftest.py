"""A real demo centre in SQLite (built once, copied per test), a frozen clock, real devices."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import inspect
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.screen import Screen
from textual.widgets import DataTable

from devices.eid.simulated import SimulatedReader
from devices.printer.file_printer import FileTicketPrinter
from devices.printer.simulated_faults import FaultyPrinter
from kiosk.core.clock import BRUSSELS, SettableClock, local
from kiosk.core.config import ParkingSettings, Settings
from kiosk.core.reception_pin import hash_pin
from kiosk.domain import demo
from kiosk.domain.context import KioskContext, open_context
from kiosk.domain.today import DaySession, Status, day_view
from kiosk.ui.app import KioskApp
from kiosk.ui.facade import KioskFacade
from kiosk.ui.factory import make_app

# A Monday morning: the demo plans sessions around it.
NOW = dt.datetime(2026, 3, 16, 7, 30, tzinfo=BRUSSELS)
PIN = "4321"
PIN_HASH = hash_pin(PIN)
PATIENTS = 60


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests (Pilot) in a fresh event loop; no asyncio plugin needed."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


def make_settings(data_dir: Path, **changes: object) -> Settings:
    """Settings of the test centre: site GENK, Dutch, a known lookup and parking key."""
    values: dict[str, object] = {
        "source": None,
        "data_dir": data_dir,
        "local_url": f"sqlite:///{data_dir / 'kiosk.sqlite'}",
        "central_url": f"sqlite:///{data_dir / 'kiosk.sqlite'}",
        "lookup_key": bytes(range(32)),
        "parking": ParkingSettings(signing_key="K1", keys={"K1": bytes(range(32, 64))}),
        "reception_pin_hash": PIN_HASH,
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Template:
    """The demo database built once, and which card belongs to whom."""

    folder: Path
    card_of: dict[str, Path]
    """patient id -> virtual card file (relative to the cards folder)."""


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    folder = tmp_path_factory.mktemp("demo")
    settings = make_settings(folder)
    context = open_context(settings, clock=SettableClock(NOW, running=False), create=True)
    with context.sessions() as db, db.begin():
        summary = demo.generate(
            db,
            context.programmes,
            lookup_key=settings.require_lookup_key(),
            now=NOW,
            patients=PATIENTS,
            sites=[("GENK", "Campus Genk")],
        )
    context.close()
    demo.write_cards(summary.patients, folder / "cards")
    card_of = {
        p.patient_id: Path(f"card-{n:04d}.json") for n, p in enumerate(summary.patients, start=1)
    }
    return Template(folder, card_of)


@dataclass
class Kiosk:
    """Everything a UI test drives: the database, the devices, the clock, and the app on them."""

    settings: Settings
    context: KioskContext
    clock: SettableClock
    reader: SimulatedReader
    printer: FaultyPrinter
    tickets: Path
    cards: Path
    card_of: dict[str, Path]
    ticks: list[float]

    def app(self, **options: Any) -> KioskApp:
        """The app as ``kiosk run`` builds it, on this kiosk's database, devices and clock
        (cursor blink off, for stable screenshots); ``options`` go to :func:`make_app`."""
        options.setdefault("cursor_blink", False)
        return make_app(
            self.context.settings,
            facade=KioskFacade(self.context),
            clock=self.clock,
            reader=self.reader,
            printer=self.printer,
            cards_dir=self.cards,
            monotonic=lambda: self.ticks[0],
            **options,
        )

    def card(self, patient_id: str) -> Path:
        """The virtual card file of a patient."""
        return self.cards / self.card_of[patient_id]

    def day(self) -> list[DaySession]:
        """Today's sessions at the demo site, as the kiosk's database has them now."""
        with self.context.sessions() as db:
            return day_view(
                db,
                site_id="GENK",
                day=local(NOW).date(),
                now=self.clock.now(),
                programmes=self.context.programmes,
                window=self.settings.checkin,
            )

    def expected_patient(self) -> tuple[str, dt.datetime]:
        """A patient expected in a session of today, and that session's start."""
        for session in self.day():
            if session.kind != "group":
                continue
            for person in session.attendees:
                if person.status == Status.EXPECTED and person.enrolment_status == "active":
                    return person.patient_id, session.starts_at
        raise AssertionError("the demo has nobody expected today")


@pytest.fixture
def kiosk(template: Template, tmp_path: Path) -> Iterator[Kiosk]:
    for name in ("kiosk.sqlite", "kiosk.sqlite-wal"):
        if (template.folder / name).exists():
            shutil.copy(template.folder / name, tmp_path / name)
    shutil.copytree(template.folder / "cards", tmp_path / "cards")
    settings = make_settings(tmp_path)
    clock = SettableClock(NOW, running=False)
    context = open_context(settings, clock=clock)
    tickets = tmp_path / "tickets"
    yield Kiosk(
        settings=settings,
        context=context,
        clock=clock,
        reader=SimulatedReader(),
        printer=FaultyPrinter(FileTicketPrinter(tickets)),
        tickets=tickets,
        cards=tmp_path / "cards",
        card_of=template.card_of,
        ticks=[0.0],
    )
    context.close()


def with_language(kiosk: Kiosk, language: str) -> Kiosk:
    """The same kiosk with another default language."""
    settings = dataclasses.replace(kiosk.settings, language=language)
    kiosk.context.settings = settings
    kiosk.settings = settings
    return kiosk


def select_row(screen: Screen[object], key: str) -> None:
    """Put the cursor of the screen's day table on the row of ``key`` (a booking id)."""
    table = screen.query_one("#day", DataTable)
    table.move_cursor(row=table.get_row_index(key))
