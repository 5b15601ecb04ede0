"""Reception's decisions on an enrolment: admitting a patient the kiosk refused, resuming a
stopped programme on the physician's word."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.db.models import Enrolment, EnrolmentStatus
from kiosk.domain.attendance.absences import resume_enrolment, withdraw_absence
from kiosk.domain.attendance.desk import AttendanceError, Desk
from kiosk.domain.gates import finish
from kiosk.domain.parking.issue import issue_ticket, ticket_short_code
from kiosk.domain.progress import history_of
from kiosk.domain.trajectory import finishes


@dataclass(frozen=True)
class Admitted:
    """A refused patient checked in by reception."""

    checkin_id: str
    late: bool
    short_code: str | None
    """The parking ticket's short code (None at a site without a car park)."""


class EnrolmentDecisions(Desk):
    """Overriding the kiosk's refusal, resuming a stopped programme."""

    def admit(self, booking_id: str, *, reason: str, actor: str = "reception") -> Admitted:
        """Reception overrides any refusal of the kiosk (too late, programme stopped or finished,
        past the deadline, the team's decision pending...): the patient is checked in for the
        booking now, the reason kept with the check-in and in the audit trail, and the parking
        ticket issued; a programme whose last counted session this was is finished."""
        if not reason.strip():
            raise AttendanceError("admitting a refused patient needs a reason")
        with self._on_booking(booking_id) as (db, booking, now):
            self._still_open(booking)
            programme = self._programmes[booking.enrolment.programme_code]
            withdraw_absence(db, booking, programme, now, why="admitted by reception", actor=actor)
            checkin = self._record_checkin(db, booking, at=now, note=f"admitted: {reason}", now=now)
            enrolment = booking.enrolment
            if enrolment.status == EnrolmentStatus.ACTIVE and finishes(
                programme, history_of(db, enrolment.id, with_booked=False).attended
            ):
                finish(db, enrolment, now)
            code = None
            if self._settings.parking.keys:
                ticket = issue_ticket(
                    db,
                    settings=self._settings,
                    booking_id=booking.id,
                    session_end=booking.session.ends_at,
                    now=now,
                )
                code = ticket_short_code(ticket, self._settings.parking.keys)
            self._audit(
                db, now, actor, "admit", "admitted", booking=booking, detail={"reason": reason}
            )
            return Admitted(checkin.id, checkin.late, code)

    def resume(self, enrolment_id: str, *, reason: str, actor: str = "reception") -> None:
        """Resume a stopped programme on the physician's decision (``reason`` says which)."""
        if not reason.strip():
            raise AttendanceError("resuming a programme needs the physician's decision")
        now = self._clock.now()
        with self._sessions() as db, db.begin():
            enrolment = db.get(Enrolment, enrolment_id)
            if enrolment is None:
                raise AttendanceError("no such enrolment")
            if enrolment.status != EnrolmentStatus.STOPPED:
                raise AttendanceError("this programme is not stopped")
            resume_enrolment(db, enrolment, now, why=reason, actor=actor)
            self._audit(
                db,
                now,
                actor,
                "resume",
                "resumed",
                patient_id=enrolment.patient_id,
                detail={"enrolment_id": enrolment.id, "reason": reason},
            )
