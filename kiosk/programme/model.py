"""What a programme is made of, as plain frozen values (no I/O here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

Texts = Mapping[str, str]
"""A text in several languages, keyed by language code (``nl``, ``fr``, ``en``, ``de``)."""


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
    """Something special about the n-th session of a phase (a test moment)."""

    at_session: int
    title: Texts
    followed_by: Texts | None = None


@dataclass(frozen=True)
class RequiredSession:
    """A session kind the patient must attend (and register for) within a phase."""

    kind: str
    count: int
    replaces: str | None = None


@dataclass(frozen=True)
class FollowUp:
    """A consultation due some months after the programme started."""

    after_months: int
    title: Texts


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
    deadline_months: int | None = None
    """The phase must be completed within this many months of its first session."""
    milestones: tuple[Milestone, ...] = ()
    required: tuple[RequiredSession, ...] = ()
    gate_after: Texts | None = None

    def milestone_at(self, number: int) -> Milestone | None:
        """The milestone of the ``number``-th session, if any."""
        return next((m for m in self.milestones if m.at_session == number), None)


@dataclass(frozen=True)
class Programme:
    """A whole programme as its file describes it."""

    code: str
    title: Texts
    source: str
    kinds: Mapping[str, SessionKind]
    phases: tuple[Phase, ...]
    billing: Billing | None = None
    once_in_a_lifetime: bool = False
    eligibility: tuple[str, ...] = ()
    cancellation_notice_hours: int = 24
    late_cancellation_fee_cents: int = 0
    unexcused_absence_limit: int = 3
    cancellation_phone: str = ""
    ends_months_after_start: int | None = None
    follow_ups: tuple[FollowUp, ...] = ()
    timetable: Mapping[str, Mapping[int, tuple[dt.time, ...]]] = field(default_factory=dict)
    """Per session kind: weekday (0 = Monday) to start times, local time."""
    reminders: Mapping[str, Texts] = field(default_factory=dict)

    def phase_of(self, kind: str) -> Phase:
        """The phase whose sessions include ``kind`` (the loader guarantees there is one)."""
        return next(p for p in self.phases if kind in p.kinds)

    def kind(self, key: str) -> SessionKind:
        """The session kind ``key``."""
        return self.kinds[key]
