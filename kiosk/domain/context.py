"""Opening what a command or the app works on: settings, the local database, the programmes."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kiosk.core.clock import Clock, SystemClock
from kiosk.core.config import ConfigError, Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine, session_factory
from kiosk.db.files import sqlite_path
from kiosk.domain.attendance import Attendance
from kiosk.domain.checkin import CheckinEngine
from kiosk.programme import Programme, load_programmes


class DatabaseMissing(ConfigError):
    """The database a command needs does not exist yet."""


@dataclass
class KioskContext:
    """Everything the domain needs, opened once per process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    programmes: dict[str, Programme]
    clock: Clock = field(default_factory=SystemClock)

    def checkin_engine(self) -> CheckinEngine:
        """The check-in engine on this context's database."""
        return CheckinEngine(self.sessions, self.programmes, self.settings, self.clock)

    def attendance(self) -> Attendance:
        """Reception's actions on this context's database."""
        return Attendance(self.sessions, self.programmes, self.settings, self.clock)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def redacted_url(url: str) -> str:
    """A database URL fit to show or print: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def open_context(
    settings: Settings,
    *,
    url: str | None = None,
    clock: Clock | None = None,
    create: bool = False,
) -> KioskContext:
    """Open the local database (or ``url``), migrated to the newest schema.

    Without ``create``, a missing SQLite file is an error rather than an empty new database:
    a typo in a path must not look like a centre with no patients.
    """
    target = url or settings.local_url
    path = sqlite_path(target)
    if path is not None and not create and not path.exists():
        raise DatabaseMissing(f"no database at {path} (run `kiosk demo-data` to make a demo one)")
    programmes = load_programmes(settings.programmes_dir)
    engine = make_engine(target)
    migrate.upgrade(engine)
    return KioskContext(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        programmes=programmes,
        clock=clock or SystemClock(),
    )
