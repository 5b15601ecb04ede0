"""The car park exit's own kind of role (``kiosk central add-exit``): it verifies and redeems its
site's tickets through two functions and can do nothing else at the centre."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from kiosk.db.engine import make_engine, session_factory
from kiosk.domain.parking.code import Reason, TicketCode, short_code
from kiosk.domain.parking.verify import redeem, verify
from kiosk.programme import Programme
from sync import central
from sync.apply import OutgoingEvent
from sync.set_apply import apply_events
from tests.sync.conftest import NOW, PARKING_KEY, fill_centre

pytestmark = pytest.mark.postgres
KEYS = {"K1": PARKING_KEY}


def _ticket(admin: Engine, site: str, number: int) -> tuple[str, TicketCode]:
    """Issue (as the owner, through the push function) a ticket of ``site``: its id and code."""
    with admin.connect() as conn:
        booking, ends = conn.execute(
            text(
                "SELECT b.id, s.ends_at FROM bookings b JOIN sessions s ON s.id = b.session_id "
                "WHERE s.site_id = :s AND s.starts_at > :now ORDER BY s.starts_at, b.id LIMIT 1"
            ),
            {"s": site, "now": NOW},
        ).one()
    expires = (ends + dt.timedelta(minutes=30)).replace(second=0, microsecond=0)
    code = TicketCode("K1", site, number, expires.astimezone(dt.UTC))
    ticket_id = str(uuid.uuid4())
    payload = {
        "id": ticket_id,
        "site_id": site,
        "ticket_number": number,
        "booking_id": booking,
        "key_id": "K1",
        "issued_at": NOW.isoformat(),
        "expires_at": code.expires_at.isoformat(),
        "payload": code.payload(PARKING_KEY),
    }
    event = OutgoingEvent(str(uuid.uuid4()), 1, "parking_ticket", 1, NOW, json.dumps(payload))
    applied = apply_events(admin, [event], site_id=site, kiosk_id=f"{site}-1", now=NOW)
    assert applied.new == [event.id], applied
    return ticket_id, code


@pytest.fixture
def exit_centre(
    pg_url: str, programmes: dict[str, Programme], kiosk_role: Callable[[str], str]
) -> Iterator[tuple[str, Engine]]:
    """A demo centre with an exit role of GENK."""
    fill_centre(pg_url, programmes)
    admin = make_engine(pg_url)
    role = kiosk_role("exit_genk")
    central.add_exit(admin, role, site_id="GENK")
    try:
        yield role, admin
    finally:
        admin.dispose()


def test_the_exit_verifies_and_redeems_its_sites_tickets_only(
    pg_url: str, exit_centre: tuple[str, Engine]
) -> None:
    role, admin = exit_centre
    genk_id, genk = _ticket(admin, "GENK", 4242)
    hasselt_id, hasselt = _ticket(admin, "HASSELT", 4343)
    at = NOW + dt.timedelta(minutes=5)
    door = make_engine(pg_url.replace("postgres@", f"{role}@"))
    try:
        with session_factory(door)() as db:
            qr = genk.payload(PARKING_KEY)
            assert verify(qr, keys=KEYS, site_id="GENK", at=at, db=db).valid
            typed = short_code(4242, "GENK", PARKING_KEY)
            assert verify(typed, keys=KEYS, site_id="GENK", at=at, db=db).valid
            # Another site's ticket is not in this exit's view, whatever site it claims.
            other = short_code(4343, "HASSELT", PARKING_KEY)
            assert verify(other, keys=KEYS, site_id="HASSELT", at=at, db=db).reason == (
                Reason.UNKNOWN_TICKET
            )
        with session_factory(door)() as db, db.begin():
            assert redeem(db, qr, keys=KEYS, site_id="GENK", at=at).redeemed_at == at
        with session_factory(door)() as db, db.begin():
            again = redeem(db, qr, keys=KEYS, site_id="GENK", at=at)
            assert again.reason == Reason.ALREADY_USED and again.redeemed_at == at
            assert (
                db.scalar(text("SELECT exit_redeem(:i, :at)"), {"i": hasselt_id, "at": at}) is None
            )
    finally:
        door.dispose()
    with admin.connect() as conn:
        used = dict(conn.execute(text("SELECT id, redeemed_at FROM parking_tickets")).all())
    assert used[genk_id] == at and used[hasselt_id] is None
    assert hasselt.site_id == "HASSELT"


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM parking_tickets",
        "UPDATE parking_tickets SET redeemed_at = NULL",
        "SELECT sync_pull(0, 1, now(), now(), NULL)",
        "SELECT * FROM sync_push('[]'::jsonb)",
        "SELECT * FROM sync_exit_roles",
        "CREATE TEMP TABLE x (y int)",
    ],
)
def test_the_exit_role_can_do_nothing_else(
    pg_url: str, exit_centre: tuple[str, Engine], statement: str
) -> None:
    database = pg_url.rsplit("/", 1)[1]
    with (
        psycopg.connect(
            f"host=127.0.0.1 port=5432 user={exit_centre[0]} dbname={database}", autocommit=True
        ) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)


def test_add_kiosk_and_add_exit_refuse_each_others_and_foreign_roles(
    exit_centre: tuple[str, Engine], kiosk_role: Callable[[str], str]
) -> None:
    exit_role, admin = exit_centre
    kiosk = kiosk_role("kiosk_genk")
    central.add_kiosk(admin, kiosk, site_id="GENK", kiosk_id="GENK-1", kiosk_number=1)
    refusals: list[Any] = [
        (lambda: central.add_exit(admin, kiosk, site_id="GENK"), "is not an exit's"),
        (lambda: central.add_exit(admin, "postgres", site_id="GENK"), "is not an exit's"),
        (
            lambda: central.add_kiosk(
                admin, exit_role, site_id="GENK", kiosk_id="GENK-2", kiosk_number=2
            ),
            "is not a kiosk's",
        ),
    ]
    for call, words in refusals:
        with pytest.raises(central.RoleRefused, match=words):
            call()
    # Re-pointing its own exit role is allowed.
    central.add_exit(admin, exit_role, site_id="HASSELT")
