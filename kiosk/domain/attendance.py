"""Reception's side of attendance: closing a day, cancellations with their fee, excused absences,
undoing a check-in. Each is one transaction with its audit entry and outbox events."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from kiosk.core.clock import Clock, local, local_day_bounds
from kiosk.core.config import Settings
from kiosk.db.models import (
    Absence,
    Alert,
    AuditEntry,
    Booking,
    BookingStatus,
    Cancellation,
    CheckIn,
    Enrolment,
    EnrolmentStatus,
)
from kiosk.db.models import Session as SessionRow
from kiosk.db.types import new_id
from kiosk.domain.alerts import raise_alert
from kiosk.domain.alerts import resolve as resolve_alert
from kiosk.domain.events import (
    AbsencePayload,
    AbsenceWithdrawnPayload,
    CancellationPayload,
    CancellationUndonePayload,
    CheckinUndonePayload,
    EnrolmentResumedPayload,
    EnrolmentStoppedPayload,
)
from kiosk.domain.gates import finish
from kiosk.domain.journal import audit, checkin_payload, emit
from kiosk.domain.outcomes import Outcome
from kiosk.domain.parking.issue import issue_ticket, ticket_short_code
from kiosk.domain.progress import history_of, unexcused_absences
from kiosk.domain.trajectory import finishes
from kiosk.programme.model import Programme, Texts

ABSENCE_STOP = "unexcused absences"
"""How the reason of a stop caused by absences ends (``3 unexcused absences``): such a stop is
lifted when one of those absences is excused or turns out to be a visit after all."""


CAME_BUT_REFUSED = frozenset(
    {
        Outcome.TOO_LATE,
        Outcome.WEEKLY_LIMIT_REACHED,
        Outcome.PROGRAMME_STOPPED,
        Outcome.PROGRAMME_FINISHED,
        Outcome.DEADLINE_PASSED,
        Outcome.GATE_PENDING,
        Outcome.PHASE_COMPLETE,
    }
)
"""Refusals at the kiosk that mean the patient came for the booking: closing the day records no
absence for it (reception admits, excuses or leaves it). Too early is not one of them: the
patient was asked to come back."""


class AttendanceError(ValueError):
    """A reception action that cannot be done (the message says why, in plain words)."""


@dataclass(frozen=True)
class DayClosed:
    """What closing a day did."""

    day: dt.date
    absences: int
    stopped_enrolments: int
    already_closed: int
    """Bookings of the day that already had an absence (closing twice changes nothing)."""
    not_over: int = 0
    """Booked sessions of the day that had not ended: closing left them alone."""
    refused: int = 0
    """Bookings whose patient came and was refused at the kiosk: no absence (reception decides:
    admit, excuse or nothing)."""


@dataclass(frozen=True)
class WouldStop:
    """An enrolment that closing the day would stop: whose, and which programme."""

    patient_name: str
    programme_title: Texts


@dataclass(frozen=True)
class DayPreview:
    """What closing a day would do now, for reception to confirm."""

    day: dt.date
    absences: int
    stops: tuple[WouldStop, ...]
    not_over: int
    """Booked sessions of the day that have not ended yet: closing leaves them alone."""
    refused: int = 0
    """Bookings whose patient came and was refused at the kiosk: they get no absence."""


@dataclass(frozen=True)
class Admitted:
    """A refused patient checked in by reception."""

    checkin_id: str
    late: bool
    short_code: str | None
    """The parking ticket's short code (None at a site without a car park)."""


@dataclass(frozen=True)
class _Closable:
    to_close: list[Booking]
    already_closed: int
    not_over: int
    refused: int


class Attendance:
    """Reception's actions on one database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        programmes: Mapping[str, Programme],
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._programmes = programmes
        self._settings = settings
        self._clock = clock

    def _closable(self, db: Session, day: dt.date, now: dt.datetime) -> _Closable:
        """The day's booked sessions that have ended without check-in or absence."""
        if day > local(now).date():
            raise AttendanceError("a day that has not begun cannot be closed")
        start, end = local_day_bounds(day)
        bookings = db.scalars(
            select(Booking)
            .join(SessionRow, SessionRow.id == Booking.session_id)
            .where(
                SessionRow.starts_at >= start,
                SessionRow.starts_at < end,
                SessionRow.site_id == self._settings.site_id,
                Booking.status == BookingStatus.BOOKED,
            )
            .options(
                joinedload(Booking.session),
                joinedload(Booking.checkin),
                joinedload(Booking.absence),
                joinedload(Booking.enrolment).joinedload(Enrolment.patient),
            )
            .order_by(SessionRow.starts_at)
        ).unique()
        to_close: list[Booking] = []
        already = not_over = 0
        for booking in bookings:
            if booking.checkin is not None:
                continue
            if booking.absence is not None:
                already += 1
            elif booking.session.ends_at > now:
                not_over += 1
            else:
                to_close.append(booking)
        # A patient who tapped in for the booking and was refused came: not a no-show.
        came = set(
            db.scalars(
                select(AuditEntry.booking_id).where(
                    AuditEntry.action == "checkin",
                    AuditEntry.outcome.in_(sorted(CAME_BUT_REFUSED)),
                    AuditEntry.booking_id.in_([b.id for b in to_close]),
                )
            )
        )
        kept = [b for b in to_close if b.id not in came]
        return _Closable(kept, already, not_over, len(to_close) - len(kept))

    def preview_close_day(self, day: dt.date) -> DayPreview:
        """What :meth:`close_day` would do now: how many absences, which programmes it would
        stop, how many sessions it leaves alone because they have not ended."""
        now = self._clock.now()
        with self._sessions() as db:
            closable = self._closable(db, day, now)
            new = Counter(b.enrolment_id for b in closable.to_close)
            stops: list[WouldStop] = []
            for enrolment in {b.enrolment_id: b.enrolment for b in closable.to_close}.values():
                if enrolment.status != EnrolmentStatus.ACTIVE:
                    continue
                limit = self._programmes[enrolment.programme_code].unexcused_absence_limit
                count = unexcused_absences(db, enrolment.id) + new[enrolment.id]
                if limit is not None and count >= limit:
                    programme = self._programmes[enrolment.programme_code]
                    patient = enrolment.patient
                    stops.append(
                        WouldStop(f"{patient.first_name} {patient.last_name}", programme.title)
                    )
        return DayPreview(
            day, len(closable.to_close), tuple(stops), closable.not_over, closable.refused
        )

    def close_day(self, day: dt.date, *, actor: str = "reception") -> DayClosed:
        """Every booked session of ``day`` that has ended without check-in or cancellation
        becomes an unexcused absence, unless the patient came and was refused at the kiosk; an
        enrolment that reaches its programme's limit is stopped and reception alerted. Sessions
        not yet over are left alone; a day that has not begun is refused (:class:`AttendanceError`).
        """
        now = self._clock.now()
        absences = stopped = 0
        with self._sessions() as db, db.begin():
            closable = self._closable(db, day, now)
            for booking in closable.to_close:
                absence = Absence(
                    id=new_id(),
                    booking_id=booking.id,
                    enrolment_id=booking.enrolment_id,
                    recorded_at=now,
                    excused=False,
                    reason="",
                )
                db.add(absence)
                db.flush()
                absences += 1
                emit(db, _absence_payload(absence, booking), now)
                if self._after_absence(db, booking.enrolment, now):
                    stopped += 1
            audit(
                db,
                at=now,
                kiosk_id=self._settings.kiosk_id,
                actor=actor,
                action="close_day",
                outcome="closed",
                detail={
                    "day": day.isoformat(),
                    "absences": absences,
                    "stopped": stopped,
                    "not_over": closable.not_over,
                    "refused": closable.refused,
                },
            )
        return DayClosed(
            day, absences, stopped, closable.already_closed, closable.not_over, closable.refused
        )

    def _after_absence(self, db: Session, enrolment: Enrolment, now: dt.datetime) -> bool:
        """Stop the enrolment at the limit, warn one absence before it. True when stopped."""
        if enrolment.status != EnrolmentStatus.ACTIVE:
            return False
        limit = self._programmes[enrolment.programme_code].unexcused_absence_limit
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
            raise_alert(
                db,
                now=now,
                kind="programme_stopped",
                site_id=enrolment.site_id,
                patient_id=enrolment.patient_id,
                enrolment_id=enrolment.id,
                message=f"Programme stopped after {count} unexcused absences: "
                "the physician decides what follows.",
            )
            return True
        if count == limit - 1:
            raise_alert(
                db,
                now=now,
                kind="absences_warning",
                site_id=enrolment.site_id,
                patient_id=enrolment.patient_id,
                enrolment_id=enrolment.id,
                message=f"{count} unexcused absences: one more stops the programme.",
            )
        return False

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
            if booking.status == BookingStatus.CANCELLED:
                raise AttendanceError("this booking is already cancelled")
            if booking.checkin is not None:
                raise AttendanceError("the patient is already checked in for this session")
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
            audit(
                db,
                at=now,
                kiosk_id=self._settings.kiosk_id,
                actor=actor,
                action="cancel",
                outcome="late" if late else "in_time",
                patient_id=booking.patient_id,
                booking_id=booking.id,
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
        now = self._clock.now()
        with self._sessions() as db, db.begin():
            booking = self._booking(db, booking_id)
            absence = booking.absence
            if absence is None:
                raise AttendanceError("there is no absence recorded for this booking")
            absence.excused = True
            absence.reason = reason
            emit(db, _absence_payload(absence, booking), now)
            programme = self._programmes[booking.enrolment.programme_code]
            lifted = lift_absence_stop(
                db, booking.enrolment, programme, now, why="absence excused", actor=actor
            )
            audit(
                db,
                at=now,
                kiosk_id=self._settings.kiosk_id,
                actor=actor,
                action="excuse",
                outcome="excused_stop_lifted" if lifted else "excused",
                patient_id=booking.patient_id,
                booking_id=booking.id,
            )
            return absence

    def undo_checkin(self, booking_id: str, *, actor: str = "reception", reason: str = "") -> None:
        """Take back a check-in made by mistake (wrong patient, wrong session)."""
        now = self._clock.now()
        with self._sessions() as db, db.begin():
            booking = self._booking(db, booking_id)
            checkin: CheckIn | None = booking.checkin
            if checkin is None:
                raise AttendanceError("this booking has no check-in to undo")
            emit(db, CheckinUndonePayload(id=checkin.id, booking_id=booking.id, at=now), now)
            db.delete(checkin)
            audit(
                db,
                at=now,
                kiosk_id=self._settings.kiosk_id,
                actor=actor,
                action="undo_checkin",
                outcome="undone",
                patient_id=booking.patient_id,
                booking_id=booking.id,
                detail={"reason": reason},
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

    def admit(self, booking_id: str, *, reason: str, actor: str = "reception") -> Admitted:
        """Reception overrides any refusal of the kiosk (too late, programme stopped or finished,
        past the deadline, the team's decision pending...): the patient is checked in for the
        booking now, the reason kept with the check-in and in the audit trail, and the parking
        ticket issued; a programme whose last counted session this was is finished."""
        if not reason.strip():
            raise AttendanceError("admitting a refused patient needs a reason")
        now = self._clock.now()
        with self._sessions() as db, db.begin():
            booking = self._booking(db, booking_id)
            if booking.status == BookingStatus.CANCELLED:
                raise AttendanceError("this booking is already cancelled")
            if booking.checkin is not None:
                raise AttendanceError("the patient is already checked in for this session")
            programme = self._programmes[booking.enrolment.programme_code]
            withdraw_absence(db, booking, programme, now, why="admitted by reception", actor=actor)
            checkin = CheckIn(
                id=new_id(),
                booking_id=booking.id,
                patient_id=booking.patient_id,
                kiosk_id=self._settings.kiosk_id,
                checked_in_at=now,
                late=now > booking.session.starts_at,
                identity_method="manual",
                identity_note=f"admitted: {reason}"[:200],
            )
            db.add(checkin)
            db.flush()
            emit(db, checkin_payload(checkin, booking.session.site_id), now)
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
            self._audit(db, now, actor, "admit", "admitted", booking, reason)
            return Admitted(checkin.id, checkin.late, code)

    def undo_cancellation(self, booking_id: str, *, reason: str, actor: str = "reception") -> None:
        """Take back a cancellation recorded by mistake: the booking is booked again (and its fee
        goes with the cancellation)."""
        if not reason.strip():
            raise AttendanceError("undoing needs a reason")
        now = self._clock.now()
        with self._sessions() as db, db.begin():
            booking = self._booking(db, booking_id)
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
            self._audit(db, now, actor, "undo_cancel", "undone", booking, reason)

    def undo_excuse(self, booking_id: str, *, reason: str, actor: str = "reception") -> Absence:
        """Take back an excuse given by mistake: the absence counts again, and may stop the
        programme as any unexcused absence would."""
        if not reason.strip():
            raise AttendanceError("undoing needs a reason")
        now = self._clock.now()
        with self._sessions() as db, db.begin():
            booking = self._booking(db, booking_id)
            absence = booking.absence
            if absence is None or not absence.excused:
                raise AttendanceError("this absence is not excused")
            absence.excused = False
            absence.reason = ""
            emit(db, _absence_payload(absence, booking), now)
            db.flush()
            stopped = self._after_absence(db, booking.enrolment, now)
            outcome = "undone_stopped" if stopped else "undone"
            self._audit(db, now, actor, "undo_excuse", outcome, booking, reason)
            return absence

    def mark_present(self, booking_id: str, *, reason: str, actor: str = "reception") -> CheckIn:
        """Correct an absence: the patient was there after all. The absence becomes a check-in
        at the session's start, noted as reception's, and a stop the absence caused is lifted."""
        if not reason.strip():
            raise AttendanceError("a correction needs a reason")
        now = self._clock.now()
        with self._sessions() as db, db.begin():
            booking = self._booking(db, booking_id)
            if booking.absence is None:
                raise AttendanceError("there is no absence recorded for this booking")
            programme = self._programmes[booking.enrolment.programme_code]
            lifted = withdraw_absence(
                db, booking, programme, now, why="absence corrected: present", actor=actor
            )
            checkin = CheckIn(
                id=new_id(),
                booking_id=booking.id,
                patient_id=booking.patient_id,
                kiosk_id=self._settings.kiosk_id,
                checked_in_at=booking.session.starts_at,
                late=False,
                identity_method="manual",
                identity_note=reason[:200],
            )
            db.add(checkin)
            db.flush()
            emit(db, checkin_payload(checkin, booking.session.site_id), now)
            outcome = "present_stop_lifted" if lifted else "present"
            self._audit(db, now, actor, "mark_present", outcome, booking, reason)
            return checkin

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
            audit(
                db,
                at=now,
                kiosk_id=self._settings.kiosk_id,
                actor=actor,
                action="resume",
                outcome="resumed",
                patient_id=enrolment.patient_id,
                detail={"enrolment_id": enrolment.id, "reason": reason},
            )

    def _audit(
        self,
        db: Session,
        now: dt.datetime,
        actor: str,
        action: str,
        outcome: str,
        booking: Booking,
        reason: str,
    ) -> None:
        audit(
            db,
            at=now,
            kiosk_id=self._settings.kiosk_id,
            actor=actor,
            action=action,
            outcome=outcome,
            patient_id=booking.patient_id,
            booking_id=booking.id,
            detail={"reason": reason},
        )

    @staticmethod
    def _booking(db: Session, booking_id: str) -> Booking:
        booking = db.scalar(
            select(Booking)
            .where(Booking.id == booking_id)
            .options(
                joinedload(Booking.session),
                joinedload(Booking.enrolment),
                joinedload(Booking.checkin),
                joinedload(Booking.absence),
                joinedload(Booking.cancellation),
            )
        )
        if booking is None:
            raise AttendanceError("no such booking")
        return booking


def _absence_payload(absence: Absence, booking: Booking) -> AbsencePayload:
    return AbsencePayload(
        id=absence.id,
        booking_id=booking.id,
        enrolment_id=absence.enrolment_id,
        recorded_at=absence.recorded_at,
        excused=absence.excused,
        reason=absence.reason,
    )


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
            Alert.kind == "programme_stopped",
            Alert.resolved_at.is_(None),
        )
    ).all()
    for alert_id in stop_alerts:
        resolve_alert(db, alert_id, now=now, actor=actor, resolution=f"resumed: {why}")


def _stopped_by_absences(enrolment: Enrolment) -> bool:
    return enrolment.status == EnrolmentStatus.STOPPED and enrolment.stop_reason.endswith(
        ABSENCE_STOP
    )
