"""The team's decisions at the gates of a trajectory (after the pre-programme: go, or an
alternative plan), and the enrolment's own status changes the centre must hear of (finished).

A decision is recorded by staff with a reason; it is kept on the enrolment, in the audit trail
and sent to the centre as an ``enrolment_decided`` event (followed by ``enrolment_stopped`` for
an alternative plan; a finish is ``enrolment_finished``), in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from kiosk.core.clock import Clock
from kiosk.db.models import Enrolment, EnrolmentStatus
from kiosk.domain.events import (
    EnrolmentDecidedPayload,
    EnrolmentFinishedPayload,
    EnrolmentStoppedPayload,
)
from kiosk.domain.journal import audit, emit
from kiosk.programme.model import Programme

Decision = Literal["go", "alternative"]
ALTERNATIVE_STOP = "team decision: alternative plan"
"""How the reason of a stop by the team's decision begins."""


class GateError(ValueError):
    """A decision that cannot be recorded (the message says why in plain words)."""


def decisions_of(enrolment: Enrolment) -> dict[str, str]:
    """The enrolment's decisions, gate key to ``go`` or ``alternative``."""
    pairs = (word.partition(":") for word in enrolment.decisions.split(",") if word)
    return {gate: decision for gate, _, decision in pairs}


def passed_gates(enrolment: Enrolment) -> frozenset[str]:
    """The gates whose decision was go."""
    return frozenset(g for g, d in decisions_of(enrolment).items() if d == "go")


def decide(
    db: Session,
    enrolment: Enrolment,
    programme: Programme,
    *,
    gate: str,
    decision: Decision,
    reason: str,
    now: dt.datetime,
) -> None:
    """Record the team's ``decision`` at ``gate``: go lets the next phase begin; an alternative
    plan stops the programme (a stopped programme can be resumed on the physician's decision).
    The caller writes the audit entry and commits."""
    gates = [p.key for p in programme.phases if p.gate_after is not None]
    if gate not in gates:
        named = ", ".join(gates) or "none"
        raise GateError(f"the programme has no gate {gate!r} (its gates: {named})")
    if enrolment.status != EnrolmentStatus.ACTIVE:
        raise GateError(f"this programme is {enrolment.status}, not active")
    if not reason.strip():
        raise GateError("a team decision needs a reason")
    decisions = decisions_of(enrolment) | {gate: decision}
    enrolment.decisions = ",".join(f"{g}:{d}" for g, d in decisions.items())[:200]
    emit(db, EnrolmentDecidedPayload(id=enrolment.id, at=now, decisions=enrolment.decisions), now)
    if decision == "alternative":
        enrolment.status = EnrolmentStatus.STOPPED
        enrolment.stopped_at = now
        enrolment.stop_reason = f"{ALTERNATIVE_STOP}: {reason}"[:200]
        stopped = EnrolmentStoppedPayload(id=enrolment.id, at=now, reason=enrolment.stop_reason)
        emit(db, stopped, now)


def record_decision(
    sessions: sessionmaker[Session],
    programmes: Mapping[str, Programme],
    clock: Clock,
    *,
    kiosk_id: str,
    enrolment_id: str,
    gate: str,
    decision: Decision,
    reason: str,
    actor: str,
) -> None:
    """Staff record the team's decision at ``gate`` in one transaction, with who, when and why in
    the audit trail (:class:`GateError` when it cannot be)."""
    now = clock.now()
    with sessions() as db, db.begin():
        enrolment = db.get(Enrolment, enrolment_id)
        if enrolment is None:
            raise GateError("no such enrolment")
        programme = programmes[enrolment.programme_code]
        decide(db, enrolment, programme, gate=gate, decision=decision, reason=reason, now=now)
        audit(
            db,
            at=now,
            kiosk_id=kiosk_id,
            actor=actor,
            action="decide",
            outcome=decision,
            patient_id=enrolment.patient_id,
            detail={"enrolment_id": enrolment.id, "gate": gate, "reason": reason},
        )


def finish(db: Session, enrolment: Enrolment, now: dt.datetime) -> None:
    """The enrolment has had its last counted session: it is finished."""
    enrolment.status = EnrolmentStatus.FINISHED
    emit(db, EnrolmentFinishedPayload(id=enrolment.id, at=now), now)
