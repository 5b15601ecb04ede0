"""The reception PIN: scrypt hash, and five wrong PINs lock it for five minutes."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from kiosk.core.clock import SettableClock
from kiosk.core.reception_pin import PinFormatError, PinGate, hash_pin, verify_pin

START = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)


def test_hash_verifies_and_is_salted() -> None:
    first, second = hash_pin("2580"), hash_pin("2580")
    assert first != second
    assert first.startswith("scrypt$")
    assert verify_pin("2580", first) and verify_pin("2580", second)
    assert not verify_pin("2581", first)
    assert not verify_pin("abcd", first)


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "", "١٢٣٤"])
def test_only_four_to_eight_digits(pin: str) -> None:
    with pytest.raises(PinFormatError):
        hash_pin(pin)


def test_damaged_hash_is_a_clear_error() -> None:
    with pytest.raises(PinFormatError):
        verify_pin("1234", "md5$abc")


def test_five_wrong_lock_for_five_minutes(caplog: pytest.LogCaptureFixture) -> None:
    clock = SettableClock(START, running=False)
    gate = PinGate(hash_pin("2580"), clock)
    answers = [gate.attempt("0000") for _ in range(5)]
    assert [a.attempts_left for a in answers] == [4, 3, 2, 1, 0]
    assert answers[-1].locked_until == START + dt.timedelta(minutes=5)
    assert not gate.attempt("2580").accepted  # locked: even the right PIN
    clock.advance(dt.timedelta(minutes=4, seconds=59))
    assert not gate.attempt("2580").accepted
    clock.advance(dt.timedelta(seconds=1))
    assert gate.attempt("2580").accepted
    lock_lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert lock_lines == ["reception PIN locked for 5 minutes after 5 wrong PINs"]
    assert all("0000" not in line and "2580" not in line for line in caplog.messages)


def test_right_pin_resets_the_count() -> None:
    gate = PinGate(hash_pin("2580"), SettableClock(START, running=False))
    for _ in range(4):
        gate.attempt("1111")
    assert gate.attempt("2580").accepted
    assert gate.attempt("1111").attempts_left == 4


def test_no_hash_configured_opens_nothing() -> None:
    gate = PinGate("", SettableClock(START, running=False))
    assert not gate.configured
    assert not gate.attempt("0000").accepted
