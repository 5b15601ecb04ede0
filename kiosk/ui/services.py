"""What the app works with: settings, clock, devices, the state the technician sees, and the
facade to the data once the database is open.

The database is opened after the home screen is painted (:meth:`KioskServices.load`, in a thread
worker): the ORM, Alembic and the migrations check are the slow part of a cold start, and the
patient cannot tap a card before the reader starts, which waits for the database anyway.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from devices.eid.reader import (
    CardInserted,
    CardReader,
    CardReadFailed,
    IdentityRead,
    ReaderAttached,
    ReaderDetached,
    ReaderEvent,
)
from devices.printer.interface import TicketPrinter
from devices.printer.simulated_faults import FaultyPrinter
from devices.speech.interface import Speaker
from kiosk.core.clock import Clock, SettableClock
from kiosk.core.config import Settings
from kiosk.core.reception_pin import PinGate
from kiosk.core.watchdog import Notifier

if TYPE_CHECKING:
    from devices.eid.simulated import SimulatedReader
    from kiosk.ui.facade import KioskFacade

RECENT_ERRORS = 8
LOAD_WAIT_SECONDS = 60.0
"""How long a worker waits for the database to open before it reports it unavailable."""


class DataUnavailable(RuntimeError):
    """The database could not be opened (the reason was logged)."""


@dataclass
class DeviceState:
    """What the technician screen shows about the reader and the last card."""

    reader_name: str = ""
    reader_attached: bool | None = None
    reader_reason: str = ""
    last_card_at: dt.datetime | None = None
    recent_errors: collections.deque[tuple[dt.datetime, str]] = field(
        default_factory=lambda: collections.deque(maxlen=RECENT_ERRORS)
    )

    def note(self, event: ReaderEvent, at: dt.datetime) -> None:
        """Keep what a reader event says about the reader and the last card."""
        if isinstance(event, ReaderAttached):
            self.reader_name, self.reader_attached, self.reader_reason = event.reader, True, ""
        elif isinstance(event, ReaderDetached):
            self.reader_attached, self.reader_reason = False, event.reason
        elif isinstance(event, IdentityRead | CardReadFailed | CardInserted):
            self.last_card_at = at


class RecentErrors(logging.Handler):
    """Keeps the last warnings and errors for the technician screen (messages are data-free)."""

    def __init__(self, state: DeviceState, clock: Clock) -> None:
        super().__init__(logging.WARNING)
        self._state = state
        self._clock = clock

    def emit(self, record: logging.LogRecord) -> None:
        """Remember the record's message (without its traceback)."""
        self._state.recent_errors.append((self._clock.now(), record.getMessage()[:200]))


@dataclass
class KioskServices:
    """Settings, clock and devices of this kiosk (any device may be absent), and the facade."""

    settings: Settings
    clock: Clock
    """The domain clock (settable in simulation)."""
    reader: CardReader | None = None
    make_reader: Callable[[], CardReader] | None = None
    """Builds the reader in :meth:`load` (``kiosk run``): the card code and its cryptography
    load after the first paint."""
    printer: TicketPrinter | None = None
    speaker: Speaker | None = None
    """The voice of the patient screen; made from ``[ui] speech`` unless given (tests)."""
    configured_printer: bool = False
    """Make the printer of the settings when the database opens (``kiosk run``)."""
    cards_dir: Path | None = None
    """Virtual cards of the demo (simulation panel's picker)."""
    monotonic: Callable[[], float] = time.monotonic
    """The idle timeouts' clock; tests replace it to step time exactly."""
    devices: DeviceState = field(default_factory=DeviceState)
    notifier: Notifier = field(default_factory=Notifier)
    """systemd's sd_notify (a no-op outside a ``Type=notify`` unit)."""
    opened: KioskFacade | None = None
    """A facade opened before the app (``kiosk reception``, tests); otherwise :meth:`load`
    opens one."""
    pin_gate: PinGate = field(init=False)
    _facade: KioskFacade | None = field(init=False, default=None)
    _loaded: threading.Event = field(init=False, default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.pin_gate = PinGate(
            self.settings.reception_pin_hash,
            self.clock,
            self.settings.data_dir / "reception-pin.json",
        )
        if self.speaker is None and self.settings.speech == "espeak-ng":
            from devices.speech.espeak import EspeakSpeaker

            self.speaker = EspeakSpeaker()

    @property
    def speech_on(self) -> bool:
        """Whether the patient screen speaks (``[ui] speech`` is not off, and a voice exists)."""
        return self.settings.speech != "off" and self.speaker is not None

    def load(self) -> KioskFacade:
        """Open the database (migrations included) and the configured printer.

        Slow: call it in a thread worker. A failure is raised as it is; call again to retry.
        """
        # The deferred imports of the app: the ORM, Alembic and the models load here, after the
        # first paint, instead of before it (the printer module brings qrcode and Pillow).
        from kiosk.domain.parking.printing import printer_from_settings
        from kiosk.ui.facade import KioskFacade

        try:
            if self.configured_printer:
                self.printer = printer_from_settings(self.settings)
            facade = self.opened or KioskFacade.open(self.settings, self.clock)
        except BaseException:
            self._loaded.set()  # workers waiting for the database give up instead of hanging
            raise
        if self.reader is None and self.make_reader is not None:
            self.reader = self.make_reader()
        self._facade = facade
        self._loaded.set()
        return facade

    @property
    def ready(self) -> bool:
        """Whether the database is open."""
        return self._facade is not None

    @property
    def facade(self) -> KioskFacade:
        """The screens' way to the data; waits until the database is open (use it in thread
        workers)."""
        self._loaded.wait(LOAD_WAIT_SECONDS)
        if self._facade is None:
            raise DataUnavailable("the database is not open")
        return self._facade

    def close(self) -> None:
        """Release the database when it was opened (the program is ending)."""
        facade = self._facade or self.opened
        if facade is not None:
            facade.close()

    @property
    def simulated_reader(self) -> SimulatedReader | None:
        """The reader when it is the simulated one."""
        if self.reader is None:
            return None
        from devices.eid.simulated import SimulatedReader  # loaded with the reader (see load)

        return self.reader if isinstance(self.reader, SimulatedReader) else None

    @property
    def settable_clock(self) -> SettableClock | None:
        """The clock when it can be set (simulation, tests)."""
        return self.clock if isinstance(self.clock, SettableClock) else None

    @property
    def faulty_printer(self) -> FaultyPrinter | None:
        """The printer when its faults can be simulated."""
        return self.printer if isinstance(self.printer, FaultyPrinter) else None
