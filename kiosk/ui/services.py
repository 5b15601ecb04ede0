"""What the app works with: the domain context, the devices, and the state the technician sees."""

from __future__ import annotations

import collections
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devices.eid.reader import CardReader
from devices.eid.simulated import SimulatedReader
from devices.printer.interface import TicketPrinter
from devices.printer.simulated_faults import FaultyPrinter
from kiosk.clock import Clock, SettableClock
from kiosk.config import Settings
from kiosk.context import KioskContext
from kiosk.reception_pin import PinGate
from kiosk.watchdog import Notifier

RECENT_ERRORS = 8


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
    """The domain context plus the devices of this kiosk (any of them may be absent)."""

    context: KioskContext
    reader: CardReader | None = None
    printer: TicketPrinter | None = None
    cards_dir: Path | None = None
    """Virtual cards of the demo (simulation panel's picker)."""
    monotonic: Callable[[], float] = time.monotonic
    """The idle timeouts' clock; tests replace it to step time exactly."""
    devices: DeviceState = field(default_factory=DeviceState)
    notifier: Notifier = field(default_factory=Notifier)
    """systemd's sd_notify (a no-op outside a ``Type=notify`` unit)."""
    pin_gate: PinGate = field(init=False)

    def __post_init__(self) -> None:
        self.pin_gate = PinGate(self.settings.reception_pin_hash, self.clock)

    @property
    def settings(self) -> Settings:
        """The kiosk's settings."""
        return self.context.settings

    @property
    def clock(self) -> Clock:
        """The domain clock (settable in simulation)."""
        return self.context.clock

    @property
    def simulated_reader(self) -> SimulatedReader | None:
        """The reader when it is the simulated one."""
        return self.reader if isinstance(self.reader, SimulatedReader) else None

    @property
    def settable_clock(self) -> SettableClock | None:
        """The clock when it can be set (simulation, tests)."""
        return self.clock if isinstance(self.clock, SettableClock) else None

    @property
    def faulty_printer(self) -> FaultyPrinter | None:
        """The printer when its faults can be simulated."""
        return self.printer if isinstance(self.printer, FaultyPrinter) else None
