"""The day as reception sees it: sessions by start time, and per patient where they stand."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from kiosk.core.clock import local_day_bounds
from kiosk.core.config import CheckinWindow
from kiosk.db.models import Booking, BookingStatus, Enrolment, SessionRow
from kiosk.domain.checkin_window import window_of
from kiosk.domain.unknown_schedule import unknown_reason
from kiosk.programme.model import Programme, Texts


class Status(enum.StrEnum):
    """A patient's status for one booked session."""

    EXPECTED = "expected"
    ARRIVED = "arrived"
    LATE = "late"
    ABSENT = "absent"
    EXCUSED = "excused"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Attendee:
    """One booking of the day. Names are for reception's screen, never for logs."""

    booking_id: str
    patient_id: str
    national_number: str
    first_name: str
    last_name: str
    birth_date: dt.date | None
    status: Status
    checked_in_at: dt.datetime | None
    enrolment_status: str
    enrolment_id: str = ""


@dataclass(frozen=True)
class DaySession:
    """One session of the day with its attendees."""

    session_id: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str
    kind_title: Texts
    room: str
    programme_code: str
    attendees: tuple[Attendee, ...]
    problem: str = ""
    """Why the programme files cannot follow this session ("" when they can): it is shown all
    the same, its kind as the schedule names it, and a check-in for it goes to reception."""

    def count(self, status: Status) -> int:
        """How many attendees have ``status``."""
        return sum(1 for a in self.attendees if a.status == status)


def status_of(booking: Booking, now: dt.datetime, window: CheckinWindow) -> Status:
    """Where a booking stands at ``now``."""
    if booking.status == BookingStatus.CANCELLED:
        return Status.CANCELLED
    if booking.checkin is not None:
        return Status.LATE if booking.checkin.late else Status.ARRIVED
    if booking.absence is not None:
        return Status.EXCUSED if booking.absence.excused else Status.ABSENT
    _, closes = window_of(booking.session.starts_at, window)
    return Status.ABSENT if now > closes else Status.EXPECTED


def day_view(
    db: Session,
    *,
    site_id: str | None,
    day: dt.date,
    now: dt.datetime,
    programmes: Mapping[str, Programme],
    window: CheckinWindow,
) -> list[DaySession]:
    """The sessions of ``day`` at ``site_id`` (every site when None), by start time."""
    start, end = local_day_bounds(day)
    query = (
        select(Booking)
        .join(SessionRow, SessionRow.id == Booking.session_id)
        .where(SessionRow.starts_at >= start, SessionRow.starts_at < end)
        .options(
            joinedload(Booking.session),
            joinedload(Booking.checkin),
            joinedload(Booking.absence),
            joinedload(Booking.enrolment).joinedload(Enrolment.patient),
        )
        .order_by(SessionRow.starts_at, SessionRow.room, SessionRow.id)
    )
    if site_id is not None:
        query = query.where(SessionRow.site_id == site_id)
    grouped: dict[str, list[Booking]] = {}
    for booking in db.scalars(query).unique():
        grouped.setdefault(booking.session_id, []).append(booking)
    result: list[DaySession] = []
    for bookings in grouped.values():
        session = bookings[0].session
        problem = unknown_reason(programmes, session.programme_code, session.kind)
        attendees = sorted(
            (
                Attendee(
                    booking_id=b.id,
                    patient_id=b.patient_id,
                    national_number=b.enrolment.patient.national_number or "",
                    first_name=b.enrolment.patient.first_name,
                    last_name=b.enrolment.patient.last_name,
                    birth_date=b.enrolment.patient.birth_date,
                    status=status_of(b, now, window),
                    checked_in_at=b.checkin.checked_in_at if b.checkin else None,
                    enrolment_status=str(b.enrolment.status),
                    enrolment_id=b.enrolment_id,
                )
                for b in bookings
            ),
            key=lambda a: (a.last_name, a.first_name),
        )
        result.append(
            DaySession(
                session_id=session.id,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                kind=session.kind,
                kind_title={"en": session.kind}
                if problem
                else programmes[session.programme_code].kind(session.kind).title,
                room=session.room,
                programme_code=session.programme_code,
                attendees=tuple(attendees),
                problem=problem,
            )
        )
    return result
