"""Verifying and redeeming a code at the car park's exit.

A QR payload is checked offline (:func:`kiosk.domain.parking.code.verify_payload`); with a
database it is also refused once used. A short code proves nothing by itself: after its check
digits it must be found among the issued tickets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from kiosk.db.models import ParkingTicket
from kiosk.domain.parking.code import (
    MalformedCode,
    Reason,
    TicketCode,
    Verdict,
    is_payload,
    parse_short_code,
    verify_payload,
)

# A PostgreSQL centre opens its tickets to the exit through two functions only (made by
# ``kiosk central init``, sync/exit_function.py): an exit role holds no table.
TICKET_FUNCTION = "exit_ticket"
REDEEM_FUNCTION = "exit_redeem"


def _through_functions(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def find_ticket(db: Session, site_id: str, ticket_number: int) -> ParkingTicket | None:
    """The ticket with this number at this site, if one was issued (on a PostgreSQL centre a
    detached row from ``exit_ticket``, holding what verifying reads)."""
    if _through_functions(db):
        query = "SELECT id, site_id, ticket_number, key_id, expires_at, redeemed_at FROM "
        row = db.execute(
            text(query + TICKET_FUNCTION + "(:number, :site)"),
            {"number": ticket_number, "site": site_id},
        ).first()
        if row is None:
            return None
        return ParkingTicket(
            id=row.id,
            site_id=row.site_id,
            ticket_number=row.ticket_number,
            key_id=row.key_id,
            expires_at=row.expires_at.astimezone(dt.UTC),
            redeemed_at=row.redeemed_at.astimezone(dt.UTC) if row.redeemed_at else None,
        )
    return db.scalar(
        select(ParkingTicket).where(
            ParkingTicket.site_id == site_id, ParkingTicket.ticket_number == ticket_number
        )
    )


GENUINE = frozenset({None, Reason.EXPIRED, Reason.ALREADY_USED})
"""The verdicts on a code that names an issued ticket, whether or not the car may leave on it."""


def issued_ticket(db: Session, verdict: Verdict, site_id: str) -> ParkingTicket | None:
    """The issued ticket in ``db`` a verdict of :func:`verify` names, when its code is genuine
    (valid, expired or used); None for a refused code or a ticket this database does not hold."""
    if verdict.ticket is None or verdict.reason not in GENUINE:
        return None
    return find_ticket(db, site_id, verdict.ticket.ticket_number)


def verify(
    code: str,
    *,
    keys: Mapping[str, bytes],
    site_id: str,
    at: dt.datetime,
    db: Session | None = None,
) -> Verdict:
    """Check a QR payload or a short code at ``at`` for the car park of ``site_id``.

    Order of the checks: format, key, tag, site, already used (needs ``db``), expiry. A short
    code without a database is an unknown ticket.
    """
    if is_payload(code):
        verdict = verify_payload(code, keys=keys, site_id=site_id, at=at)
        if verdict.reason not in (None, Reason.EXPIRED) or db is None:
            return verdict
        assert verdict.ticket is not None
        row = find_ticket(db, site_id, verdict.ticket.ticket_number)
        if row is not None and row.redeemed_at is not None:
            return Verdict(Reason.ALREADY_USED, verdict.ticket, redeemed_at=row.redeemed_at)
        return verdict
    try:
        typed = parse_short_code(code)
    except MalformedCode as exc:
        return Verdict(Reason.MALFORMED, detail=str(exc))
    if db is None:
        return Verdict(Reason.UNKNOWN_TICKET, detail="a short code is checked in the database")
    row = find_ticket(db, site_id, typed.ticket_number)
    key = keys.get(row.key_id) if row is not None else None
    # Wrong secret digits get the very answer a number never issued gets: a guess learns nothing.
    if row is None or key is None or not typed.matches(row.site_id, key):
        return Verdict(Reason.UNKNOWN_TICKET)
    fields = TicketCode(row.key_id, row.site_id, row.ticket_number, row.expires_at)
    if row.redeemed_at is not None:
        return Verdict(Reason.ALREADY_USED, fields, redeemed_at=row.redeemed_at)
    if at > row.expires_at:
        return Verdict(Reason.EXPIRED, fields)
    return Verdict(None, fields)


def redeem(
    db: Session, code: str, *, keys: Mapping[str, bytes], site_id: str, at: dt.datetime
) -> Verdict:
    """Verify the code, then mark its ticket used at ``at`` (the caller commits).

    Only tickets in ``db`` can be marked; a valid QR code of a ticket this database does not
    hold is refused as an unknown ticket. Marking is one conditional UPDATE, so two exits
    redeeming the same ticket at once cannot both succeed.
    """
    verdict = verify(code, keys=keys, site_id=site_id, at=at, db=db)
    if not verdict.valid:
        return verdict
    assert verdict.ticket is not None
    row = issued_ticket(db, verdict, site_id)
    if row is None:
        return Verdict(Reason.UNKNOWN_TICKET, verdict.ticket, detail="not in this database")
    if _through_functions(db):
        marked_at = db.scalar(
            text(f"SELECT {REDEEM_FUNCTION}(:id, :at, :site)"),
            {"id": row.id, "at": at, "site": site_id},
        )
        if marked_at is None:
            again = find_ticket(db, site_id, row.ticket_number)
            used = again.redeemed_at if again is not None else None
            return Verdict(Reason.ALREADY_USED, verdict.ticket, redeemed_at=used)
        return Verdict(None, verdict.ticket, redeemed_at=at)
    marked = db.execute(
        update(ParkingTicket)
        .where(ParkingTicket.id == row.id, ParkingTicket.redeemed_at.is_(None))
        .values(redeemed_at=at)
        .execution_options(synchronize_session=False)
    )
    if getattr(marked, "rowcount", 0) != 1:
        db.refresh(row)
        return Verdict(Reason.ALREADY_USED, verdict.ticket, redeemed_at=row.redeemed_at)
    db.refresh(row)
    return Verdict(None, verdict.ticket, redeemed_at=at)
