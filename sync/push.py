"""Pushing the kiosk's outbox to the centre in batches, marked sent only after the centre commits.

The local transactions are short (read a batch, later mark it); no SQLite lock is held while
waiting on the network, so check-ins never wait for the centre. When the process dies between the
centre's commit and the local mark, the batch goes again and the centre sees duplicates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine, Text, func, select, type_coerce, update
from sqlalchemy.orm import Session, sessionmaker

from kiosk.clock import Clock
from kiosk.db.models import OutboxEvent
from sync.apply import Applied, OutgoingEvent
from sync.connect import CALL_DEADLINE_S, Deadlines
from sync.id_sets import one_of
from sync.set_apply import apply_events

BATCH_SIZE = 2000


@dataclass
class PushReport:
    """What one push did."""

    sent: int = 0
    duplicates: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    batches: int = 0


def pending_batch(db: Session, size: int) -> list[OutgoingEvent]:
    """The oldest events not yet sent nor set aside."""
    # Plain columns through the Core connection, not ORM rows: a batch is read once and never
    # changed through the session. The payload comes as the stored text and goes on as it is:
    # the centre decodes it.
    rows = db.connection().execute(
        select(
            OutboxEvent.id,
            OutboxEvent.seq,
            OutboxEvent.kind,
            OutboxEvent.schema_version,
            OutboxEvent.created_at,
            type_coerce(OutboxEvent.payload, Text),
        )
        .where(OutboxEvent.sent_at.is_(None), OutboxEvent.set_aside.is_(False))
        .order_by(OutboxEvent.seq)
        .limit(size)
    )
    return [OutgoingEvent(*row) for row in rows]


def queue_length(db: Session) -> int:
    """Events waiting to go up."""
    count = db.scalar(
        select(func.count(OutboxEvent.id)).where(
            OutboxEvent.sent_at.is_(None), OutboxEvent.set_aside.is_(False)
        )
    )
    return int(count or 0)


def _record(db: Session, applied: Applied, now: dt.datetime) -> None:
    if applied.accepted:
        db.execute(
            update(OutboxEvent)
            .where(one_of(db.connection(), OutboxEvent.id, applied.accepted))
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
        applied = apply_events(
            central, batch, site_id=site_id, kiosk_id=kiosk_id, now=clock.now(), run=guarded
        )
        with local() as db, db.begin():
            _record(db, applied, clock.now())
        report.batches += 1
        report.sent += len(applied.new)
        report.duplicates += len(applied.duplicates)
        report.refused.update(applied.refused)
    return report
