"""Pushing the kiosk's outbox to the centre in batches, marked sent only after the centre commits.

The local transactions are short (read a batch, later mark it); no SQLite lock is held while
waiting on the network, so check-ins never wait for the centre. When the process dies between the
centre's commit and the local mark, the batch goes again and the centre sees duplicates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Connection, Engine, and_, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from kiosk.core.clock import Clock
from kiosk.db.models import OutboxEvent
from sync.apply import Applied, OutgoingEvent
from sync.connect import CALL_DEADLINE_S, Deadlines
from sync.set_apply import apply_events

BATCH_SIZE = 2000
T = TypeVar("T")


class WrongIdentity(RuntimeError):
    """The centre knows this kiosk's database role under another site or kiosk id than the
    kiosk's configuration says: every event would be refused, so nothing is pushed."""


def role_identity(conn: Connection) -> tuple[str, str] | None:
    """(site id, kiosk id) that a PostgreSQL centre's role map gives the connected role; None
    on SQLite or for a role that is no kiosk's (the owner, in a demo or a test)."""
    if conn.dialect.name != "postgresql":
        return None
    if conn.scalar(text("SELECT to_regprocedure('kiosk_site()')")) is None:
        return None  # a database that is no centre (kiosk central init never ran on it)
    site_id, kiosk_id = conn.execute(text("SELECT kiosk_site(), kiosk_kiosk_id()")).one()
    return None if site_id is None else (str(site_id), str(kiosk_id))


def check_identity(conn: Connection, *, site_id: str, kiosk_id: str) -> None:
    """Raise :class:`WrongIdentity` when the role's site or kiosk id differs from the config."""
    known = role_identity(conn)
    if known is not None and known != (site_id, kiosk_id):
        raise WrongIdentity(
            f"kiosk.toml says site {site_id}, kiosk {kiosk_id}, but the centre knows this "
            f"kiosk's database role as site {known[0]}, kiosk {known[1]}: correct site_id and "
            "kiosk_id in kiosk.toml (or the role with kiosk central add-kiosk), then run "
            "kiosk sync retry"
        )


@dataclass
class PushReport:
    """What one push did."""

    sent: int = 0
    duplicates: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    batches: int = 0


# The batch is read through the driver, without SQLAlchemy's row processing: at tens of
# thousands of events a second that processing was most of the kiosk's share of a push. The
# kiosk's database is always SQLite, which keeps an instant as naive UTC text.
_PENDING = (
    "SELECT id, seq, kind, schema_version, created_at, payload FROM outbox "
    "WHERE sent_at IS NULL AND set_aside = 0 ORDER BY seq LIMIT ?"
)
_PENDING_ROWS = and_(OutboxEvent.sent_at.is_(None), OutboxEvent.set_aside.is_(False))


def pending_batch(db: Session, size: int) -> list[OutgoingEvent]:
    """The oldest events not yet sent nor set aside, with the payload as the stored JSON text."""
    driver = db.connection().connection.driver_connection
    assert driver is not None
    rows = driver.execute(_PENDING, (size,)).fetchall()
    return [
        OutgoingEvent(
            event_id, seq, kind, version, dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC), body
        )
        for event_id, seq, kind, version, at, body in rows
    ]


def requeue_set_aside(db: Session) -> int:
    """Put every event the centre refused back in the queue (after the cause was fixed, such as
    a wrong ``kiosk_id``); the next push sends them again. How many."""
    result = db.execute(
        update(OutboxEvent)
        .where(OutboxEvent.sent_at.is_(None), OutboxEvent.set_aside.is_(True))
        .values(set_aside=False, last_error="")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def queue_length(db: Session) -> int:
    """Events waiting to go up."""
    return int(db.scalar(select(func.count(OutboxEvent.id)).where(_PENDING_ROWS)) or 0)


def _record(db: Session, batch: list[OutgoingEvent], applied: Applied, now: dt.datetime) -> None:
    """Set the refused events aside, then mark the rest of the batch sent."""
    for event_id, reason in applied.refused.items():
        db.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == event_id)
            .values(set_aside=True, attempts=OutboxEvent.attempts + 1, last_error=reason)
            .execution_options(synchronize_session=False)
        )
    # A new event always gets a higher seq than every row already there
    # (kiosk.domain.journal.emit), so the pending rows from a batch's first seq to its last are
    # exactly that batch, refused ones aside: one statement marks it, whatever its size.
    db.execute(
        update(OutboxEvent)
        .where(OutboxEvent.seq.between(batch[0].seq, batch[-1].seq), _PENDING_ROWS)
        .values(sent_at=now, attempts=OutboxEvent.attempts + 1, last_error="")
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

    def guarded(call: Callable[[], T]) -> T:
        if deadlines is None:
            return call()
        with deadlines.call(deadline_s):
            return call()

    def identity() -> None:
        with central.connect() as conn:
            check_identity(conn, site_id=site_id, kiosk_id=kiosk_id)

    guarded(identity)
    while max_batches is None or report.batches < max_batches:
        with local() as db, db.begin():
            batch = pending_batch(db, batch_size)
        if not batch:
            break
        applied = apply_events(
            central, batch, site_id=site_id, kiosk_id=kiosk_id, now=clock.now(), run=guarded
        )
        with local() as db, db.begin():
            _record(db, batch, applied, clock.now())
        report.batches += 1
        report.sent += len(applied.new)
        report.duplicates += len(applied.duplicates)
        report.refused.update(applied.refused)
    return report
