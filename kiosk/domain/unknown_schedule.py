"""Bookings the programme files cannot follow: a programme whose file is gone, a session kind
the file does not (or no longer) define.

The import refuses such rows, but a programme file can change or go after its bookings came in.
The day view then still shows the session, saying why it cannot follow it, and a check-in for it
sends the patient to reception with an alert instead of failing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db.models import Alert, Booking
from kiosk.domain.alerts import raise_alert
from kiosk.programme.model import Programme

ALERT_KIND = "programme_unknown"


def unknown_reason(programmes: Mapping[str, Programme], programme_code: str, kind: str) -> str:
    """Why the programme files cannot follow a session of ``kind`` in ``programme_code``; ""
    when they can. Codes come from the schedule, never a person's data."""
    programme = programmes.get(programme_code)
    if programme is None:
        return f"programme {programme_code} is in no programme file"
    if kind not in programme.kinds:
        return f"session kind {kind} is not in the file of programme {programme_code}"
    if not any(kind in phase.kinds for phase in programme.phases):
        return f"session kind {kind} belongs to no phase of programme {programme_code}"
    return ""


def alert_unknown(db: Session, booking: Booking, reason: str, now: dt.datetime) -> None:
    """Tell reception that ``booking`` cannot be checked in at the kiosk, once: a patient who
    taps again while the alert is open raises no second one (the caller commits)."""
    already = db.scalar(
        select(Alert.id).where(
            Alert.kind == ALERT_KIND,
            Alert.patient_id == booking.patient_id,
            Alert.resolved_at.is_(None),
        )
    )
    if already is not None:
        return
    raise_alert(
        db,
        now=now,
        kind=ALERT_KIND,
        site_id=booking.session.site_id,
        patient_id=booking.patient_id,
        enrolment_id=booking.enrolment_id,
        message=f"Check-in refused at the kiosk: {reason}. Restore or correct the programme "
        "file (programmes_dir), then check the patient in.",
    )
