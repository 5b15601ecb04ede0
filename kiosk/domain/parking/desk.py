"""Parking actions on a whole database: verifying and redeeming a code at the exit, reprinting a
ticket at reception.

Each opens the database of issued tickets the settings name (the central one, which every
kiosk's tickets reach through sync, or this kiosk's own), does its work and closes it; a database
that is missing or fails is one sentence (:class:`TicketDatabaseError`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from devices.printer.interface import TicketPrinter
from kiosk.core.clock import Clock
from kiosk.core.config import Settings
from kiosk.db.engine import make_engine, session_factory
from kiosk.db.files import sqlite_path
from kiosk.domain.parking.code import MalformedCode, Reason, Verdict
from kiosk.domain.parking.printing import PrintOutcome, print_ticket
from kiosk.domain.parking.verify import issued_ticket, redeem, verify

TicketDatabase = Literal["central", "local"]
"""Which database holds the issued tickets an action looks up."""


class TicketDatabaseError(Exception):
    """The tickets' database does not exist or cannot be used; the message is one sentence."""


class NoSuchTicket(LookupError):
    """A code (well formed) names no ticket issued at this site in the database."""


@contextmanager
def _ticket_sessions(
    settings: Settings, which: TicketDatabase, *, must_exist: bool
) -> Iterator[sessionmaker[Session] | None]:
    """Sessions on the tickets' database; None when its SQLite file does not exist (yet) and
    ``must_exist`` is not set."""
    url = settings.central_url if which == "central" else settings.local_url
    path = sqlite_path(url)
    if path is not None and not path.exists():
        if must_exist:
            raise TicketDatabaseError(f"no {which} database at {path}")
        yield None
        return
    engine = make_engine(url)
    try:
        yield session_factory(engine)
    except SQLAlchemyError as exc:
        raise TicketDatabaseError(
            f"cannot use the {which} database ({exc.__class__.__name__})"
        ) from None
    finally:
        engine.dispose()


def verify_code(
    settings: Settings, code: str, *, at: dt.datetime, which: TicketDatabase = "central"
) -> Verdict:
    """Check ``code`` at ``at`` for this site's car park: against the issued tickets when the
    database exists, else offline (a QR payload only; a short code needs the database)."""
    keys, site_id = settings.parking.keys, settings.site_id
    with _ticket_sessions(settings, which, must_exist=False) as sessions:
        if sessions is None:
            return verify(code, keys=keys, site_id=site_id, at=at)
        with sessions() as db:
            return verify(code, keys=keys, site_id=site_id, at=at, db=db)


def redeem_code(
    settings: Settings, code: str, *, at: dt.datetime, which: TicketDatabase = "central"
) -> Verdict:
    """Verify ``code``, then mark its ticket used at ``at``, in one committed transaction."""
    with _ticket_sessions(settings, which, must_exist=True) as sessions:
        assert sessions is not None
        with sessions() as db, db.begin():
            return redeem(db, code, keys=settings.parking.keys, site_id=settings.site_id, at=at)


def reprint(
    settings: Settings, code: str, printer: TicketPrinter, *, clock: Clock
) -> tuple[int, PrintOutcome]:
    """Print the ticket ``code`` names again (expired or used ones too): its number and how the
    print went. The ticket is looked up as the exit verifies it, in this kiosk's database.

    Raises :class:`MalformedCode` for a text that is no parking code, and :class:`NoSuchTicket`
    for a code naming no ticket of this site there (a forged tag or wrong secret digits too).
    """
    keys, site_id, now = settings.parking.keys, settings.site_id, clock.now()
    offline = verify(code, keys=keys, site_id=site_id, at=now)
    if offline.reason == Reason.MALFORMED:
        raise MalformedCode(offline.detail)
    with _ticket_sessions(settings, "local", must_exist=True) as sessions:
        assert sessions is not None
        with sessions() as db:
            verdict = verify(code, keys=keys, site_id=site_id, at=now, db=db)
            ticket = issued_ticket(db, verdict, site_id)
            found = None if ticket is None else (ticket.id, ticket.ticket_number)
        if found is None:
            why = verdict.reason or "not in this database"
            raise NoSuchTicket(f"{code} names no ticket issued at site {site_id} ({why})")
        ticket_id, number = found
        return number, print_ticket(
            sessions, printer, ticket_id, settings=settings, clock=clock, reprint=True
        )
