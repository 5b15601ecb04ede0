"""Issuing the ticket inside the check-in transaction (the caller commits, never this module).

Ticket numbers are unique per site without asking anyone, so kiosks can issue them offline: each
kiosk owns the range ``kiosk_number * 10**8 + 1 ..`` and takes the next number of its own range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from kiosk.core.config import Settings
from kiosk.db.models import ParkingTicket
from kiosk.db.types import new_id
from kiosk.domain.events import ParkingTicketPayload
from kiosk.domain.journal import emit
from kiosk.domain.parking.code import SITE_ID, TicketCode, short_code
from kiosk.domain.parking.keys import Keyring, ParkingNotConfigured

RANGE_SIZE = 10**8
"""Ticket numbers per kiosk: kiosk 7 issues 0700000001, 0700000002, ..."""


# Built once: they run on every tap (building a statement costs more than running it).
_HIGHEST = select(func.max(ParkingTicket.ticket_number)).where(
    ParkingTicket.site_id == bindparam("site_id"),
    ParkingTicket.ticket_number.between(bindparam("first"), bindparam("last")),
)
_OF_BOOKING = select(ParkingTicket).where(ParkingTicket.booking_id == bindparam("booking_id"))


def ticket_short_code(ticket: ParkingTicket, keys: Mapping[str, bytes]) -> str:
    """The short code of an issued ticket; empty once its key is no longer configured."""
    key = keys.get(ticket.key_id)
    return short_code(ticket.ticket_number, ticket.site_id, key) if key is not None else ""


class TicketRangeExhausted(RuntimeError):
    """This kiosk has issued the last number of its range (100 million tickets)."""


def expiry(session_end: dt.datetime, grace_minutes: int) -> dt.datetime:
    """Session end plus grace, rounded up to the whole minute the code can carry."""
    if session_end.tzinfo is None:
        raise ValueError("the session end must be an aware datetime")
    end = session_end.astimezone(dt.UTC) + dt.timedelta(minutes=grace_minutes)
    whole = end.replace(second=0, microsecond=0)
    return whole if whole == end else whole + dt.timedelta(minutes=1)


def next_ticket_number(db: Session, *, site_id: str, kiosk_number: int) -> int:
    """The next free number of this kiosk's range at this site."""
    if not 1 <= kiosk_number <= 99:
        raise ValueError("a kiosk number is 1 to 99")
    first = kiosk_number * RANGE_SIZE + 1
    last = kiosk_number * RANGE_SIZE + RANGE_SIZE - 1
    highest = db.scalar(_HIGHEST, {"site_id": site_id, "first": first, "last": last})
    number = first if highest is None else highest + 1
    if number > last:
        raise TicketRangeExhausted(f"kiosk {kiosk_number} has used all its ticket numbers")
    return number


def issue_ticket(
    db: Session,
    *,
    settings: Settings,
    booking_id: str,
    session_end: dt.datetime,
    now: dt.datetime,
) -> ParkingTicket:
    """The parking ticket of a booking: the existing one, else a new one added to ``db``.

    Runs inside the caller's transaction (adds the ticket and its outbox event; no commit). Raises
    :class:`~kiosk.domain.parking.keys.ParkingNotConfigured` before touching the session when no
    signing key is configured or the site id cannot be written in a code.
    """
    existing = db.scalar(_OF_BOOKING, {"booking_id": booking_id})
    if existing is not None:
        return existing
    kid, secret = Keyring.from_settings(settings.parking).signing()
    if not SITE_ID.fullmatch(settings.site_id):
        raise ParkingNotConfigured(
            f"site id {settings.site_id!r} cannot be put in a parking code "
            "(1 to 16 characters A-Z 0-9 -)"
        )
    number = next_ticket_number(db, site_id=settings.site_id, kiosk_number=settings.kiosk_number)
    code = TicketCode(
        key_id=kid,
        site_id=settings.site_id,
        ticket_number=number,
        expires_at=expiry(session_end, settings.parking.grace_minutes),
    )
    ticket = ParkingTicket(
        id=new_id(),
        site_id=code.site_id,
        ticket_number=number,
        booking_id=booking_id,
        key_id=kid,
        issued_at=now,
        expires_at=code.expires_at,
        payload=code.payload(secret),
        print_error="",
    )
    db.add(ticket)
    emit(
        db,
        ParkingTicketPayload(
            id=ticket.id,
            site_id=ticket.site_id,
            ticket_number=number,
            booking_id=booking_id,
            key_id=kid,
            issued_at=now,
            expires_at=code.expires_at,
            payload=ticket.payload,
        ),
        now,
    )
    return ticket
