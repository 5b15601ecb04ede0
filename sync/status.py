"""Health of the exchange as a technician sees it: queue, last success and error, replica age."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kiosk.db.models import OutboxEvent, SyncState
from sync.pull import STATE_NAME
from sync.push import queue_length


@dataclass(frozen=True)
class SyncStatus:
    """What ``kiosk sync status`` shows."""

    queue: int
    set_aside: int
    checkpoint: int
    last_success_at: dt.datetime | None
    last_error_at: dt.datetime | None
    last_error: str
    replica_age_seconds: int | None
    failures: int

    def as_json(self) -> dict[str, object]:
        """The stable JSON form."""
        return {
            "queue": self.queue,
            "set_aside": self.set_aside,
            "checkpoint": self.checkpoint,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
            "last_error": self.last_error,
            "replica_age_seconds": self.replica_age_seconds,
            "failures": self.failures,
        }


def sync_status(db: Session, now: dt.datetime) -> SyncStatus:
    """Read the status from the kiosk's database."""
    state = db.get(SyncState, STATE_NAME)
    aside = db.scalar(select(func.count(OutboxEvent.id)).where(OutboxEvent.set_aside.is_(True)))
    age = (
        int((now - state.last_pull_at).total_seconds())
        if state is not None and state.last_pull_at is not None
        else None
    )
    return SyncStatus(
        queue=queue_length(db),
        set_aside=int(aside or 0),
        checkpoint=state.checkpoint if state else 0,
        last_success_at=state.last_success_at if state else None,
        last_error_at=state.last_error_at if state else None,
        last_error=state.last_error if state else "",
        replica_age_seconds=age,
        failures=state.failures if state else 0,
    )


def describe_error(exc: BaseException) -> str:
    """One line about a failure, without bound values or server detail (no personal data)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        # PostgreSQL puts offending key values in DETAIL lines; only the first line is kept.
        return f"{exc.orig.__class__.__name__}: {first}"[:300]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {text}"[:300]
