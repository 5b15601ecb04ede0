"""Where a patient stands in the programme: session numbers, test moments, reminders, limits.

Sessions of a phase are numbered in the order they are attended (a check-in makes the number),
so "group session 12 of 36" is the 12th attended group-phase session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from kiosk.core.clock import local
from kiosk.db.models import Absence, Booking, BookingStatus, CheckIn, Enrolment
from kiosk.db.models import Session as SessionRow
from kiosk.domain.outcomes import Progress, Reminder, Special
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


@dataclass(frozen=True)
class History:
    """What an enrolment has done so far, loaded once per decision (a handful of rows)."""

    attended: tuple[tuple[str, dt.datetime, str], ...]
    """(session kind, session start, booking id) of every checked-in booking."""
    booked_kinds: Mapping[str, int]
    """Live (not cancelled) bookings per session kind."""
    unexcused: int

    def with_attended(self, kind: str, starts_at: dt.datetime, booking_id: str) -> History:
        """The history after one more check-in."""
        return replace(self, attended=(*self.attended, (kind, starts_at, booking_id)))

    def attended_count(self, phase: Phase, before: dt.datetime | None = None) -> int:
        """Attended sessions of ``phase``, optionally only those starting before ``before``."""
        return count_attended(self.attended, phase, before)

    def attended_in_week(self, phase: Phase, moment: dt.datetime, exclude_booking: str) -> int:
        """Attended sessions of ``phase`` in the local calendar week of ``moment``."""
        week = local(moment).isocalendar()[:2]
        return sum(
            1
            for kind, start, booking in self.attended
            if kind in phase.kinds
            and booking != exclude_booking
            and local(start).isocalendar()[:2] == week
        )

    def phase_started_on(self, phase: Phase) -> dt.date | None:
        """The local date of the first attended session of ``phase``."""
        starts = [start for kind, start, _ in self.attended if kind in phase.kinds]
        return local(min(starts)).date() if starts else None


# Built once: the tap path runs them every time and building a statement costs more than
# running it on SQLite.
_ATTENDED_ROWS = (
    select(SessionRow.kind, SessionRow.starts_at, Booking.id)
    .join(Booking, Booking.session_id == SessionRow.id)
    .join(CheckIn, CheckIn.booking_id == Booking.id)
)
_ATTENDED = _ATTENDED_ROWS.where(Booking.enrolment_id == bindparam("enrolment_id"))
_BOOKED_KINDS = (
    select(SessionRow.kind, func.count(Booking.id))
    .join(Booking, Booking.session_id == SessionRow.id)
    .where(
        Booking.enrolment_id == bindparam("enrolment_id"),
        Booking.status == BookingStatus.BOOKED,
    )
    .group_by(SessionRow.kind)
)
_UNEXCUSED = select(func.count(Absence.id)).where(
    Absence.enrolment_id == bindparam("enrolment_id"), Absence.excused.is_(False)
)


def history_of(db: Session, enrolment_id: str) -> History:
    """Load an enrolment's attended sessions, live bookings per kind and unexcused absences."""
    key = {"enrolment_id": enrolment_id}
    return History(
        attended=tuple(db.execute(_ATTENDED, key).tuples().all()),
        booked_kinds=dict(db.execute(_BOOKED_KINDS, key).tuples().all()),
        unexcused=unexcused_absences(db, enrolment_id),
    )


def count_attended(
    attended: Iterable[tuple[str, dt.datetime, str]], phase: Phase, before: dt.datetime | None
) -> int:
    """How many of ``attended`` (as :attr:`History.attended`) are sessions of ``phase``,
    optionally only those starting before ``before``."""
    return sum(
        1
        for kind, start, _ in attended
        if kind in phase.kinds and (before is None or start < before)
    )


def attended_of(
    db: Session, enrolment_ids: Collection[str]
) -> dict[str, list[tuple[str, dt.datetime, str]]]:
    """The attended sessions (as :attr:`History.attended`) of several enrolments in one query:
    all that numbering sessions needs, for a whole day's list."""
    attended: dict[str, list[tuple[str, dt.datetime, str]]] = {e: [] for e in enrolment_ids}
    if attended:
        query = _ATTENDED_ROWS.add_columns(Booking.enrolment_id).where(
            Booking.enrolment_id.in_(attended)
        )
        for kind, starts_at, booking_id, enrolment_id in db.execute(query).tuples():
            attended[enrolment_id].append((kind, starts_at, booking_id))
    return attended


def deadline(
    history: History, enrolment: Enrolment, programme: Programme, phase: Phase
) -> dt.date | None:
    """The last day the phase (or the whole programme) may be followed, if it has one."""
    limits: list[dt.date] = []
    if phase.deadline_months is not None:
        started = history.phase_started_on(phase)
        if started is not None:
            limits.append(add_months(started, phase.deadline_months))
    if programme.ends_months_after_start is not None:
        limits.append(add_months(enrolment.started_on, programme.ends_months_after_start))
    return min(limits) if limits else None


def unexcused_absences(db: Session, enrolment_id: str) -> int:
    """Absences without a valid reason so far."""
    return db.scalar(_UNEXCUSED, {"enrolment_id": enrolment_id}) or 0


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
    history: History,
    enrolment: Enrolment,
    programme: Programme,
    phase: Phase,
    number: int,
    today: dt.date,
) -> tuple[Reminder, ...]:
    """What the patient should be reminded of after this check-in."""
    reminders: list[Reminder] = [
        Reminder("register_info_session", title=programme.kind(required.kind).title)
        for required in phase.required
        if history.booked_kinds.get(required.kind, 0) < required.count
    ]
    last_day = deadline(history, enrolment, programme, phase)
    if last_day is not None and phase.sessions is not None:
        remaining = phase.sessions - number
        weeks_left = max((last_day - today).days, 0) / 7
        possible = weeks_left * (phase.max_per_week or 7)
        if remaining > 0 and (
            (last_day - today).days <= DEADLINE_WARNING_DAYS or remaining > possible
        ):
            reminders.append(Reminder("deadline_close", count=remaining, date=last_day))
    if history.unexcused:
        reminders.append(
            Reminder("absences", count=history.unexcused, limit=programme.unexcused_absence_limit)
        )
    if "bring" in programme.reminders:
        reminders.append(Reminder("bring", title=programme.reminders["bring"]))
    return tuple(reminders)
