"""Corrections of a booking: a cancellation (with its fee when the notice was short), an excused
absence, an absence that was a visit after all, and taking back a check-in, a cancellation or an
excuse recorded by mistake."""

from __future__ import annotations

import datetime as dt

from kiosk.db.models import Absence, BookingStatus, Cancellation, CheckIn
from kiosk.db.types import new_id
from kiosk.domain.attendance.absences import (
    absence_payload,
    after_absence,
    lift_absence_stop,
    withdraw_absence,
)
from kiosk.domain.attendance.desk import AttendanceError, Desk
from kiosk.domain.events import CancellationPayload, CancellationUndonePayload, CheckinUndonePayload
from kiosk.domain.journal import emit


class BookingCorrections(Desk):
    """Cancelling, excusing, correcting and undoing what was recorded on a booking."""

    def cancel(
        self,
        booking_id: str,
        *,
        reason: str = "",
        actor: str = "reception",
        called_at: dt.datetime | None = None,
    ) -> Cancellation:
        """Record a cancellation; notice shorter than the programme's rule carries the fee. The
        notice counts from ``called_at``, the moment the patient called (default: now), not from
        when reception records it."""
        now = self._clock.now()
        called = now if called_at is None else called_at
        if called > now:
            raise AttendanceError("the call cannot be in the future")
        with self._sessions() as db, db.begin():
            booking = self._booking(db, booking_id)
            self._still_open(booking)
            programme = self._programmes[booking.enrolment.programme_code]
            notice = booking.session.starts_at - called
            notice_minutes = max(int(notice.total_seconds() // 60), 0)
            late = notice < dt.timedelta(hours=programme.cancellation_notice_hours)
            cancellation = Cancellation(
                id=new_id(),
                booking_id=booking.id,
                cancelled_at=called,
                notice_minutes=notice_minutes,
                fee_cents=programme.late_cancellation_fee_cents if late else 0,
                reason=reason,
            )
            booking.status = BookingStatus.CANCELLED
            if booking.absence is not None:
                # Cancelled after the day was closed: the call came, it is not an absence.
                db.delete(booking.absence)
            db.add(cancellation)
            db.flush()
            emit(
                db,
                CancellationPayload(
                    id=cancellation.id,
                    booking_id=booking.id,
                    cancelled_at=called,
                    notice_minutes=notice_minutes,
                    fee_cents=cancellation.fee_cents,
                    reason=reason,
                ),
                now,
            )
            self._audit(
                db,
                now,
                actor,
                "cancel",
                "late" if late else "in_time",
                booking=booking,
                detail={
                    "fee_cents": cancellation.fee_cents,
                    "called_at": called.isoformat(),
                    "reason": reason,
                },
            )
            return cancellation

    def excuse(self, booking_id: str, *, reason: str, actor: str = "reception") -> Absence:
        """Mark an absence excused (a valid reason); it no longer counts towards the limit, and a
        stop it caused is lifted."""
        if not reason.strip():
            raise AttendanceError("an excused absence needs a reason")
        with self._on_booking(booking_id) as (db, booking, now):
            absence = booking.absence
            if absence is None:
                raise AttendanceError("there is no absence recorded for this booking")
            absence.excused = True
            absence.reason = reason
            emit(db, absence_payload(absence, booking), now)
            programme = self._programmes[booking.enrolment.programme_code]
            lifted = lift_absence_stop(
                db, booking.enrolment, programme, now, why="absence excused", actor=actor
            )
            outcome = "excused_stop_lifted" if lifted else "excused"
            self._audit(db, now, actor, "excuse", outcome, booking=booking)
            return absence

    def undo_checkin(self, booking_id: str, *, actor: str = "reception", reason: str = "") -> None:
        """Take back a check-in made by mistake (wrong patient, wrong session)."""
        with self._on_booking(booking_id) as (db, booking, now):
            checkin: CheckIn | None = booking.checkin
            if checkin is None:
                raise AttendanceError("this booking has no check-in to undo")
            emit(db, CheckinUndonePayload(id=checkin.id, booking_id=booking.id, at=now), now)
            db.delete(checkin)
            self._audit(
                db, now, actor, "undo_checkin", "undone", booking=booking, detail={"reason": reason}
            )

    def undo(self, booking_id: str, *, reason: str, actor: str = "reception") -> str:
        """Take back what was last recorded on the booking: its check-in, its cancellation or its
        excuse. Returns which (``checkin``, ``cancellation``, ``excuse``)."""
        if not reason.strip():
            raise AttendanceError("undoing needs a reason")
        with self._sessions() as db:
            booking = self._booking(db, booking_id)
            what = (
                "checkin"
                if booking.checkin is not None
                else "cancellation"
                if booking.status == BookingStatus.CANCELLED
                else "excuse"
                if booking.absence is not None and booking.absence.excused
                else ""
            )
        if what == "checkin":
            self.undo_checkin(booking_id, actor=actor, reason=reason)
        elif what == "cancellation":
            self.undo_cancellation(booking_id, reason=reason, actor=actor)
        elif what == "excuse":
            self.undo_excuse(booking_id, reason=reason, actor=actor)
        else:
            raise AttendanceError("there is nothing to undo on this booking")
        return what

    def undo_cancellation(self, booking_id: str, *, reason: str, actor: str = "reception") -> None:
        """Take back a cancellation recorded by mistake: the booking is booked again (and its fee
        goes with the cancellation)."""
        if not reason.strip():
            raise AttendanceError("undoing needs a reason")
        with self._on_booking(booking_id) as (db, booking, now):
            cancellation = booking.cancellation
            if booking.status != BookingStatus.CANCELLED or cancellation is None:
                raise AttendanceError("this booking is not cancelled")
            emit(
                db,
                CancellationUndonePayload(
                    id=cancellation.id, booking_id=booking.id, at=now, reason=reason
                ),
                now,
            )
            db.delete(cancellation)
            booking.status = BookingStatus.BOOKED
            self._audit(
                db, now, actor, "undo_cancel", "undone", booking=booking, detail={"reason": reason}
            )

    def undo_excuse(self, booking_id: str, *, reason: str, actor: str = "reception") -> Absence:
        """Take back an excuse given by mistake: the absence counts again, and may stop the
        programme as any unexcused absence would."""
        if not reason.strip():
            raise AttendanceError("undoing needs a reason")
        with self._on_booking(booking_id) as (db, booking, now):
            absence = booking.absence
            if absence is None or not absence.excused:
                raise AttendanceError("this absence is not excused")
            absence.excused = False
            absence.reason = ""
            emit(db, absence_payload(absence, booking), now)
            db.flush()
            stopped = after_absence(db, booking.enrolment, self._programmes, now)
            outcome = "undone_stopped" if stopped else "undone"
            self._audit(
                db, now, actor, "undo_excuse", outcome, booking=booking, detail={"reason": reason}
            )
            return absence

    def mark_present(self, booking_id: str, *, reason: str, actor: str = "reception") -> CheckIn:
        """Correct an absence: the patient was there after all. The absence becomes a check-in
        at the session's start, noted as reception's, and a stop the absence caused is lifted."""
        if not reason.strip():
            raise AttendanceError("a correction needs a reason")
        with self._on_booking(booking_id) as (db, booking, now):
            if booking.absence is None:
                raise AttendanceError("there is no absence recorded for this booking")
            programme = self._programmes[booking.enrolment.programme_code]
            lifted = withdraw_absence(
                db, booking, programme, now, why="absence corrected: present", actor=actor
            )
            checkin = self._record_checkin(
                db, booking, at=booking.session.starts_at, note=reason, now=now
            )
            outcome = "present_stop_lifted" if lifted else "present"
            self._audit(
                db, now, actor, "mark_present", outcome, booking=booking, detail={"reason": reason}
            )
            return checkin
