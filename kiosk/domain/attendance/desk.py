"""What every reception action shares: the database it acts on, the booking it looks up, the
check-in it may record and the audit entry it ends with; and the error it refuses with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from kiosk.db.models import Booking, BookingStatus, CheckIn
from kiosk.db.types import new_id
from kiosk.domain.journal import audit, checkin_payload, emit
from kiosk.domain.on_database import OnDatabase


class AttendanceError(ValueError):
    """A reception action that cannot be done (the message says why, in plain words)."""


class Desk(OnDatabase):
    """Reception's actions on one database: the part each kind of action builds on."""

    @contextmanager
    def _on_booking(self, booking_id: str) -> Iterator[tuple[Session, Booking, dt.datetime]]:
        """One action's transaction on the booking (:class:`AttendanceError` when there is
        none): the session, the booking, and the action's moment."""
        now = self._clock.now()
        with self._sessions() as db, db.begin():
            yield db, self._booking(db, booking_id), now

    def _audit(
        self,
        db: Session,
        now: dt.datetime,
        actor: str,
        action: str,
        outcome: str,
        *,
        booking: Booking | None = None,
        patient_id: str | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        """The action's audit entry from this kiosk, on ``booking`` (and its patient) when the
        action concerns one, else on ``patient_id``."""
        audit(
            db,
            at=now,
            kiosk_id=self._settings.kiosk_id,
            actor=actor,
            action=action,
            outcome=outcome,
            patient_id=patient_id if booking is None else booking.patient_id,
            booking_id=None if booking is None else booking.id,
            detail=detail,
        )

    def _record_checkin(
        self, db: Session, booking: Booking, *, at: dt.datetime, note: str, now: dt.datetime
    ) -> CheckIn:
        """A check-in by reception for ``booking`` at ``at`` (late when after the session's
        start), with ``note`` saying why, and its ``checkin`` event."""
        checkin = CheckIn(
            id=new_id(),
            booking_id=booking.id,
            patient_id=booking.patient_id,
            kiosk_id=self._settings.kiosk_id,
            checked_in_at=at,
            late=at > booking.session.starts_at,
            identity_method="manual",
            identity_note=note[:200],
        )
        db.add(checkin)
        db.flush()
        emit(db, checkin_payload(checkin, booking.session.site_id), now)
        return checkin

    @staticmethod
    def _booking(db: Session, booking_id: str) -> Booking:
        booking = db.scalar(
            select(Booking)
            .where(Booking.id == booking_id)
            .options(
                joinedload(Booking.session),
                joinedload(Booking.enrolment),
                joinedload(Booking.checkin),
                joinedload(Booking.absence),
                joinedload(Booking.cancellation),
            )
        )
        if booking is None:
            raise AttendanceError("no such booking")
        return booking

    @staticmethod
    def _still_open(booking: Booking) -> None:
        """Refuse an action on a booking already cancelled or checked in."""
        if booking.status == BookingStatus.CANCELLED:
            raise AttendanceError("this booking is already cancelled")
        if booking.checkin is not None:
            raise AttendanceError("the patient is already checked in for this session")
