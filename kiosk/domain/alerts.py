"""The alerts reception sees: programme stopped, absences, device faults (stored), and the test
moments and consultations due today (derived from today's bookings).

A stored alert has a lifecycle: raised, seen, resolved. Each step is written with its outbox
event in the caller's transaction, so the centre knows what is still open.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.core.clock import local_day_bounds
from kiosk.db.models import (
    Alert,
    Booking,
    BookingStatus,
    Enrolment,
    EnrolmentStatus,
    Patient,
    SessionRow,
)
from kiosk.db.types import new_id
from kiosk.domain.events import AlertPayload, AlertResolvedPayload, AlertSeenPayload
from kiosk.domain.journal import emit
from kiosk.domain.progress import attended_of
from kiosk.domain.trajectory import milestone_of
from kiosk.programme.model import Phase, Programme, Texts


@dataclass(frozen=True)
class AlertView:
    """One open alert, with the patient's name when it is about a patient."""

    alert_id: str
    raised_at: dt.datetime
    kind: str
    message: str
    patient_name: str = ""


def open_alerts(db: Session, *, site_id: str | None, limit: int = 20) -> list[AlertView]:
    """Unresolved alerts, newest first (every site when ``site_id`` is None)."""
    query = (
        select(Alert, Patient)
        .outerjoin(Patient, Patient.id == Alert.patient_id)
        .where(Alert.resolved_at.is_(None))
        .order_by(Alert.raised_at.desc())
        .limit(limit)
    )
    if site_id is not None:
        query = query.where(Alert.site_id == site_id)
    return [
        AlertView(
            alert_id=alert.id,
            raised_at=alert.raised_at,
            kind=alert.kind,
            message=alert.message,
            patient_name=f"{patient.first_name} {patient.last_name}" if patient else "",
        )
        for alert, patient in db.execute(query).tuples()
    ]


class AlertKind(enum.StrEnum):
    """Every kind of alert the kiosk raises for reception, declared once (the screen labels each;
    ``tests/ui/test_reception_house.py`` checks that none lacks a label)."""

    PROGRAMME_STOPPED = "programme_stopped"
    ABSENCES_WARNING = "absences_warning"
    PRINTER_FAULT = "printer_fault"
    PROGRAMME_UNKNOWN = "programme_unknown"
    CHECK_BOOKING = "check_booking"
    """Booked and present, checked in, against a rule reception judges (weekly limit, timetable)."""
    DECISION_DUE = "decision_due"
    ONCE_IN_A_LIFETIME = "once_in_a_lifetime"


class AlertError(LookupError):
    """No open alert with that id here (the message says so in plain words)."""


def raise_alert(
    db: Session,
    *,
    now: dt.datetime,
    kind: AlertKind,
    site_id: str,
    message: str,
    patient_id: str | None = None,
    enrolment_id: str | None = None,
) -> Alert:
    """Store a new open alert and queue it for the centre (the caller commits)."""
    alert = Alert(
        id=new_id(),
        raised_at=now,
        kind=kind,
        site_id=site_id,
        patient_id=patient_id,
        enrolment_id=enrolment_id,
        message=message[:300],
        resolved_by="",
        resolution="",
    )
    db.add(alert)
    emit(
        db,
        AlertPayload(
            id=alert.id,
            raised_at=now,
            kind=kind,
            site_id=site_id,
            patient_id=patient_id,
            enrolment_id=enrolment_id,
            message=alert.message,
        ),
        now,
    )
    return alert


def _open_alert(db: Session, alert_id: str) -> Alert:
    alert = db.get(Alert, alert_id)
    if alert is None or alert.resolved_at is not None:
        raise AlertError(f"there is no open alert {alert_id}")
    return alert


def mark_seen(db: Session, alert_id: str, *, now: dt.datetime, actor: str) -> Alert:
    """Reception has read an open alert (the first reading counts; the caller commits)."""
    alert = _open_alert(db, alert_id)
    if alert.seen_at is None:
        alert.seen_at = now
        emit(db, AlertSeenPayload(id=alert.id, at=now, actor=actor), now)
    return alert


def resolve(
    db: Session, alert_id: str, *, now: dt.datetime, actor: str, resolution: str = ""
) -> Alert:
    """Close an open alert, saying who and how (the caller commits)."""
    alert = _open_alert(db, alert_id)
    alert.resolved_at = now
    alert.resolved_by = actor[:40]
    alert.resolution = resolution[:200]
    emit(
        db,
        AlertResolvedPayload(
            id=alert.id, at=now, actor=alert.resolved_by, resolution=alert.resolution
        ),
        now,
    )
    return alert


CONSULTATION_KIND = "consultation"
"""The session kind of a consultation with the physician (in every programme file)."""


@dataclass(frozen=True)
class DueToday:
    """A test moment or a consultation on a patient's agenda today."""

    starts_at: dt.datetime
    patient_name: str
    kind: Literal["milestone", "consultation"]
    title: Texts
    """The milestone's title, or the consultation's session kind."""
    followed_by: Texts | None = None
    """What follows a milestone (the interim or final consultation), if anything."""


def due_today(
    db: Session, *, site_id: str | None, day: dt.date, programmes: Mapping[str, Programme]
) -> list[DueToday]:
    """Today's test moments and consultations, by start time (every site when ``site_id`` is
    None).

    A booking is a test moment when its session will be a milestone session of its phase for
    that enrolment: the phase's sessions attended before it, plus one (session 1, 18, 36 of the
    group programme, counted among the kinds where tests happen). Consultations are the bookings
    of consultation sessions.
    """
    start, end = local_day_bounds(day)
    query = (
        select(Booking, SessionRow, Patient)
        .join(SessionRow, SessionRow.id == Booking.session_id)
        .join(Enrolment, Enrolment.id == Booking.enrolment_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(
            SessionRow.starts_at >= start,
            SessionRow.starts_at < end,
            Booking.status == BookingStatus.BOOKED,
            Enrolment.status == EnrolmentStatus.ACTIVE,
        )
        .order_by(SessionRow.starts_at, Patient.last_name, Patient.first_name)
    )
    if site_id is not None:
        query = query.where(SessionRow.site_id == site_id)
    rows = db.execute(query).tuples().all()
    # One query for the history of every enrolment booked on a session of a phase with milestones.
    attended = attended_of(
        db,
        {
            booking.enrolment_id
            for booking, session, _ in rows
            if (phase := _phase(programmes, session)) is not None and phase.milestones
        },
    )
    due: list[DueToday] = []
    for booking, session, patient in rows:
        programme = programmes.get(session.programme_code)
        if programme is None or session.kind not in programme.kinds:
            continue
        name = f"{patient.first_name} {patient.last_name}"
        if session.kind == CONSULTATION_KIND:
            title = programme.kind(session.kind).title
            due.append(DueToday(session.starts_at, name, "consultation", title))
            continue
        phase = _phase(programmes, session)
        if phase is None or not phase.milestones:
            continue
        milestone = milestone_of(
            phase, session.kind, attended[booking.enrolment_id], session.starts_at
        )
        if milestone is not None:
            due.append(
                DueToday(
                    session.starts_at, name, "milestone", milestone.title, milestone.followed_by
                )
            )
    return due


def _phase(programmes: Mapping[str, Programme], session: SessionRow) -> Phase | None:
    """The phase of the programme a session's kind belongs to, if any."""
    programme = programmes.get(session.programme_code)
    if programme is None:
        return None
    return next((p for p in programme.phases if session.kind in p.kinds), None)
