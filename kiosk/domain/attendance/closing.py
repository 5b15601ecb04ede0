"""Closing the day: the booked sessions that ended without a visit become unexcused absences
(those of patients refused at the kiosk excepted), after a preview reception confirms."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from kiosk.core.clock import local, local_day_bounds
from kiosk.db.models import (
    Absence,
    AuditEntry,
    Booking,
    BookingStatus,
    Enrolment,
    EnrolmentStatus,
    SessionRow,
)
from kiosk.db.types import new_id
from kiosk.domain.attendance.absences import absence_payload, after_absence
from kiosk.domain.attendance.desk import AttendanceError, Desk
from kiosk.domain.journal import emit
from kiosk.domain.outcomes import Outcome
from kiosk.domain.progress import unexcused_absences
from kiosk.programme.model import Texts

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
class _Closable:
    to_close: list[Booking]
    already_closed: int
    not_over: int
    refused: int


class DayClosing(Desk):
    """Closing a day, and what it would do."""

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
                emit(db, absence_payload(absence, booking), now)
                if after_absence(db, booking.enrolment, self._programmes, now):
                    stopped += 1
            self._audit(
                db,
                now,
                actor,
                "close_day",
                "closed",
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
