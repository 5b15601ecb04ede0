"""Where a patient stands in the programme: session numbers, test moments, reminders, limits.

Sessions of a phase are numbered in the order they are attended (a check-in makes the number),
so "group session 12 of 36" is the 12th attended group-phase session.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kiosk.clock import local
from kiosk.db.models import Absence, Booking, BookingStatus, CheckIn, Enrolment
from kiosk.db.models import Session as SessionRow
from kiosk.outcomes import Progress, Reminder, Special
from kiosk.programme.model import Phase, Programme

DEADLINE_WARNING_DAYS = 28


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (clamped to the month's last day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def _attended(enrolment_id: str, kinds: tuple[str, ...]) -> Select[tuple[int]]:
    return (
        select(func.count(CheckIn.id))
        .join(Booking, Booking.id == CheckIn.booking_id)
        .join(SessionRow, SessionRow.id == Booking.session_id)
        .where(Booking.enrolment_id == enrolment_id, SessionRow.kind.in_(kinds))
    )


def attended_count(
    db: Session, enrolment_id: str, phase: Phase, before: dt.datetime | None = None
) -> int:
    """Attended sessions of ``phase``, optionally only those starting before ``before``."""
    query = _attended(enrolment_id, phase.kinds)
    if before is not None:
        query = query.where(SessionRow.starts_at < before)
    return db.scalar(query) or 0


def attended_in_week(
    db: Session, enrolment_id: str, phase: Phase, moment: dt.datetime, exclude_booking: str
) -> int:
    """Attended sessions of ``phase`` in the local calendar week of ``moment`` (Monday first)."""
    day = local(moment).date()
    monday = day - dt.timedelta(days=day.weekday())
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=local(moment).tzinfo)
    query = _attended(enrolment_id, phase.kinds).where(
        SessionRow.starts_at >= start.astimezone(dt.UTC),
        SessionRow.starts_at < (start + dt.timedelta(days=7)).astimezone(dt.UTC),
        Booking.id != exclude_booking,
    )
    return db.scalar(query) or 0


def phase_started_on(db: Session, enrolment_id: str, phase: Phase) -> dt.date | None:
    """The local date of the first attended session of ``phase``."""
    first = db.scalar(
        select(func.min(SessionRow.starts_at))
        .join(Booking, Booking.session_id == SessionRow.id)
        .join(CheckIn, CheckIn.booking_id == Booking.id)
        .where(Booking.enrolment_id == enrolment_id, SessionRow.kind.in_(phase.kinds))
    )
    if first is None:
        return None
    if first.tzinfo is None:  # aggregates bypass the column type on SQLite
        first = first.replace(tzinfo=dt.UTC)
    return local(first).date()


def deadline(
    db: Session, enrolment: Enrolment, programme: Programme, phase: Phase
) -> dt.date | None:
    """The last day the phase (or the whole programme) may be followed, if it has one."""
    limits: list[dt.date] = []
    if phase.deadline_months is not None:
        started = phase_started_on(db, enrolment.id, phase)
        if started is not None:
            limits.append(add_months(started, phase.deadline_months))
    if programme.ends_months_after_start is not None:
        limits.append(add_months(enrolment.started_on, programme.ends_months_after_start))
    return min(limits) if limits else None


def unexcused_absences(db: Session, enrolment_id: str) -> int:
    """Absences without a valid reason so far."""
    return (
        db.scalar(
            select(func.count(Absence.id)).where(
                Absence.enrolment_id == enrolment_id, Absence.excused.is_(False)
            )
        )
        or 0
    )


def progress_of(number: int, phase: Phase) -> Progress:
    """The progress value of the ``number``-th session of ``phase``."""
    return Progress(phase=phase.key, phase_title=phase.title, number=number, total=phase.sessions)


def specials_of(programme: Programme, phase: Phase, kind: str, number: int) -> tuple[Special, ...]:
    """What is special about this session: a milestone, an information session."""
    specials: list[Special] = []
    milestone = phase.milestone_at(number)
    if milestone is not None:
        specials.append(Special("milestone", milestone.title, milestone.followed_by))
    if any(r.kind == kind for r in phase.required):
        specials.append(Special("info_session", programme.kind(kind).title))
    return tuple(specials)


def reminders_of(
    db: Session,
    enrolment: Enrolment,
    programme: Programme,
    phase: Phase,
    number: int,
    today: dt.date,
) -> tuple[Reminder, ...]:
    """What the patient should be reminded of after this check-in."""
    reminders: list[Reminder] = []
    for required in phase.required:
        booked = (
            db.scalar(
                select(func.count(Booking.id))
                .join(SessionRow, SessionRow.id == Booking.session_id)
                .where(
                    Booking.enrolment_id == enrolment.id,
                    Booking.status == BookingStatus.BOOKED,
                    SessionRow.kind == required.kind,
                )
            )
            or 0
        )
        if booked < required.count:
            reminders.append(
                Reminder("register_info_session", title=programme.kind(required.kind).title)
            )
    last_day = deadline(db, enrolment, programme, phase)
    if last_day is not None and phase.sessions is not None:
        remaining = phase.sessions - number
        weeks_left = max((last_day - today).days, 0) / 7
        possible = weeks_left * (phase.max_per_week or 7)
        if remaining > 0 and (
            (last_day - today).days <= DEADLINE_WARNING_DAYS or remaining > possible
        ):
            reminders.append(Reminder("deadline_close", count=remaining, date=last_day))
    absences = unexcused_absences(db, enrolment.id)
    if absences:
        reminders.append(
            Reminder("absences", count=absences, limit=programme.unexcused_absence_limit)
        )
    if "bring" in programme.reminders:
        reminders.append(Reminder("bring", title=programme.reminders["bring"]))
    return tuple(reminders)
