"""The simplified TLV parser and the card's date spellings."""

from __future__ import annotations

import datetime as dt

import pytest

from devices.eid import tlv
from devices.eid.dates import (
    MONTH_ABBREVIATIONS,
    format_birth_date,
    parse_birth_date,
    parse_validity_date,
)
from devices.eid.errors import CardDataError, TlvError


def test_parse_fields_and_padding() -> None:
    data = bytes.fromhex("01 03 414243 02 00 07 02 C3A9") + bytes(20)
    assert tlv.parse(data) == {0x01: b"ABC", 0x02: b"", 0x07: "é".encode()}


def test_zero_length_field_at_the_end_is_kept() -> None:
    # Tag 14 (member of family) is present with length 0; the padding after it is not a field.
    assert tlv.parse(bytes.fromhex("01 01 41 14 00 00 00")) == {0x01: b"A", 0x14: b""}


def test_tag_zero_before_content_is_a_field() -> None:
    assert tlv.parse(bytes.fromhex("00 01 02 01 01 41")) == {0x00: b"\x02", 0x01: b"A"}


@pytest.mark.parametrize("length", [0, 1, 254, 255, 256, 300, 510, 600])
def test_continuation_lengths_round_trip(length: int) -> None:
    value = bytes([0x41]) * length
    encoded = tlv.encode([(0x08, value)])
    assert tlv.parse(encoded) == {0x08: value}


def test_documented_length_form() -> None:
    assert tlv.encode_length(300) == bytes.fromhex("FF 2D")
    assert tlv.encode_length(255) == bytes.fromhex("FF 00")


@pytest.mark.parametrize(
    "data",
    ["01 05 4142", "01", "01 FF", "01 FF FF", "01 01 41 01 01 42"],
    ids=["value-past-end", "no-length", "length-cut", "continuation-cut", "repeated-tag"],
)
def test_malformed_is_refused(data: str) -> None:
    with pytest.raises(TlvError):
        tlv.parse(bytes.fromhex(data))


@pytest.mark.parametrize("language", sorted(MONTH_ABBREVIATIONS))
@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_in_every_language(language: str, month: int) -> None:
    date = dt.date(1999, month, 9)
    assert parse_birth_date(format_birth_date(date, language)).date == date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("26 AVR  1975", dt.date(1975, 4, 26)),
        ("23.SEP. 1982", dt.date(1982, 9, 23)),
        ("01.MÄR.2001", dt.date(2001, 3, 1)),
        ("01.MAR.2001", dt.date(2001, 3, 1)),
        ("5 FÉV 1960", dt.date(1960, 2, 5)),
        ("31 DEZ 1999", dt.date(1999, 12, 31)),
        ("15 AOÛT 1970", dt.date(1970, 8, 15)),
        ("12 mei 2004", dt.date(2004, 5, 12)),
    ],
)
def test_real_card_quirks(text: str, expected: dt.date) -> None:
    assert parse_birth_date(text).date == expected


def test_year_alone() -> None:
    birth = parse_birth_date("1950")
    assert (birth.year, birth.date, birth.isoformat()) == (1950, None, "1950")


@pytest.mark.parametrize(
    "text", ["", "30 FEB 1990", "12 XYZ 1990", "1 2 3 4", "12 JAN 90", "١٢ JAN 1990"]
)
def test_bad_birth_dates(text: str) -> None:
    with pytest.raises(CardDataError):
        parse_birth_date(text)


def test_validity_dates() -> None:
    assert parse_validity_date("01.02.2030") == dt.date(2030, 2, 1)
    for bad in ("1.2.2030", "31.02.2030", "01-02-2030", "٠١.٠٢.٢٠٣٠"):
        with pytest.raises(CardDataError):
            parse_validity_date(bad)
