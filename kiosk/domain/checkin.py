"""The check-in engine: given who taps and when, decide and record, in one transaction.

Plain Python on top of the database; no screen. A check-in, its parking ticket, the audit entry
and the outbox events are committed together or not at all. A refusal records only an audit entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from devices.eid.identity import Identity
from devices.eid.national_number import validate
from kiosk.core.clock import local, local_day_bounds
from kiosk.db.models import (
    Booking,
    BookingStatus,
    CheckIn,
    Enrolment,
    EnrolmentStatus,
    ParkingTicket,
    Patient,
    SessionRow,
)
from kiosk.db.types import UTCDateTime, new_id
from kiosk.domain import progress, trajectory
from kiosk.domain.after_checkin import follow_through
from kiosk.domain.attendance import stop_lifted_without, withdraw_absence
from kiosk.domain.checkin_window import window_of
from kiosk.domain.gates import passed_gates
from kiosk.domain.journal import audit, checkin_payload, emit
from kiosk.domain.on_database import OnDatabase
from kiosk.domain.outcomes import CheckinResult, Outcome, ParkingInfo, SessionInfo
from kiosk.domain.parking.issue import issue_ticket, ticket_short_code
from kiosk.domain.patients import find_by_national_number, initial_name
from kiosk.domain.unknown_schedule import alert_unknown, unknown_reason
from kiosk.programme.model import Programme


@dataclass(frozen=True)
class IdentityEvidence:
    """Who is checking in and how we know (kept with the check-in for billing)."""

    national_number: str
    method: str = "chip"
    """``chip`` (e-ID read and verified), ``simulated`` (virtual card), ``manual`` (reception),
    ``command`` (headless CLI)."""
    card_number: str = ""
    document_type: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "national_number", validate(self.national_number))

    @classmethod
    def from_card(cls, identity: Identity) -> IdentityEvidence:
        """Evidence from an e-ID read by a reader (its signatures already checked)."""
        return cls(
            identity.national_number,
            method=identity.source,
            card_number=identity.card_number,
            document_type=identity.document_type,
        )

    @property
    def actor(self) -> str:
        """Who acted, for the audit trail: the card holder at the kiosk, or a script."""
        return "command" if self.method == "command" else "patient"

    def __repr__(self) -> str:
        # Never the number itself: reprs end up in logs and tracebacks.
        return f"IdentityEvidence(method={self.method!r}, document_type={self.document_type!r})"


# A patient's bookings of one day with what the decision needs, built once (see progress.py).
_TODAYS_BOOKINGS = (
    select(Booking)
    .join(SessionRow, SessionRow.id == Booking.session_id)
    .where(
        Booking.patient_id == bindparam("patient_id"),
        SessionRow.starts_at >= bindparam("start", type_=UTCDateTime()),
        SessionRow.starts_at < bindparam("end", type_=UTCDateTime()),
    )
    .options(
        joinedload(Booking.session),
        joinedload(Booking.enrolment),
        joinedload(Booking.checkin),
    )
    .order_by(SessionRow.starts_at)
)


@dataclass(frozen=True)
class _Candidate:
    booking: Booking
    session: SessionRow
    opens: dt.datetime
    closes: dt.datetime


class CheckinEngine(OnDatabase):
    """Decides and records check-ins against one database."""

    def check_in(self, identity: IdentityEvidence, at: dt.datetime | None = None) -> CheckinResult:
        """Check in the holder of ``identity`` at ``at`` (default: now)."""
        now = at or self._clock.now()
        key = self._settings.require_lookup_key()
        for attempt in range(2):
            with self._sessions() as db, db.begin():
                patient = find_by_national_number(db, key, identity.national_number)
                if patient is None:
                    self._audit(db, now, "unknown_patient", None, None, identity)
                    return CheckinResult(Outcome.UNKNOWN_PATIENT)
                try:
                    # One flush at commit for the audit, outbox and ticket rows; the check-in
                    # itself is flushed at once so a concurrent one fails here, not at commit.
                    with db.no_autoflush:
                        return self._decide(db, patient, now, identity)
                except IntegrityError:
                    # Another process checked this booking in between our read and our write.
                    if attempt:
                        raise
                    db.rollback()
        raise AssertionError("unreachable")

    def check_in_patient(
        self, patient_id: str, *, actor: str, note: str, at: dt.datetime | None = None
    ) -> CheckinResult:
        """Reception's manual check-in (forgotten card): same rules, identity noted as manual."""
        now = at or self._clock.now()
        with self._sessions() as db, db.begin():
            patient = db.get(Patient, patient_id)
            if patient is None:
                return CheckinResult(Outcome.UNKNOWN_PATIENT)
            evidence = _ManualEvidence(actor=actor, note=note)
            with db.no_autoflush:
                return self._decide(db, patient, now, evidence)

    # -- decision ---------------------------------------------------------------------------

    def _decide(
        self,
        db: Session,
        patient: Patient,
        now: dt.datetime,
        identity: IdentityEvidence | _ManualEvidence,
    ) -> CheckinResult:
        candidates = self._todays_candidates(db, patient, now)
        chosen, outcome = self._choose(candidates, now)
        if chosen is None:
            outcome = self._no_booking_outcome(patient) if outcome is None else outcome
            self._audit(db, now, outcome, patient.id, None, identity)
            return CheckinResult(
                outcome,
                display_name=initial_name(patient),
                patient_id=patient.id,
                language=patient.language,
            )
        booking, session = chosen.booking, chosen.session
        enrolment = booking.enrolment
        # A programme file changed or went after the booking came in: not the patient's fault.
        unknown = unknown_reason(self._programmes, enrolment.programme_code, session.kind)
        if unknown:
            alert_unknown(db, booking, unknown, now)
            self._audit(db, now, Outcome.PROGRAMME_UNKNOWN, patient.id, booking.id, identity)
            return CheckinResult(
                Outcome.PROGRAMME_UNKNOWN,
                display_name=initial_name(patient),
                patient_id=patient.id,
                booking_id=booking.id,
                language=patient.language,
            )
        programme = self._programmes[enrolment.programme_code]
        info = SessionInfo(
            kind=session.kind,
            kind_title=programme.kind(session.kind).title,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            room=session.room,
            programme_title=programme.title,
        )
        base = CheckinResult(
            outcome=Outcome.TOO_EARLY,
            display_name=initial_name(patient),
            session=info,
            opens_at=chosen.opens,
            cancellation_phone=programme.cancellation_phone,
            patient_id=patient.id,
            booking_id=booking.id,
            language=patient.language,
        )
        # The bookings ahead matter only to a programme with follow-up consultations.
        history = progress.history_of(db, enrolment.id, with_booked=bool(programme.follow_ups))
        if booking.checkin is not None:
            return self._admitted(
                db, base, booking, programme, history, Outcome.ALREADY_CHECKED_IN, now
            )
        # A session closed as missed, and the patient is here after all: the absence goes, and
        # so does a stop it caused.
        absence = booking.absence
        lifting = absence is not None and stop_lifted_without(db, enrolment, programme, absence)
        refusal = outcome or self._refusal(history, enrolment, programme, booking, now, lifting)
        if refusal is not None:
            self._audit(db, now, refusal, patient.id, booking.id, identity)
            return replace(base, outcome=refusal)
        checkin = CheckIn(
            id=new_id(),
            booking_id=booking.id,
            patient_id=patient.id,
            kiosk_id=self._settings.kiosk_id,
            checked_in_at=now,
            late=now > session.starts_at,
            identity_method=identity.method,
            card_number=identity.card_number,
            document_type=identity.document_type,
            identity_note=identity.note,
        )
        if absence is not None:
            withdraw_absence(
                db,
                booking,
                programme,
                now,
                why="checked in after the day's closing",
                actor=identity.actor,
            )
        db.add(checkin)
        db.flush()
        booking.checkin = checkin
        emit(db, checkin_payload(checkin, session.site_id), now)
        self._audit(db, now, Outcome.CHECKED_IN, patient.id, booking.id, identity)
        history = history.with_attended(session.kind, session.starts_at, booking.id)
        follow_through(db, booking, programme, history, now)
        return self._admitted(db, base, booking, programme, history, Outcome.CHECKED_IN, now)

    def _todays_candidates(
        self, db: Session, patient: Patient, now: dt.datetime
    ) -> list[_Candidate]:
        start, end = local_day_bounds(local(now).date())
        rows = db.scalars(
            _TODAYS_BOOKINGS, {"patient_id": patient.id, "start": start, "end": end}
        ).unique()
        window = self._settings.checkin
        return [_Candidate(b, b.session, *window_of(b.session.starts_at, window)) for b in rows]

    def _choose(
        self, candidates: list[_Candidate], now: dt.datetime
    ) -> tuple[_Candidate | None, Outcome | None]:
        """Pick today's booking this tap is about, or the outcome when there is none."""
        live = [c for c in candidates if c.booking.status == BookingStatus.BOOKED]
        if not live:
            return (None, Outcome.BOOKING_CANCELLED) if candidates else (None, None)
        open_now = [c for c in live if c.opens <= now <= c.closes]
        if open_now:
            # Two overlapping windows: the first one not yet checked in.
            return next((c for c in open_now if c.booking.checkin is None), open_now[0]), None
        grace = dt.timedelta(minutes=self._settings.parking.grace_minutes)
        done = [
            c for c in live if c.booking.checkin is not None and now <= c.session.ends_at + grace
        ]
        if done:
            return done[-1], None
        upcoming = [c for c in live if now < c.opens]
        if upcoming:
            return upcoming[0], Outcome.TOO_EARLY
        missed = [c for c in live if c.booking.checkin is None]
        if missed:
            return missed[-1], Outcome.TOO_LATE
        return live[-1], None

    def _no_booking_outcome(self, patient: Patient) -> Outcome:
        statuses = {e.status for e in patient.enrolments}
        if EnrolmentStatus.ACTIVE in statuses or not statuses:
            return Outcome.NO_BOOKING
        if EnrolmentStatus.STOPPED in statuses:
            return Outcome.PROGRAMME_STOPPED
        return Outcome.PROGRAMME_FINISHED

    def _refusal(
        self,
        history: progress.History,
        enrolment: Enrolment,
        programme: Programme,
        booking: Booking,
        now: dt.datetime,
        lifting: bool,
    ) -> Outcome | None:
        """Why the booking cannot be checked in, or None; ``lifting``: the stop goes with this
        check-in (it was caused by the booking's own absence). What reception judges better
        (the weekly limit, the timetable) is no refusal: see :mod:`kiosk.domain.after_checkin`."""
        if enrolment.status == EnrolmentStatus.STOPPED and not lifting:
            return Outcome.PROGRAMME_STOPPED
        standing = trajectory.Standing(
            started_on=enrolment.started_on,
            finished=enrolment.status == EnrolmentStatus.FINISHED,
            passed_gates=passed_gates(enrolment),
        )
        return trajectory.refusal(
            programme, booking.session.kind, history.attended, standing, local(now).date()
        )

    def _admitted(
        self,
        db: Session,
        base: CheckinResult,
        booking: Booking,
        programme: Programme,
        history: progress.History,
        outcome: Outcome,
        now: dt.datetime,
    ) -> CheckinResult:
        session = booking.session
        phase = programme.phase_of(session.kind)
        number = history.attended_count(phase, before=session.starts_at) + 1
        checkin = booking.checkin
        assert checkin is not None
        return replace(
            base,
            outcome=outcome,
            opens_at=None,
            progress=progress.progress_of(number, phase),
            specials=progress.specials_of(
                programme, phase, session.kind, history, session.starts_at
            ),
            reminders=progress.reminders_of(
                history, booking.enrolment, programme, phase, number, local(now).date()
            ),
            parking=self._parking(db, booking, now),
            late=checkin.late,
            checked_in_at=checkin.checked_in_at,
        )

    def _parking(self, db: Session, booking: Booking, now: dt.datetime) -> ParkingInfo | None:
        if not self._settings.parking.keys:
            return None  # a site without a car park configures no keys
        ticket: ParkingTicket = issue_ticket(
            db,
            settings=self._settings,
            booking_id=booking.id,
            session_end=booking.session.ends_at,
            now=now,
        )
        return ParkingInfo(
            payload=ticket.payload,
            short_code=ticket_short_code(ticket, self._settings.parking.keys),
            expires_at=ticket.expires_at,
            ticket_id=ticket.id,
            printed=ticket.printed_at is not None,
        )

    def _audit(
        self,
        db: Session,
        now: dt.datetime,
        outcome: str,
        patient_id: str | None,
        booking_id: str | None,
        identity: IdentityEvidence | _ManualEvidence,
    ) -> None:
        audit(
            db,
            at=now,
            kiosk_id=self._settings.kiosk_id,
            actor=identity.actor,
            action="checkin",
            outcome=str(outcome),
            patient_id=patient_id,
            booking_id=booking_id,
            detail={"method": identity.method, "document_type": identity.document_type},
        )


@dataclass(frozen=True)
class _ManualEvidence:
    """Reception vouches for the patient (no card)."""

    actor: str
    note: str
    method: str = "manual"
    card_number: str = ""
    document_type: str = ""
