"""The trajectory rules of a programme file, applied to one enrolment's history: where a session
falls (its number, its test moment), whether the kiosk must turn the patient away, what
reception should look at, when the programme ends, which follow-up is due.

Plain Python on plain values (no database): the check-in engine loads the history once and asks
here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from kiosk.core.clock import local
from kiosk.domain.outcomes import Outcome
from kiosk.programme.model import (
    ENROLMENT_ANCHOR,
    Anchor,
    FollowUp,
    Milestone,
    Phase,
    Programme,
)

Attended = Iterable[tuple[str, dt.datetime, str]]
"""(session kind, session start, booking id) of checked-in bookings."""

FOLLOW_UP_NOTICE = dt.timedelta(days=14)
"""A follow-up consultation is announced this long before it is due."""
FOLLOW_UP_SLACK = dt.timedelta(days=31)
"""A consultation booked or attended this long before the due day or later answers it."""


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


def count_of(attended: Attended, kinds: Collection[str], before: dt.datetime | None = None) -> int:
    """How many of ``attended`` are of ``kinds`` (only those starting before ``before``)."""
    return sum(
        1 for kind, start, _ in attended if kind in kinds and (before is None or start < before)
    )


def milestone_of(
    phase: Phase, kind: str, attended: Attended, before: dt.datetime
) -> Milestone | None:
    """The test moment a session of ``kind`` starting at ``before`` is, if any: its place among
    the attended sessions of the milestone's kinds (an information session is never a test)."""
    attended = tuple(attended)
    return next(
        (
            m
            for m in phase.milestones
            if kind in (kinds := m.kinds or phase.kinds)
            and count_of(attended, kinds, before) + 1 == m.at_session
        ),
        None,
    )


def anchor_day(
    anchor: Anchor, programme: Programme, attended: Attended, started_on: dt.date
) -> dt.date | None:
    """The local day of ``anchor`` in this enrolment, or None while it has not happened."""
    if anchor.name == ENROLMENT_ANCHOR:
        return started_on
    if anchor.phase is not None:
        kinds: Collection[str] = next(p.kinds for p in programme.phases if p.key == anchor.phase)
    else:
        kinds = {anchor.kind or ""}
    starts = [start for kind, start, _ in attended if kind in kinds]
    return local(min(starts)).date() if starts else None


def last_day(
    programme: Programme, phase: Phase, attended: Attended, started_on: dt.date
) -> dt.date | None:
    """The last day a session of ``phase`` may take place, when the phase has a time limit and
    its anchor has happened (an anchor not yet known sets no limit)."""
    if phase.within is None:
        return None
    day = anchor_day(phase.within.anchor, programme, attended, started_on)
    return None if day is None else add_months(day, phase.within.months)


def gate_before(programme: Programme, phase: Phase) -> Phase | None:
    """The phase whose team decision ``phase`` waits for, if any."""
    before = programme.phase_before(phase)
    return before if before is not None and before.gate_after is not None else None


@dataclass(frozen=True)
class Standing:
    """What the rules need to know about an enrolment besides its attended sessions."""

    started_on: dt.date
    finished: bool
    passed_gates: frozenset[str]
    """Keys of the phases whose team decision said go."""


def refusal(
    programme: Programme,
    kind: str,
    attended: Attended,
    standing: Standing,
    today: dt.date,
) -> Outcome | None:
    """Why a session of ``kind`` cannot be checked in for this enrolment, or None. (A stopped
    enrolment is the engine's to judge: it may be lifted by this very check-in.)"""
    attended = tuple(attended)
    phase = programme.phase_of(kind)
    if standing.finished and phase.sessions is not None:
        return Outcome.PROGRAMME_FINISHED
    gate = gate_before(programme, phase)
    if (
        gate is not None
        and gate.key not in standing.passed_gates
        and not count_of(attended, phase.kinds)
    ):
        # A phase already begun passed its gate before the kiosk kept decisions.
        return Outcome.GATE_PENDING
    places = phase.places_of(kind)
    if places is not None and count_of(attended, _sharing(phase, kind)) >= places:
        return (
            Outcome.PROGRAMME_FINISHED
            if phase.sessions is not None
            and phase is programme.phases[-1]
            and count_of(attended, phase.kinds) >= phase.sessions
            else Outcome.PHASE_COMPLETE
        )
    limit = last_day(programme, phase, attended, standing.started_on)
    if limit is not None and today > limit:
        return Outcome.DEADLINE_PASSED
    return None


def _sharing(phase: Phase, kind: str) -> tuple[str, ...]:
    """The kinds whose attended sessions fill ``kind``'s places: itself, or the whole phase when
    the phase's count is all ``kind`` may fill."""
    return (
        (kind,)
        if any(r.kind == kind or r.replaces == kind for r in phase.required)
        else phase.kinds
    )


def for_reception(
    programme: Programme, kind: str, starts_at: dt.datetime, attended: Attended, booking_id: str
) -> tuple[str, ...]:
    """What reception should judge about a session the patient is checked in for: the sentences
    of the alerts to raise (the weekly limit passed, a session outside the timetable). A session
    that replaces another never counts against the week."""
    phase = programme.phase_of(kind)
    notes: list[str] = []
    if phase.max_per_week is not None and not phase.replaces(kind):
        week = local(starts_at).isocalendar()[:2]
        in_week = sum(
            1
            for k, start, booking in attended
            if k in phase.kinds and booking != booking_id and local(start).isocalendar()[:2] == week
        )
        if in_week >= phase.max_per_week:
            notes.append(
                f"Checked in for a session beyond the weekly limit ({phase.max_per_week} a week): "
                "please look at the bookings."
            )
    if not programme.timetabled(kind, local(starts_at)):
        notes.append(
            f"Checked in for a {kind} session at a time outside the programme's timetable "
            f"({local(starts_at):%a %H:%M}): please look at the booking."
        )
    return tuple(notes)


def finishes(programme: Programme, attended: Attended) -> bool:
    """Whether the attended sessions complete the programme: its last phase has a count and has
    reached it."""
    last = programme.phases[-1]
    return last.sessions is not None and count_of(attended, last.kinds) >= last.sessions


def follow_ups_due(
    programme: Programme,
    attended: Attended,
    booked: Iterable[tuple[str, dt.datetime]],
    started_on: dt.date,
    today: dt.date,
) -> list[tuple[FollowUp, dt.date]]:
    """The follow-up consultations due soon or overdue (with their day) that no consultation
    booked or attended around that day answers yet."""
    attended, booked = tuple(attended), tuple(booked)
    due: list[tuple[FollowUp, dt.date]] = []
    for follow_up in programme.follow_ups:
        anchor = anchor_day(follow_up.anchor, programme, attended, started_on)
        if anchor is None:
            continue
        day = add_months(anchor, follow_up.months)
        if today < day - FOLLOW_UP_NOTICE:
            continue
        since = day - FOLLOW_UP_SLACK
        sessions = [(k, s) for k, s, _ in attended] + list(booked)
        if not any(k == follow_up.kind and local(s).date() >= since for k, s in sessions):
            due.append((follow_up, day))
    return due
