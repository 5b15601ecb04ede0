"""The audit trail and the outbox, written inside the caller's transaction.

Every change the kiosk makes is also an outbox event, committed in the same transaction, so that
``sync/`` can push it later and nothing is lost when the network is down. Neither carries the
national register number or a name: ids only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.db.models import AuditEntry, CheckIn, OutboxEvent
from kiosk.db.types import new_id
from kiosk.domain.events import BY_PAYLOAD, AuditPayload, CheckinPayload, Payload

SCHEMA_VERSION = 1
_LAST_SEQ = "kiosk.outbox.last_seq"
_LAST_OUTBOX_SEQ = select(func.max(OutboxEvent.seq))


def emit(db: Session, payload: Payload, at: dt.datetime) -> OutboxEvent:
    """Queue an event for the central database (the caller commits); its kind is the one
    :mod:`kiosk.domain.events` declares for the payload's type."""
    # BEGIN IMMEDIATE (see kiosk.db.engine) makes max+1 safe between processes; the last number
    # is remembered for the rest of the transaction (sessions here live for one transaction).
    last = db.info.get(_LAST_SEQ)
    if last is None:
        last = db.scalar(_LAST_OUTBOX_SEQ) or 0
    db.info[_LAST_SEQ] = last + 1
    event = OutboxEvent(
        id=new_id(),
        seq=last + 1,
        created_at=at,
        kind=BY_PAYLOAD[type(payload)].name,
        schema_version=SCHEMA_VERSION,
        payload=payload.wire(),
        attempts=0,
        last_error="",
        set_aside=False,
    )
    db.add(event)
    return event


def audit(
    db: Session,
    *,
    at: dt.datetime,
    kiosk_id: str,
    actor: str,
    action: str,
    outcome: str = "",
    patient_id: str | None = None,
    booking_id: str | None = None,
    detail: Mapping[str, object] | None = None,
) -> AuditEntry:
    """Record who did what (and queue it for the centre)."""
    entry = AuditEntry(
        id=new_id(),
        at=at,
        kiosk_id=kiosk_id,
        actor=actor,
        action=action,
        outcome=outcome,
        patient_id=patient_id,
        booking_id=booking_id,
        detail=dict(detail or {}),
    )
    db.add(entry)
    emit(
        db,
        AuditPayload(
            id=entry.id,
            at=at,
            kiosk_id=kiosk_id,
            actor=actor,
            action=action,
            outcome=outcome,
            patient_id=patient_id,
            booking_id=booking_id,
            detail=entry.detail,
        ),
        at,
    )
    return entry


def checkin_payload(checkin: CheckIn, site_id: str) -> CheckinPayload:
    """The ``checkin`` event's payload (a kiosk's check-in or reception's correction)."""
    return CheckinPayload(
        id=checkin.id,
        booking_id=checkin.booking_id,
        patient_id=checkin.patient_id,
        site_id=site_id,
        kiosk_id=checkin.kiosk_id,
        checked_in_at=checkin.checked_in_at,
        late=checkin.late,
        identity_method=checkin.identity_method,
        card_number=checkin.card_number,
        document_type=checkin.document_type,
        identity_note=checkin.identity_note,
    )
