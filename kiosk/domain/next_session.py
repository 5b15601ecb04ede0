"""When the next session's check-in window opens: the simulation clock jumps there."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.core.config import CheckinWindow
from kiosk.db.models import Booking, BookingStatus, SessionRow
from kiosk.domain.checkin_window import first_start_after, window_of

ARRIVAL_BEFORE_START = dt.timedelta(minutes=10)
"""Where in the window the jump lands: a patient arriving ten minutes early."""


@dataclass(frozen=True)
class NextWindow:
    """Where the simulation clock jumps, and who is booked on that session."""

    moment: dt.datetime
    patient_ids: tuple[str, ...]


def next_checkin_window(
    db: Session, *, site_id: str, after: dt.datetime, window: CheckinWindow
) -> NextWindow | None:
    """A moment inside the check-in window of the next booked session that starts after
    ``after`` plus the window's opening, or None when nothing is booked any more."""
    starts_at = db.scalar(
        select(SessionRow.starts_at)
        .join(Booking, Booking.session_id == SessionRow.id)
        .where(
            SessionRow.site_id == site_id,
            SessionRow.starts_at > first_start_after(after, window),
            Booking.status == BookingStatus.BOOKED,
        )
        .order_by(SessionRow.starts_at)
        .limit(1)
    )
    if starts_at is None:
        return None
    patients = db.scalars(
        select(Booking.patient_id)
        .join(SessionRow, SessionRow.id == Booking.session_id)
        .where(
            SessionRow.site_id == site_id,
            SessionRow.starts_at == starts_at,
            Booking.status == BookingStatus.BOOKED,
        )
    ).all()
    return NextWindow(
        moment=max(window_of(starts_at, window)[0], starts_at - ARRIVAL_BEFORE_START),
        patient_ids=tuple(patients),
    )
