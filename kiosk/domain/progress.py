"""Where a patient stands in the programme: session numbers, test moments, reminders.

Sessions of a phase are numbered in the order they are attended (a check-in makes the number),
so "group session 12 of 36" is the 12th attended group-phase session. The rules themselves are
in :mod:`kiosk.domain.trajectory`; this module loads what they need and says it to the patient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from kiosk.db.models import Absence, Booking, BookingStatus, CheckIn, Enrolment, SessionRow
from kiosk.domain import trajectory
from kiosk.domain.gates import passed_gates
from kiosk.domain.outcomes import Progress, Reminder, Special
from kiosk.programme.model import Phase, Programme

DEADLINE_WARNING_DAYS = 28


@dataclass(frozen=True)
class History:
    """What an enrolment has done so far, loaded once per decision (a handful of rows)."""

    attended: tuple[tuple[str, dt.datetime, str], ...]
    """(session kind, session start, booking id) of every checked-in booking."""
    booked_kinds: Mapping[str, int]
    """Live (not cancelled) bookings per session kind."""
    unexcused: int
    booked: tuple[tuple[str, dt.datetime], ...] = ()
    """(session kind, session start) of every live booking not checked in."""

    def with_attended(self, kind: str, starts_at: dt.datetime, booking_id: str) -> History:
        """The history after one more check-in."""
        return replace(self, attended=(*self.attended, (kind, starts_at, booking_id)))

    def attended_count(self, phase: Phase, before: dt.datetime | None = None) -> int:
        """Attended sessions of ``phase``, optionally only those starting before ``before``."""
        return trajectory.count_of(self.attended, phase.kinds, before)


# Built once: the tap path runs them every time and building a statement costs more than
# running it on SQLite.
_ATTENDED_ROWS = (
    select(SessionRow.kind, SessionRow.starts_at, Booking.id)
    .join(Booking, Booking.session_id == SessionRow.id)
    .join(CheckIn, CheckIn.booking_id == Booking.id)
)
_ATTENDED = _ATTENDED_ROWS.where(Booking.enrolment_id == bindparam("enrolment_id"))
_BOOKED = (
    select(SessionRow.kind, SessionRow.starts_at)
    .join(Booking, Booking.session_id == SessionRow.id)
    .outerjoin(CheckIn, CheckIn.booking_id == Booking.id)
    .where(
        Booking.enrolment_id == bindparam("enrolment_id"),
        Booking.status == BookingStatus.BOOKED,
        CheckIn.id.is_(None),
    )
)
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


def history_of(db: Session, enrolment_id: str, *, with_booked: bool = True) -> History:
    """Load an enrolment's attended sessions, live bookings and unexcused absences;
    ``with_booked``: also the live bookings not yet attended (what follow-ups need)."""
    key = {"enrolment_id": enrolment_id}
    return History(
        attended=tuple(db.execute(_ATTENDED, key).tuples().all()),
        booked_kinds=dict(db.execute(_BOOKED_KINDS, key).tuples().all()),
        unexcused=unexcused_absences(db, enrolment_id),
        booked=tuple(db.execute(_BOOKED, key).tuples().all()) if with_booked else (),
    )


def count_attended(
    attended: Iterable[tuple[str, dt.datetime, str]], phase: Phase, before: dt.datetime | None
) -> int:
    """How many of ``attended`` (as :attr:`History.attended`) are sessions of ``phase``,
    optionally only those starting before ``before``."""
    return trajectory.count_of(attended, phase.kinds, before)


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


def unexcused_absences(db: Session, enrolment_id: str) -> int:
    """Absences without a valid reason so far."""
    return db.scalar(_UNEXCUSED, {"enrolment_id": enrolment_id}) or 0


def progress_of(number: int, phase: Phase) -> Progress:
    """The progress value of the ``number``-th session of ``phase``."""
    return Progress(phase=phase.key, phase_title=phase.title, number=number, total=phase.sessions)


def specials_of(
    programme: Programme, phase: Phase, kind: str, history: History, starts_at: dt.datetime
) -> tuple[Special, ...]:
    """What is special about this session: a test moment, an information session."""
    specials: list[Special] = []
    milestone = trajectory.milestone_of(phase, kind, history.attended, starts_at)
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
    if (
        phase.gate_after is not None
        and phase.sessions is not None
        and number >= phase.sessions
        and phase.key not in passed_gates(enrolment)
    ):
        reminders.append(Reminder("gate_pending", title=phase.gate_after))
    last_day = trajectory.last_day(programme, phase, history.attended, enrolment.started_on)
    if last_day is not None and phase.sessions is not None:
        remaining = phase.sessions - number
        weeks_left = max((last_day - today).days, 0) / 7
        possible = weeks_left * (phase.max_per_week or 7)
        if remaining > 0 and (
            (last_day - today).days <= DEADLINE_WARNING_DAYS or remaining > possible
        ):
            reminders.append(Reminder("deadline_close", count=remaining, date=last_day))
    reminders.extend(
        Reminder("follow_up_due", title=follow_up.title, date=day)
        for follow_up, day in trajectory.follow_ups_due(
            programme, history.attended, history.booked, enrolment.started_on, today
        )
    )
    if history.unexcused and programme.unexcused_absence_limit is not None:
        reminders.append(
            Reminder("absences", count=history.unexcused, limit=programme.unexcused_absence_limit)
        )
    if "bring" in programme.reminders:
        reminders.append(Reminder("bring", title=programme.reminders["bring"]))
    return tuple(reminders)
