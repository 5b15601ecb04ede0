"""What the domain's actions are built on: one database, the programmes, the settings, a clock."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from kiosk.core.clock import Clock
from kiosk.core.config import Settings
from kiosk.programme.model import Programme


class OnDatabase:
    """Actions on one database (each opens its own session), by the programmes and the site's
    settings, at the clock's time."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        programmes: Mapping[str, Programme],
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._programmes = programmes
        self._settings = settings
        self._clock = clock
