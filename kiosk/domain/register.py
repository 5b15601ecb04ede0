"""The attendance register the insurer's rules ask for (nomenclature 558994 and the like):
per day, who attended which programme session, when, where, under which code, and how the
identity was established."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from kiosk.core.clock import local_day_bounds
from kiosk.db.models import Booking, CheckIn, Enrolment, Site
from kiosk.db.models import Session as SessionRow
from kiosk.domain import progress
from kiosk.programme.model import Programme

COLUMNS = (
    "date",
    "national_number",
    "last_name",
    "first_name",
    "programme",
    "session_number",
    "session_start",
    "session_end",
    "nomenclature_code",
    "place",
    "identity_method",
    "card_number",
    "document_type",
)


@dataclass(frozen=True)
class RegisterLine:
    """One attended session."""

    date: dt.date
    national_number: str
    last_name: str
    first_name: str
    programme: str
    session_number: int
    session_start: dt.datetime
    session_end: dt.datetime
    nomenclature_code: str
    place: str
    identity_method: str
    card_number: str
    document_type: str


def register_for(
    db: Session, *, day: dt.date, site_id: str | None, programmes: Mapping[str, Programme]
) -> list[RegisterLine]:
    """The register lines of ``day`` (every site when ``site_id`` is None)."""
    start, end = local_day_bounds(day)
    query = (
        select(CheckIn)
        .join(Booking, Booking.id == CheckIn.booking_id)
        .join(SessionRow, SessionRow.id == Booking.session_id)
        .where(SessionRow.starts_at >= start, SessionRow.starts_at < end)
        .options(
            joinedload(CheckIn.booking).joinedload(Booking.session),
            joinedload(CheckIn.booking).joinedload(Booking.enrolment).joinedload(Enrolment.patient),
        )
        .order_by(SessionRow.starts_at)
    )
    if site_id is not None:
        query = query.where(SessionRow.site_id == site_id)
    sites = {s.id: s.name for s in db.scalars(select(Site))}
    lines = []
    checkins = db.scalars(query).unique().all()
    attended = progress.attended_of(db, {c.booking.enrolment_id for c in checkins})
    for checkin in checkins:
        booking = checkin.booking
        session, enrolment = booking.session, booking.enrolment
        programme = programmes[enrolment.programme_code]
        phase = programme.phase_of(session.kind)
        number = progress.count_attended(attended[enrolment.id], phase, session.starts_at) + 1
        patient = enrolment.patient
        lines.append(
            RegisterLine(
                date=day,
                national_number=patient.national_number or "",
                last_name=patient.last_name,
                first_name=patient.first_name,
                programme=programme.code,
                session_number=number,
                session_start=session.starts_at,
                session_end=session.ends_at,
                nomenclature_code=programme.billing.code if programme.billing else "",
                place=sites.get(session.site_id, session.site_id),
                identity_method=checkin.identity_method,
                card_number=checkin.card_number,
                document_type=checkin.document_type,
            )
        )
    return lines
