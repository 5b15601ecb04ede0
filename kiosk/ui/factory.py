"""The one way the app is built: ``kiosk run``, ``kiosk reception`` and the tests call
:func:`make_app`.

The command line only turns its arguments into settings and a database URL; what a mode means
(which devices, which clock, when the database opens) is decided here, once. Whatever a caller
gives (a reader, a printer, an open facade, a clock) replaces what the settings would make, so a
test drives the same app as the kiosk with its own devices.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from devices.eid.reader import CardReader
from devices.printer.interface import TicketPrinter
from devices.speech.interface import Speaker
from kiosk.core.clock import Clock, SettableClock, SystemClock
from kiosk.core.config import Settings
from kiosk.ui.app import KioskApp, Mode
from kiosk.ui.services import KioskServices

if TYPE_CHECKING:
    from kiosk.ui.facade import KioskFacade

DEMO_PIN = "0000"
"""The reception PIN of ``kiosk run --simulate`` when the configuration sets none."""
DEMO_PIN_HASH = (
    "scrypt$16384$8$1$6adc55ba4a52be704803b81bb7626f4f$aff097a33c"
    "64ee1ad8f7cc68c4f2a56de207b22e0aa6cdd389582b84ac6e6228"
)
"""``hash_pin(DEMO_PIN)``, computed once: scrypt at every start would slow the demo's start."""


def simulated(settings: Settings) -> Settings:
    """The settings of ``--simulate``: the simulated reader, the file printer in the data
    directory, the demo PIN unless one is configured."""
    return dataclasses.replace(
        settings,
        reader="simulated",
        printer="file",
        printer_target="",
        reception_pin_hash=settings.reception_pin_hash or DEMO_PIN_HASH,
    )


def reader_of(settings: Settings) -> Callable[[], CardReader]:
    """What builds the configured card reader (called after the first paint: the card code and
    its cryptography load then)."""

    def make() -> CardReader:
        if settings.reader == "pcsc":
            from devices.eid.pcsc import PcscReader

            # Only cards whose National Register certificate chains to a trusted root are read.
            return PcscReader(settings.reader_name, trusted_roots=settings.load_trusted_roots())
        from devices.eid.simulated import SimulatedReader

        return SimulatedReader()

    return make


def make_app(
    settings: Settings,
    *,
    mode: Mode = "kiosk",
    simulate: bool = False,
    console_safe: bool = False,
    url: str | None = None,
    facade: KioskFacade | None = None,
    clock: Clock | None = None,
    reader: CardReader | None = None,
    printer: TicketPrinter | None = None,
    speaker: Speaker | None = None,
    cards_dir: Path | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    cursor_blink: bool = True,
) -> KioskApp:
    """The kiosk app, or reception on its own (``mode="reception"``).

    The kiosk paints its home screen first and opens the database afterwards (unless ``facade``
    is already open), then starts the card reader (the configured one unless ``reader`` is
    given) and the configured printer (unless ``printer`` is given). Reception opens ``url``
    (default: the local database) before any screen, so a missing database is one sentence on
    the terminal (:class:`~kiosk.core.config.ConfigError`); it has no card reader and no
    printer of its own.
    """
    if simulate:
        settings = simulated(settings)
    if clock is None:
        clock = SettableClock(SystemClock().now(), running=True) if simulate else SystemClock()
    kiosk = mode == "kiosk"
    if not kiosk and facade is None:
        from kiosk.ui.facade import KioskFacade

        facade = KioskFacade.open(settings, clock, url=url)
    services = KioskServices(
        settings,
        clock,
        reader=reader,
        make_reader=reader_of(settings) if kiosk and reader is None else None,
        printer=printer,
        speaker=speaker,
        configured_printer=kiosk and printer is None,
        cards_dir=settings.data_dir / "cards" if cards_dir is None else cards_dir,
        monotonic=monotonic,
        opened=facade,
    )
    return KioskApp(
        services,
        mode=mode,
        simulate=simulate,
        console_safe=console_safe,
        cursor_blink=cursor_blink,
    )
