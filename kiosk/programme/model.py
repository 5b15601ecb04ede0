"""What a programme is made of, as plain frozen values (no I/O here).

A programme file describes a patient's whole trajectory: phases one after the other, the team's
decision (a gate) between two phases, the sessions that count towards a phase and those that
replace others, test moments bound to the session kinds where tests happen, follow-up
consultations, time limits counted from a named anchor, the timetable, the absence rule and
whether it may be followed once in a lifetime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

Texts = Mapping[str, str]
"""A text in several languages, keyed by language code (``nl``, ``fr``, ``en``, ``de``)."""

ENROLMENT_ANCHOR = "enrolment"
"""The anchor that is the enrolment's start (the first consultation)."""


def text_in(texts: Texts, language: str) -> str:
    """``texts`` in ``language``, falling back on English, then on any language present."""
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


@dataclass(frozen=True)
class SessionKind:
    """A kind of session (individual, group, information session...)."""

    key: str
    title: Texts
    minutes: int


@dataclass(frozen=True)
class Milestone:
    """A test moment: the ``at_session``-th session of the phase among those of ``kinds`` (the
    kinds where tests happen; an information session is never a test moment)."""

    at_session: int
    title: Texts
    followed_by: Texts | None = None
    """The consultation that follows this milestone, if any."""
    kinds: tuple[str, ...] = ()
    """Empty: every kind of the phase."""


@dataclass(frozen=True)
class RequiredSession:
    """A session kind the patient must attend (and register for) within a phase."""

    kind: str
    count: int
    replaces: str | None = None
    """The kind it stands in for: it takes one of that kind's places in the phase's count and
    in its week, so the weekly limit never crowds it out."""


@dataclass(frozen=True)
class Anchor:
    """A named moment of the trajectory time is counted from: ``enrolment`` (its start, the first
    consultation), ``phase.KEY`` (the phase's first attended session) or ``kind.KEY`` (the first
    attended session of that kind, e.g. the intake)."""

    name: str

    @property
    def phase(self) -> str | None:
        """The phase key of a ``phase.KEY`` anchor."""
        return self.name.removeprefix("phase.") if self.name.startswith("phase.") else None

    @property
    def kind(self) -> str | None:
        """The session kind of a ``kind.KEY`` anchor."""
        return self.name.removeprefix("kind.") if self.name.startswith("kind.") else None


@dataclass(frozen=True)
class TimeLimit:
    """Sessions of a phase may be followed up to ``months`` after ``anchor``."""

    months: int
    anchor: Anchor


@dataclass(frozen=True)
class FollowUp:
    """A consultation (a session of ``kind``) due ``months`` after ``anchor``."""

    title: Texts
    kind: str
    months: int
    anchor: Anchor


@dataclass(frozen=True)
class Billing:
    """The insurer's code for this programme and which attended sessions may carry it."""

    code: str
    kinds: tuple[str, ...]
    """Session kinds that may qualify."""
    minimum_minutes: int
    """A session qualifies only when it lasts at least this long (as scheduled)."""
    at_most: int | None = None
    """At most this many qualifying sessions per period, counted from the first one."""
    per_months: int | None = None


@dataclass(frozen=True)
class Phase:
    """A stage of the programme; its sessions are numbered in the order they are attended."""

    key: str
    title: Texts
    kinds: tuple[str, ...]
    sessions: int | None = None
    """How many sessions make the phase; None when open-ended."""
    max_per_week: int | None = None
    within: TimeLimit | None = None
    """The phase's sessions must lie within this limit."""
    milestones: tuple[Milestone, ...] = ()
    required: tuple[RequiredSession, ...] = ()
    gate_after: Texts | None = None
    """The team decision after this phase (go / alternative plan), recorded by staff; the next
    phase cannot begin before it says go. Its key is the phase's key."""

    def places_of(self, kind: str) -> int | None:
        """How many of the phase's sessions ``kind`` may fill: the whole phase, less the places
        kept for the sessions that replace it (None when the phase is open-ended)."""
        if self.sessions is None:
            return None
        kept = sum(r.count for r in self.required if r.replaces == kind)
        own = next((r.count for r in self.required if r.kind == kind), None)
        return own if own is not None else self.sessions - kept

    def replaces(self, kind: str) -> bool:
        """Whether ``kind`` stands in for another kind (it never counts against the week)."""
        return any(r.kind == kind and r.replaces is not None for r in self.required)


@dataclass(frozen=True)
class Programme:
    """A whole programme as its file describes it."""

    code: str
    title: Texts
    source: str
    kinds: Mapping[str, SessionKind]
    phases: tuple[Phase, ...]
    once_in_a_lifetime: bool
    billing: Billing | None = None
    eligibility: tuple[str, ...] = ()
    cancellation_notice_hours: int = 24
    late_cancellation_fee_cents: int = 0
    unexcused_absence_limit: int | None = None
    """Unexcused absences that stop the programme; None: absences never stop it."""
    cancellation_phone: str = ""
    follow_ups: tuple[FollowUp, ...] = ()
    timetable: Mapping[str, Mapping[int, tuple[dt.time, ...]]] = field(default_factory=dict)
    """Per session kind: weekday (0 = Monday) to start times, local time."""
    reminders: Mapping[str, Texts] = field(default_factory=dict)

    def phase_of(self, kind: str) -> Phase:
        """The phase whose sessions include ``kind`` (the loader guarantees there is one)."""
        return next(p for p in self.phases if kind in p.kinds)

    def phase_before(self, phase: Phase) -> Phase | None:
        """The phase just before ``phase``, if any."""
        index = self.phases.index(phase)
        return self.phases[index - 1] if index else None

    def kind(self, key: str) -> SessionKind:
        """The session kind ``key``."""
        return self.kinds[key]

    @property
    def ends_months_after_start(self) -> int | None:
        """The longest time limit of any phase in months: no session of the programme lies
        further than this from the start of what it is counted from."""
        months = [p.within.months for p in self.phases if p.within is not None]
        return max(months) if months else None

    def timetabled(self, kind: str, moment: dt.datetime) -> bool:
        """Whether a session of ``kind`` starting at ``moment`` (local, aware) fits the
        timetable; a kind without a timetable fits any time."""
        days = self.timetable.get(kind)
        if days is None:
            return True
        return moment.time().replace(tzinfo=None) in days.get(moment.weekday(), ())
