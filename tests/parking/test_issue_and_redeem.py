"""Issuing inside the check-in transaction, then verifying and redeeming against the database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kiosk.core.config import ParkingSettings, Settings
from kiosk.db.models import ParkingTicket
from kiosk.domain.parking.code import (
    Reason,
    check_digits,
    parse_payload,
    parse_short_code,
    short_code,
)
from kiosk.domain.parking.issue import expiry, issue_ticket, ticket_short_code
from kiosk.domain.parking.keys import ParkingNotConfigured
from kiosk.domain.parking.verify import redeem, verify

END = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
NOW = END - dt.timedelta(hours=2)


def _issue(
    sessions: sessionmaker[Session], settings: Settings, booking_id: str, end: dt.datetime = END
) -> ParkingTicket:
    with sessions() as db, db.begin():
        return issue_ticket(db, settings=settings, booking_id=booking_id, session_end=end, now=NOW)


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as db:
        return db.scalar(select(func.count()).select_from(ParkingTicket)) or 0


def test_issue_numbers_sign_and_expire(
    sessions: sessionmaker[Session], settings: Settings, new_booking: Callable[..., str]
) -> None:
    first = _issue(sessions, settings, new_booking())
    second = _issue(sessions, settings, new_booking())
    assert (first.ticket_number, second.ticket_number) == (100000001, 100000002)
    assert first.expires_at == END + dt.timedelta(minutes=60)
    assert first.key_id == "K1" and first.issued_at == NOW
    fields, _ = parse_payload(first.payload)
    assert (fields.site_id, fields.ticket_number, fields.expires_at) == (
        "GENK",
        100000001,
        first.expires_at,
    )
    verdict = verify(first.payload, keys=settings.parking.keys, site_id="GENK", at=first.expires_at)
    assert verdict.valid


def test_kiosks_of_one_site_never_collide(
    sessions: sessionmaker[Session], settings: Settings, new_booking: Callable[..., str]
) -> None:
    kiosk_7 = dataclasses.replace(settings, kiosk_id="GENK-7", kiosk_number=7)
    numbers = [
        _issue(sessions, settings, new_booking()).ticket_number,
        _issue(sessions, kiosk_7, new_booking()).ticket_number,
        _issue(sessions, settings, new_booking()).ticket_number,
        _issue(sessions, kiosk_7, new_booking()).ticket_number,
    ]
    assert numbers == [100000001, 700000001, 100000002, 700000002]


def test_a_repeated_tap_gets_the_same_ticket(
    sessions: sessionmaker[Session], settings: Settings, new_booking: Callable[..., str]
) -> None:
    booking = new_booking()
    first = _issue(sessions, settings, booking)
    again = _issue(sessions, settings, booking, end=END + dt.timedelta(hours=5))
    assert again.id == first.id and again.payload == first.payload
    assert _count(sessions) == 1


def test_issuing_never_commits(
    sessions: sessionmaker[Session], settings: Settings, new_booking: Callable[..., str]
) -> None:
    booking = new_booking()
    with sessions() as db:
        db.begin()
        issue_ticket(db, settings=settings, booking_id=booking, session_end=END, now=NOW)
        db.rollback()
    assert _count(sessions) == 0


@pytest.mark.parametrize(
    "changes",
    [{"parking": ParkingSettings()}, {"site_id": "Genk campus"}],
    ids=["no-signing-key", "site-id-not-codable"],
)
def test_unusable_configuration_is_a_clear_error(
    sessions: sessionmaker[Session],
    settings: Settings,
    booking_in: Callable[..., str],
    changes: dict[str, object],
) -> None:
    broken = dataclasses.replace(settings, **changes)  # type: ignore[arg-type]
    with sessions() as db, db.begin():
        booking = booking_in(db)
        with pytest.raises(ParkingNotConfigured):
            issue_ticket(db, settings=broken, booking_id=booking, session_end=END, now=NOW)
        # Nothing was added: the engine can carry on with the check-in.
        assert not db.new


@pytest.mark.parametrize(
    ("end", "grace", "expected"),
    [
        (END, 60, END + dt.timedelta(hours=1)),
        (END + dt.timedelta(seconds=1), 0, END + dt.timedelta(minutes=1)),
        (
            dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC),
            60,
            dt.datetime(2027, 1, 1, 0, 30, tzinfo=dt.UTC),
        ),
    ],
)
def test_expiry_is_session_end_plus_grace_rounded_up(
    end: dt.datetime, grace: int, expected: dt.datetime
) -> None:
    assert expiry(end, grace) == expected


def test_short_code_is_checked_in_the_database(
    sessions: sessionmaker[Session], settings: Settings, new_booking: Callable[..., str]
) -> None:
    ticket = _issue(sessions, settings, new_booking())
    keys = settings.parking.keys
    code = ticket_short_code(ticket, keys)
    with sessions() as db:
        assert verify(code, keys=keys, site_id="GENK", at=NOW, db=db).valid
        unknown = short_code(ticket.ticket_number + 1, "GENK", keys[ticket.key_id])
        assert verify(unknown, keys=keys, site_id="GENK", at=NOW, db=db).reason is (
            Reason.UNKNOWN_TICKET
        )
        # The issued number with guessed secret digits (and check digits that fit) is answered
        # exactly like a number never issued: guessing learns nothing.
        for guess in ("0000", "1234", "9999"):
            body = f"{ticket.ticket_number:010d}{guess}"
            if parse_short_code(code).secret == guess:
                continue
            guessed = verify(body + check_digits(body), keys=keys, site_id="GENK", at=NOW, db=db)
            assert guessed.reason is Reason.UNKNOWN_TICKET and guessed.ticket is None
        late = ticket.expires_at + dt.timedelta(minutes=1)
        assert verify(code, keys=keys, site_id="GENK", at=late, db=db).reason is Reason.EXPIRED
        typo = code[:-1] + ("0" if code[-1] != "0" else "1")
        assert verify(typo, keys=keys, site_id="GENK", at=NOW, db=db).reason is Reason.MALFORMED
    offline = verify(code, keys=keys, site_id="GENK", at=NOW)
    assert offline.reason is Reason.UNKNOWN_TICKET


@pytest.mark.parametrize("form", ["payload", "short"])
def test_double_redeem_is_refused_with_the_first_time(
    sessions: sessionmaker[Session],
    settings: Settings,
    new_booking: Callable[..., str],
    form: str,
) -> None:
    ticket = _issue(sessions, settings, new_booking())
    code = ticket.payload if form == "payload" else ticket_short_code(ticket, settings.parking.keys)
    keys = settings.parking.keys
    first_use = END + dt.timedelta(minutes=10)
    with sessions() as db, db.begin():
        assert redeem(db, code, keys=keys, site_id="GENK", at=first_use).valid
    with sessions() as db, db.begin():
        again = redeem(db, code, keys=keys, site_id="GENK", at=first_use + dt.timedelta(minutes=1))
        assert again.reason is Reason.ALREADY_USED and again.redeemed_at == first_use
        # Used wins over expired: the answer says what happened.
        late = ticket.expires_at + dt.timedelta(days=1)
        checked = verify(code, keys=keys, site_id="GENK", at=late, db=db)
        assert checked.reason is Reason.ALREADY_USED


def test_redeem_refuses_a_valid_code_this_database_does_not_hold(
    sessions: sessionmaker[Session], settings: Settings, new_booking: Callable[..., str]
) -> None:
    ticket = _issue(sessions, settings, new_booking())
    with sessions() as db, db.begin():
        db.delete(db.get(ParkingTicket, ticket.id))
    with sessions() as db, db.begin():
        verdict = redeem(db, ticket.payload, keys=settings.parking.keys, site_id="GENK", at=NOW)
    assert verdict.reason is Reason.UNKNOWN_TICKET
