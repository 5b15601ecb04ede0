"""Whether the kiosk's database answers, for the technician screen (the outbox and the sync
state come from :func:`sync.status.sync_status`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.db.models import OutboxEvent


@dataclass(frozen=True)
class DatabaseHealth:
    """Whether the database answers."""

    reachable: bool
    error: str = ""
    """The kind of failure (an exception class name), never a message that could hold data."""


def database_health(sessions: sessionmaker[Session]) -> DatabaseHealth:
    """Ask the database one cheap question of the outbox table (a database without the schema
    does not answer it); any database failure is reported, not raised."""
    try:
        with sessions() as db:
            db.execute(select(OutboxEvent.id).limit(1)).all()
    except SQLAlchemyError as exc:
        return DatabaseHealth(False, error=type(exc).__name__)
    return DatabaseHealth(True)
