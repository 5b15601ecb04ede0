"""Messages that reach the app from other threads or travel between screens."""

from __future__ import annotations

from textual.message import Message

from devices.eid.reader import ReaderEvent


class CardEvent(Message):
    """An event from the card reader's thread (posted with the thread-safe ``post_message``)."""

    def __init__(self, event: ReaderEvent) -> None:
        super().__init__()
        self.event = event


class AttendanceChanged(Message):
    """Today's attendance changed in this process (a check-in, a reception action)."""


class ReloadDay(Message, bubble=False):
    """Sent by the app to every open screen after :class:`AttendanceChanged` (reception reloads)."""


class DataReady(Message):
    """The database opened in the app's loading worker: the facade answers now."""


class DataFailed(Message):
    """The database could not be opened (the reason was logged); it is tried again later."""


class ConfigurationFailed(Message):
    """Opening the database found a configuration error: the program must stop."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
