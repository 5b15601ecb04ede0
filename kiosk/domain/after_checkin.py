"""What a check-in sets going besides itself: the alerts for reception on what it judges better
than the kiosk (the weekly limit, a session outside the timetable, a second enrolment in a
once-in-a-lifetime programme, a team decision now due), and the end of a programme whose last
counted session this was. In the check-in's transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db.models import Alert, Booking, Enrolment, EnrolmentStatus
from kiosk.domain import gates, trajectory
from kiosk.domain.alerts import raise_alert
from kiosk.domain.progress import History
from kiosk.programme.model import Programme


def follow_through(
    db: Session,
    booking: Booking,
    programme: Programme,
    history: History,
    now: dt.datetime,
) -> None:
    """Raise the check-in's alerts and finish the enrolment when its programme is complete;
    ``history`` already holds this check-in."""
    enrolment, session = booking.enrolment, booking.session

    def alert(kind: str, message: str) -> None:
        raise_alert(
            db,
            now=now,
            kind=kind,
            site_id=session.site_id,
            patient_id=enrolment.patient_id,
            enrolment_id=enrolment.id,
            message=message,
        )

    for message in trajectory.for_reception(
        programme, session.kind, session.starts_at, history.attended, booking.id
    ):
        alert("check_booking", message)
    phase = programme.phase_of(session.kind)
    if (
        phase.gate_after is not None
        and phase.sessions is not None
        and history.attended_count(phase) == phase.sessions
        and phase.key not in gates.passed_gates(enrolment)
    ):
        alert(
            "decision_due",
            f"{phase.key} complete: the team's decision is due "
            f"(kiosk enrolment decide {enrolment.id} --gate {phase.key} --go | --alternative).",
        )
    if programme.once_in_a_lifetime:
        earlier = earlier_enrolments(enrolment)
        if earlier and not _alerted(db, enrolment, "once_in_a_lifetime"):
            alert(
                "once_in_a_lifetime",
                f"This programme is followed once in a lifetime; the patient has "
                f"{len(earlier)} earlier enrolment(s) in it: please check with the physician.",
            )
    if enrolment.status == EnrolmentStatus.ACTIVE and trajectory.finishes(
        programme, history.attended
    ):
        gates.finish(db, enrolment, now)


def earlier_enrolments(enrolment: Enrolment) -> list[Enrolment]:
    """The patient's other enrolments in the same programme that began before this one or have
    ended (finished or stopped)."""
    return [
        e
        for e in enrolment.patient.enrolments
        if e.id != enrolment.id
        and e.programme_code == enrolment.programme_code
        and (e.started_on < enrolment.started_on or e.status != EnrolmentStatus.ACTIVE)
    ]


def _alerted(db: Session, enrolment: Enrolment, kind: str) -> bool:
    """Whether an alert of ``kind`` was ever raised for the enrolment (raised once)."""
    return (
        db.scalar(
            select(Alert.id).where(Alert.enrolment_id == enrolment.id, Alert.kind == kind).limit(1)
        )
        is not None
    )
