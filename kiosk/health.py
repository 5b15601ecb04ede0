"""The database and sync state the technician screen shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.db.models import OutboxEvent


@dataclass(frozen=True)
class DatabaseHealth:
    """Whether the database answers, and how far the outbox is behind."""

    reachable: bool
    pending_events: int = 0
    last_sent_at: dt.datetime | None = None
    error: str = ""
    """The kind of failure (an exception class name), never a message that could hold data."""


def database_health(sessions: sessionmaker[Session]) -> DatabaseHealth:
    """Ask the database for the outbox state; any database failure is reported, not raised."""
    try:
        with sessions() as db:
            pending = db.scalar(
                select(func.count(OutboxEvent.id)).where(OutboxEvent.sent_at.is_(None))
            )
            last = db.scalar(select(func.max(OutboxEvent.sent_at)))
    except SQLAlchemyError as exc:
        return DatabaseHealth(False, error=type(exc).__name__)
    return DatabaseHealth(True, pending_events=pending or 0, last_sent_at=last)
