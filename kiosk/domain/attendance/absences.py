"""Absences and the stops they cause: an enrolment stopped at its programme's limit of unexcused
absences (warned one before), and resumed once one of them is excused or withdrawn."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db.models import Absence, Alert, Booking, Enrolment, EnrolmentStatus
from kiosk.domain.alerts import AlertKind, raise_alert
from kiosk.domain.alerts import resolve as resolve_alert
from kiosk.domain.events import (
    AbsencePayload,
    AbsenceWithdrawnPayload,
    EnrolmentResumedPayload,
    EnrolmentStoppedPayload,
)
from kiosk.domain.journal import emit
from kiosk.domain.progress import unexcused_absences
from kiosk.programme.model import Programme

ABSENCE_STOP = "unexcused absences"
"""How the reason of a stop caused by absences ends (``3 unexcused absences``): such a stop is
lifted when one of those absences is excused or turns out to be a visit after all."""


def absence_payload(absence: Absence, booking: Booking) -> AbsencePayload:
    """The ``absence`` event's payload: the absence as it stands now (recorded, excused or
    counting again)."""
    return AbsencePayload(
        id=absence.id,
        booking_id=booking.id,
        enrolment_id=absence.enrolment_id,
        recorded_at=absence.recorded_at,
        excused=absence.excused,
        reason=absence.reason,
    )


def after_absence(
    db: Session, enrolment: Enrolment, programmes: Mapping[str, Programme], now: dt.datetime
) -> bool:
    """Stop the enrolment at its programme's limit, warn one absence before it. True when
    stopped."""
    if enrolment.status != EnrolmentStatus.ACTIVE:
        return False
    limit = programmes[enrolment.programme_code].unexcused_absence_limit
    if limit is None:
        return False  # absences never stop this programme
    count = unexcused_absences(db, enrolment.id)
    if count >= limit:
        enrolment.status = EnrolmentStatus.STOPPED
        enrolment.stopped_at = now
        enrolment.stop_reason = f"{count} {ABSENCE_STOP}"
        emit(
            db,
            EnrolmentStoppedPayload(id=enrolment.id, at=now, reason=enrolment.stop_reason),
            now,
        )
        kind = AlertKind.PROGRAMME_STOPPED
        message = (
            f"Programme stopped after {count} unexcused absences: "
            "the physician decides what follows."
        )
    elif count == limit - 1:
        kind = AlertKind.ABSENCES_WARNING
        message = f"{count} unexcused absences: one more stops the programme."
    else:
        return False
    raise_alert(
        db,
        now=now,
        kind=kind,
        site_id=enrolment.site_id,
        patient_id=enrolment.patient_id,
        enrolment_id=enrolment.id,
        message=message,
    )
    return kind == AlertKind.PROGRAMME_STOPPED


def stop_lifted_without(
    db: Session, enrolment: Enrolment, programme: Programme, absence: Absence
) -> bool:
    """Whether taking ``absence`` away (the patient came after all) would lift the enrolment's
    stop: it was stopped by its absences and would be below the limit again."""
    return (
        _stopped_by_absences(enrolment)
        and not absence.excused
        and (
            programme.unexcused_absence_limit is None
            or unexcused_absences(db, enrolment.id) - 1 < programme.unexcused_absence_limit
        )
    )


def withdraw_absence(
    db: Session, booking: Booking, programme: Programme, now: dt.datetime, *, why: str, actor: str
) -> bool:
    """The patient came after all: the booking's absence goes (an ``absence_withdrawn`` event),
    and a stop it caused is lifted. True when a stop was lifted."""
    absence = booking.absence
    if absence is None:
        return False
    emit(db, AbsenceWithdrawnPayload(id=absence.id, booking_id=booking.id, at=now), now)
    db.delete(absence)
    db.flush()
    db.expire(booking, ["absence"])
    return lift_absence_stop(db, booking.enrolment, programme, now, why=why, actor=actor)


def lift_absence_stop(
    db: Session,
    enrolment: Enrolment,
    programme: Programme,
    now: dt.datetime,
    *,
    why: str,
    actor: str,
) -> bool:
    """Resume an enrolment stopped by its absences once they are below the limit again (one was
    excused or withdrawn): an ``enrolment_resumed`` event. True when it was resumed."""
    if not _stopped_by_absences(enrolment):
        return False
    db.flush()
    limit = programme.unexcused_absence_limit
    if limit is not None and unexcused_absences(db, enrolment.id) >= limit:
        return False
    resume_enrolment(db, enrolment, now, why=why, actor=actor)
    return True


def resume_enrolment(
    db: Session, enrolment: Enrolment, now: dt.datetime, *, why: str, actor: str
) -> None:
    """A stopped enrolment is active again (an ``enrolment_resumed`` event saying why); the
    alert that announced the stop is resolved."""
    enrolment.status = EnrolmentStatus.ACTIVE
    enrolment.stopped_at = None
    enrolment.stop_reason = ""
    emit(db, EnrolmentResumedPayload(id=enrolment.id, at=now, reason=why), now)
    stop_alerts = db.scalars(
        select(Alert.id).where(
            Alert.enrolment_id == enrolment.id,
            Alert.kind == AlertKind.PROGRAMME_STOPPED,
            Alert.resolved_at.is_(None),
        )
    ).all()
    for alert_id in stop_alerts:
        resolve_alert(db, alert_id, now=now, actor=actor, resolution=f"resumed: {why}")


def _stopped_by_absences(enrolment: Enrolment) -> bool:
    return enrolment.status == EnrolmentStatus.STOPPED and enrolment.stop_reason.endswith(
        ABSENCE_STOP
    )
