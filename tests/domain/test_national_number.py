"""The national register number: check digits (both centuries), bis numbers, normalisation."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.be import bis as stdnum_bis
from stdnum.be import nn as stdnum_nn

from devices.eid.national_number import InvalidNationalNumber, is_valid, make, masked, parse


@pytest.mark.parametrize(
    ("text", "birth", "sex"),
    [
        ("85.07.30-033.28", dt.date(1985, 7, 30), "M"),  # the FOD's own example
        ("17073033870", dt.date(2017, 7, 30), "F"),  # born after 2000: the "2" prefix rule
        ("00010100105", dt.date(2000, 1, 1), "M"),
    ],
)
def test_valid_numbers(text: str, birth: dt.date, sex: str) -> None:
    digits, info = parse(text)
    assert len(digits) == 11 and digits.isdigit()
    assert info.birth_date == birth
    assert info.sex == sex
    assert not info.bis


def test_bis_number_with_month_plus_40() -> None:
    number = make(dt.date(1990, 3, 14), 12, bis=True)
    assert number[2:4] == "43"
    _, info = parse(number)
    assert info.bis and info.birth_date == dt.date(1990, 3, 14) and info.sex == "F"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("85073003329", "check digits"),
        ("8507300332", "11 digits"),
        ("85a73003328", "11 digits"),
        ("85133003370", "impossible birth date"),
        ("85003003398", "check digits"),
        ("", "11 digits"),
    ],
)
def test_invalid_numbers_say_why_without_repeating_the_number(text: str, why: str) -> None:
    with pytest.raises(InvalidNationalNumber, match=why) as caught:
        parse(text)
    if text:
        assert text not in str(caught.value)


# 01060300101 is valid; each of these looks like it to str.isdigit() or to a reader's eye.
ODD_DIGITS = [
    "0106030010¹",  # a superscript one: isdigit() is True, int() refuses it
    "０１０６０３００１０１",  # fullwidth: int() reads it as 01060300101
    "٠١٠٦٠٣٠٠١٠١",  # Arabic-Indic digits
    "01060300１01",  # one fullwidth digit among ASCII ones
    "010603001₀1",  # a subscript zero
]


@pytest.mark.parametrize("text", ODD_DIGITS)
def test_only_ascii_digits_make_a_number(text: str) -> None:
    assert is_valid("01060300101")
    with pytest.raises(InvalidNationalNumber) as caught:
        parse(text)
    assert str(caught.value) == "a national register number has 11 digits from 0 to 9"
    assert not is_valid(text)


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date.today()),
    st.integers(min_value=1, max_value=998),
    st.booleans(),
)
def test_every_made_number_parses_back(birth: dt.date, sequence: int, bis: bool) -> None:
    number = make(birth, sequence, bis=bis)
    digits, info = parse(number)
    assert digits == number
    assert info.birth_date == birth
    assert info.bis is bis
    assert masked(number).endswith(number[-2:]) and number[:9] not in masked(number)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_agrees_with_python_stdnum(number: str) -> None:
    assert is_valid(number) == (stdnum_nn.is_valid(number) or stdnum_bis.is_valid(number))
