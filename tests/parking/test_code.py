"""The code format of issue 4: the fixed vector, every field's edges, forgeries, short codes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.parking.code import (
    MalformedCode,
    Reason,
    ShortCode,
    TicketCode,
    check_digits,
    parse_payload,
    parse_short_code,
    secret_digits,
    short_code,
    tag,
    verify_payload,
)

UTC = dt.UTC
VECTOR_KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

# The README's test vector: anyone can recompute it, e.g. with
#   printf 'RK1:K1:GENK:0100000001:202603021100' | openssl dgst -sha256 -mac HMAC \
#     -macopt hexkey:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f -binary \
#     | base32 | cut -c1-16
VECTOR = TicketCode("K1", "GENK", 100000001, dt.datetime(2026, 3, 2, 11, 0, tzinfo=UTC))
VECTOR_PAYLOAD = "RK1:K1:GENK:0100000001:202603021100:ZWD4LN7OFUY2AN7R"
VECTOR_SHORT = "0100-0000-0137-7546"  # ticket 0100000001, secret 3775, check 46


def test_fixed_vector() -> None:
    assert VECTOR.message == "RK1:K1:GENK:0100000001:202603021100"
    assert VECTOR.payload(VECTOR_KEY) == VECTOR_PAYLOAD
    assert short_code(VECTOR.ticket_number, "GENK", VECTOR_KEY) == VECTOR_SHORT
    verdict = verify_payload(
        VECTOR_PAYLOAD, keys={"K1": VECTOR_KEY}, site_id="GENK", at=VECTOR.expires_at
    )
    assert verdict.valid and verdict.ticket == VECTOR


@pytest.mark.parametrize(
    "fields",
    [
        TicketCode("K", "A", 0, dt.datetime(2026, 1, 1, 0, 0, tzinfo=UTC)),
        TicketCode("ABCDEFGH", "ABCDEFGHIJ-12345", 9_999_999_999, VECTOR.expires_at),
        TicketCode("Z9", "-", 100000001, dt.datetime(2026, 12, 31, 23, 59, tzinfo=UTC)),
        TicketCode("K1", "GENK", 9_900_000_001, dt.datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
        TicketCode("K1", "GENK", 1, dt.datetime(2024, 2, 29, 12, 0, tzinfo=UTC)),
        # A Brussels time is carried as UTC: 00:30 local on 1 January is 23:30 UTC the day before.
        TicketCode(
            "K1",
            "GENK",
            1,
            dt.datetime(2027, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
    ],
    ids=["shortest", "longest", "year-end", "new-year-midnight", "leap-day", "local-time"],
)
def test_round_trip_at_every_edge(fields: TicketCode) -> None:
    payload = fields.payload(VECTOR_KEY)
    assert set(payload) <= QR_ALPHANUMERIC
    parsed, presented = parse_payload(payload)
    assert parsed == fields and parsed.expires_at.tzinfo == UTC
    assert presented == tag(fields.message, VECTOR_KEY)
    keys = {fields.key_id: VECTOR_KEY}
    assert verify_payload(payload, keys=keys, site_id=fields.site_id, at=fields.expires_at).valid


def test_local_expiry_is_written_in_utc() -> None:
    local = dt.datetime(2027, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert TicketCode("K1", "GENK", 1, local).expires_text == "202612312330"


def test_key_rotation() -> None:
    old_key, new_key = b"o" * 32, b"n" * 32
    old = TicketCode("OLD", "GENK", 5, VECTOR.expires_at).payload(old_key)
    new = TicketCode("NEW", "GENK", 6, VECTOR.expires_at).payload(new_key)
    both = {"OLD": old_key, "NEW": new_key}
    at = VECTOR.expires_at
    assert verify_payload(old, keys=both, site_id="GENK", at=at).valid
    assert verify_payload(new, keys=both, site_id="GENK", at=at).valid
    retired = verify_payload(old, keys={"NEW": new_key}, site_id="GENK", at=at)
    assert retired.reason is Reason.UNKNOWN_KEY


def test_expired_wrong_site_bad_tag() -> None:
    keys = {"K1": VECTOR_KEY}
    at = VECTOR.expires_at
    later = at + dt.timedelta(minutes=1)
    assert verify_payload(VECTOR_PAYLOAD, keys=keys, site_id="GENK", at=later).reason is (
        Reason.EXPIRED
    )
    assert verify_payload(VECTOR_PAYLOAD, keys=keys, site_id="HASSELT", at=at).reason is (
        Reason.WRONG_SITE
    )
    other_key = {"K1": b"x" * 32}
    assert verify_payload(VECTOR_PAYLOAD, keys=other_key, site_id="GENK", at=at).reason is (
        Reason.BAD_TAG
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        VECTOR_PAYLOAD.lower(),
        VECTOR_PAYLOAD + "\n",
        " " + VECTOR_PAYLOAD,
        "RK2" + VECTOR_PAYLOAD[3:],
        "RK1:K1:GENK:0100000001:202613021100:ZWD4LN7OFUY2AN7R",  # month 13
        "RK1:K1:GENK:0100000001:202602301100:ZWD4LN7OFUY2AN7R",  # 30 February
        "RK1:K1:GENK:100000001:202603021100:ZWD4LN7OFUY2AN7R",  # 9 digits
        "RK1:K1:GENK:0100000001:202603021100:ZWD4LN7OFUY2AN7",  # short tag
        "RK1:K1:GENK:0100000001:202603021100:ZWD4LN7OFUY2AN71",  # 1 is not base32
        "RK1:K1:GENK:0100000001:202603021100",
        "RK1:ABCDEFGHI:GENK:0100000001:202603021100:ZWD4LN7OFUY2AN7R",  # 9-character key id
        "RK1:K1:ABCDEFGHIJ-123456:0100000001:202603021100:ZWD4LN7OFUY2AN7R",  # 17-char site
        "RK1:K1:GENK:０100000001:202603021100:ZWD4LN7OFUY2AN7R",  # full-width digit
    ],
)
def test_malformed(text: str) -> None:
    verdict = verify_payload(text, keys={"K1": VECTOR_KEY}, site_id="GENK", at=VECTOR.expires_at)
    assert verdict.reason is Reason.MALFORMED


def _changes(text: str) -> st.SearchStrategy[str]:
    """Every text one character away from ``text``: one replaced, inserted or deleted."""
    chars = st.characters(codec="utf-8")
    position = st.integers(0, len(text) - 1)
    replaced = st.tuples(position, chars).map(lambda pc: text[: pc[0]] + pc[1] + text[pc[0] + 1 :])
    inserted = st.tuples(st.integers(0, len(text)), chars).map(
        lambda pc: text[: pc[0]] + pc[1] + text[pc[0] :]
    )
    deleted = position.map(lambda p: text[:p] + text[p + 1 :])
    return st.one_of(replaced, inserted, deleted).filter(lambda changed: changed != text)


@given(_changes(VECTOR_PAYLOAD))
def test_any_one_character_change_is_refused(changed: str) -> None:
    verdict = verify_payload(
        changed, keys={"K1": VECTOR_KEY, "K2": b"k" * 32}, site_id="GENK", at=VECTOR.expires_at
    )
    assert not verdict.valid


@pytest.mark.parametrize(
    ("digits", "check"),
    [("0" * 14, "97"), ("0" * 12 + "97", "97"), ("0" * 12 + "96", "01"), ("0" * 13 + "1", "96")],
)
def test_check_digits(digits: str, check: str) -> None:
    assert check_digits(digits) == check


@given(st.integers(0, 9_999_999_999), st.sampled_from(["GENK", "HASSELT"]))
def test_a_short_code_reads_back_as_its_ticket_and_secret(number: int, site: str) -> None:
    typed = parse_short_code(short_code(number, site, VECTOR_KEY))
    assert typed.ticket_number == number
    assert typed.matches(site, VECTOR_KEY)
    assert not typed.matches(site, b"another key" * 3)


def test_short_code_is_grouped_and_typed_loosely() -> None:
    assert short_code(9_999_999_999, "GENK", VECTOR_KEY).startswith("9999-9999-99")
    expected = ShortCode(100000001, "3775")
    assert parse_short_code("0100 0000 0137 7546") == expected
    assert parse_short_code("0100000001377546") == expected


def test_the_secret_digits_differ_between_neighbours_and_sites() -> None:
    # Sequential ticket numbers must not give guessable codes.
    secrets = {secret_digits(n, "GENK", VECTOR_KEY) for n in range(100000001, 100000201)}
    assert len(secrets) > 150
    assert secret_digits(100000001, "GENK", VECTOR_KEY) != secret_digits(
        100000001, "HASSELT", VECTOR_KEY
    )


@given(_changes(VECTOR_SHORT))
def test_short_code_typing_errors_are_caught(changed: str) -> None:
    # Dashes and spaces are for reading only: changing them changes nothing.
    if changed.replace("-", "").replace(" ", "") == VECTOR_SHORT.replace("-", ""):
        assert parse_short_code(changed).ticket_number == VECTOR.ticket_number
        return
    with pytest.raises(MalformedCode):
        parse_short_code(changed)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key_id": "k1"},
        {"key_id": "ABCDEFGHI"},
        {"site_id": "genk"},
        {"site_id": "A" * 17},
        {"ticket_number": 10**10},
        {"ticket_number": -1},
        {"expires_at": dt.datetime(2026, 3, 2, 11, 0)},
        {"expires_at": dt.datetime(2026, 3, 2, 11, 0, 30, tzinfo=UTC)},
    ],
)
def test_fields_that_cannot_be_written_are_refused(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "key_id": "K1",
        "site_id": "GENK",
        "ticket_number": 1,
        "expires_at": VECTOR.expires_at,
    }
    fields.update(kwargs)
    with pytest.raises(ValueError):
        TicketCode(**fields)  # type: ignore[arg-type]
