"""What a check-in attempt ends in: plain values the screen, the CLI and the tests read.

Texts are not built here: an outcome carries stable codes and numbers, and the screen puts them
into the patient's language.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from kiosk.programme.model import Texts


class Outcome(enum.StrEnum):
    """Stable machine words (``kiosk checkin --json`` prints them; scripts rely on them)."""

    CHECKED_IN = "checked_in"
    ALREADY_CHECKED_IN = "already_checked_in"
    TOO_EARLY = "too_early"
    TOO_LATE = "too_late"
    NO_BOOKING = "no_booking"
    BOOKING_CANCELLED = "booking_cancelled"
    UNKNOWN_PATIENT = "unknown_patient"
    PROGRAMME_STOPPED = "programme_stopped"
    PROGRAMME_FINISHED = "programme_finished"
    DEADLINE_PASSED = "deadline_passed"
    WEEKLY_LIMIT_REACHED = "weekly_limit_reached"
    """No longer given by the kiosk (it checks in and alerts reception); kept for the audit
    entries written before."""
    GATE_PENDING = "gate_pending"
    """The next phase waits for the team's decision (after the pre-programme)."""
    PHASE_COMPLETE = "phase_complete"
    """Every session of this part of the programme is done (the next part is another kind)."""
    PROGRAMME_UNKNOWN = "programme_unknown"
    """The booking's programme or session kind is in no programme file: reception is alerted."""

    @property
    def admitted(self) -> bool:
        """True when the patient is checked in (now or earlier)."""
        return self in (Outcome.CHECKED_IN, Outcome.ALREADY_CHECKED_IN)


class GrammaticalForm(enum.StrEnum):
    """How a sentence about the patient agrees, in a language that marks it (French
    "enregistré" / "enregistrée"): from the sex the e-ID states; neutral wording when unknown.
    A grammatical choice only: never shown or logged as data."""

    NEUTRAL = "neutral"
    MASCULINE = "masculine"
    FEMININE = "feminine"

    @classmethod
    def of_sex(cls, sex: str | None) -> GrammaticalForm:
        """The form for the e-ID's ``M`` or ``F``; neutral for anything else."""
        return {"M": cls.MASCULINE, "F": cls.FEMININE}.get(sex or "", cls.NEUTRAL)


@dataclass(frozen=True)
class SessionInfo:
    """The booked session, as the patient needs to see it."""

    kind: str
    kind_title: Texts
    starts_at: dt.datetime
    ends_at: dt.datetime
    room: str
    programme_title: Texts


@dataclass(frozen=True)
class Progress:
    """The place of this session in the programme ("group session 12 of 36")."""

    phase: str
    phase_title: Texts
    number: int
    total: int | None


@dataclass(frozen=True)
class Special:
    """What is special today: a test moment, an information session, a follow-up."""

    code: str
    """``milestone`` or ``info_session``."""
    title: Texts
    followed_by: Texts | None = None


@dataclass(frozen=True)
class Reminder:
    """Something to tell the patient; ``code`` picks the sentence, the rest fills it in."""

    code: str
    """``register_info_session``, ``gate_pending``, ``deadline_close``, ``follow_up_due``,
    ``absences`` or ``bring``."""
    title: Texts | None = None
    count: int = 0
    limit: int = 0
    date: dt.date | None = None


@dataclass(frozen=True)
class ParkingInfo:
    """The free-exit ticket of this session."""

    payload: str
    short_code: str
    expires_at: dt.datetime
    ticket_id: str
    printed: bool


@dataclass(frozen=True)
class CheckinResult:
    """The outcome of one tap. ``display_name`` is a first name and initial at most."""

    outcome: Outcome
    display_name: str = ""
    session: SessionInfo | None = None
    progress: Progress | None = None
    specials: tuple[Special, ...] = ()
    reminders: tuple[Reminder, ...] = ()
    parking: ParkingInfo | None = None
    late: bool = False
    checked_in_at: dt.datetime | None = None
    opens_at: dt.datetime | None = None
    """For ``too_early``: when the check-in window opens."""
    cancellation_phone: str = ""
    patient_id: str | None = None
    booking_id: str | None = None
    language: str | None = None
    """The patient's language when known, else None: their last choice at the kiosk (the facade
    puts it in), else the schedule's."""
    form: GrammaticalForm = GrammaticalForm.NEUTRAL
    """How the result's sentences agree with the patient (from the e-ID; neutral without)."""
