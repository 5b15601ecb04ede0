"""Pushing the kiosk's outbox to the centre in batches, marked sent only after the centre commits.

The local transactions are short (read a batch, later mark it); no SQLite lock is held while
waiting on the network, so check-ins never wait for the centre. When the process dies between the
centre's commit and the local mark, the batch goes again and the centre sees duplicates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from kiosk.clock import Clock
from kiosk.db.models import OutboxEvent
from sync.apply import Applied, OutgoingEvent, apply_batch
from sync.connect import CALL_DEADLINE_S, Deadlines

BATCH_SIZE = 500


@dataclass
class PushReport:
    """What one push did."""

    sent: int = 0
    duplicates: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    batches: int = 0


def pending_batch(db: Session, size: int) -> list[OutgoingEvent]:
    """The oldest events not yet sent nor set aside."""
    rows = db.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.sent_at.is_(None), OutboxEvent.set_aside.is_(False))
        .order_by(OutboxEvent.seq)
        .limit(size)
    )
    return [
        OutgoingEvent(
            id=row.id,
            seq=row.seq,
            kind=row.kind,
            schema_version=row.schema_version,
            created_at=row.created_at,
            payload=row.payload,
        )
        for row in rows
    ]


def queue_length(db: Session) -> int:
    """Events waiting to go up."""
    count = db.scalar(
        select(func.count(OutboxEvent.id)).where(
            OutboxEvent.sent_at.is_(None), OutboxEvent.set_aside.is_(False)
        )
    )
    return int(count or 0)


def _record(db: Session, applied: Applied, now: dt.datetime) -> None:
    accepted = applied.accepted
    for start in range(0, len(accepted), 1000):
        db.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(accepted[start : start + 1000]))
            .values(sent_at=now, attempts=OutboxEvent.attempts + 1, last_error="")
            .execution_options(synchronize_session=False)
        )
    for event_id, reason in applied.refused.items():
        db.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == event_id)
            .values(set_aside=True, attempts=OutboxEvent.attempts + 1, last_error=reason)
            .execution_options(synchronize_session=False)
        )


def push(
    local: sessionmaker[Session],
    central: Engine,
    deadlines: Deadlines | None,
    *,
    site_id: str,
    kiosk_id: str,
    clock: Clock,
    batch_size: int = BATCH_SIZE,
    deadline_s: float = CALL_DEADLINE_S,
    max_batches: int | None = None,
) -> PushReport:
    """Send every pending event (or ``max_batches`` batches); raises on a network failure."""
    report = PushReport()

    def guarded(call: object) -> Applied:
        assert callable(call)
        if deadlines is None:
            result: Applied = call()
            return result
        with deadlines.call(deadline_s):
            result = call()
        return result

    while max_batches is None or report.batches < max_batches:
        with local() as db, db.begin():
            batch = pending_batch(db, batch_size)
        if not batch:
            break
        applied = apply_batch(
            central, batch, site_id=site_id, kiosk_id=kiosk_id, now=clock.now(), run=guarded
        )
        with local() as db, db.begin():
            _record(db, applied, clock.now())
        report.batches += 1
        report.sent += len(applied.new)
        report.duplicates += len(applied.duplicates)
        report.refused.update(applied.refused)
    return report
