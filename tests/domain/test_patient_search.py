"""The birth date reception types to find a patient who forgot the card."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.patient_search import parse_birth_date


@pytest.mark.parametrize(
    "text", ["23/11/1970", "23-11-1970", "23.11.1970", "1970-11-23", " 23/11/1970 "]
)
def test_the_usual_spellings(text: str) -> None:
    assert parse_birth_date(text) == dt.date(1970, 11, 23)


@pytest.mark.parametrize(
    "text", ["", "23/11/1970¹", "２３/１１/１９７０", "31/02/1970", "23/11", "9" * 5000 + "/1/1"]
)
def test_what_is_no_date_is_none(text: str) -> None:
    assert parse_birth_date(text) is None


@given(st.text(alphabet=st.sampled_from(list("0123456789/.-¹²０٣ a")), max_size=16) | st.text())
def test_typing_never_raises(text: str) -> None:
    day = parse_birth_date(text)
    assert day is None or isinstance(day, dt.date)
