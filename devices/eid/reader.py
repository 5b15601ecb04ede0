"""The card reader interface the application uses, and the events it emits.

A :class:`CardReader` runs its own thread once :meth:`CardReader.start` is called and reports
what happens as event values to every subscribed callback, from that thread:

* :class:`ReaderAttached` / :class:`ReaderDetached`: the reader appeared or went away (unplugged,
  pcscd stopped);
* :class:`CardInserted`: a card is in and reading has started (show progress now);
* then exactly one of :class:`IdentityRead` (with the :class:`~devices.eid.identity.Identity`) or
  :class:`CardReadFailed` (with a plain-words ``reason`` safe to show and log);
* :class:`CardRemoved`: the card left the reader.

Callbacks must return quickly (post a message to the UI, put the event in a queue); an exception
raised by one is logged and does not stop the reader. No exception leaves a reader: every fault
becomes an event, and the reader recovers by itself.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from devices.eid.identity import Identity

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReaderAttached:
    """A reader is available."""

    reader: str


@dataclass(frozen=True, slots=True)
class ReaderDetached:
    """A reader went away; ``reason`` says why in plain words."""

    reader: str
    reason: str = "the card reader was disconnected"


@dataclass(frozen=True, slots=True)
class CardInserted:
    """A card is in the reader; reading it has started."""

    reader: str


@dataclass(frozen=True, slots=True)
class IdentityRead:
    """The card was read and its signatures checked (``repr`` hides the personal data)."""

    reader: str
    identity: Identity
    apdu_count: int = 0


@dataclass(frozen=True, slots=True)
class CardReadFailed:
    """The card could not be read; ``reason`` is plain words, free of personal data."""

    reader: str
    reason: str


@dataclass(frozen=True, slots=True)
class CardRemoved:
    """The card left the reader."""

    reader: str


ReaderEvent = (
    ReaderAttached | ReaderDetached | CardInserted | IdentityRead | CardReadFailed | CardRemoved
)
Subscriber = Callable[[ReaderEvent], None]


class CardReader(ABC):
    """A source of card events running on its own thread (PC/SC or simulated)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every future event; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, event: ReaderEvent) -> None:
        """Hand ``event`` to every subscriber; a failing subscriber is logged and skipped."""
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:  # a UI bug must not kill the reader thread
                logger.exception("a card event subscriber failed on %s", type(event).__name__)

    @abstractmethod
    def start(self) -> None:
        """Start the reader's thread; events flow until :meth:`stop`."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the thread and wait for it (returns within about 2 seconds)."""

    @property
    @abstractmethod
    def name(self) -> str:
        """What this reader is called (the PC/SC reader name, or the simulator's)."""
