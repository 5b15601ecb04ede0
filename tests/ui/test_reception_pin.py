"""The reception PIN: scrypt hash; five wrong PINs lock it for five minutes, then ten, twenty...,
and the lockout survives a restart."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

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
    assert lock_lines == [
        "reception PIN locked for 5 minutes after 5 wrong PINs (lockout 1 in a row)"
    ]
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


def lock(gate: PinGate) -> dt.datetime:
    """Five wrong PINs; the end of the lockout they cause."""
    answers = [gate.attempt("0000") for _ in range(5)]
    assert answers[-1].locked_until is not None
    return answers[-1].locked_until


def test_the_lockout_survives_a_restart(tmp_path: Path) -> None:
    clock = SettableClock(START, running=False)
    state, stored = tmp_path / "reception-pin.json", hash_pin("2580")
    gate = PinGate(stored, clock, state)
    for _ in range(3):
        gate.attempt("0000")
    # The plug is pulled: the new gate remembers the three wrong PINs...
    again = PinGate(stored, clock, state)
    assert again.attempt("0000").attempts_left == 1
    assert again.attempt("0000").locked_until == START + dt.timedelta(minutes=5)
    # ... and a lockout in progress.
    assert PinGate(stored, clock, state).locked_until() == START + dt.timedelta(minutes=5)
    assert not PinGate(stored, clock, state).attempt("2580").accepted


def test_each_lockout_in_a_row_lasts_twice_as_long_until_the_right_pin(tmp_path: Path) -> None:
    clock = SettableClock(START, running=False)
    gate = PinGate(hash_pin("2580"), clock, tmp_path / "reception-pin.json")
    lengths = []
    for _ in range(8):
        until = lock(gate)
        lengths.append((until - clock.now()).total_seconds() / 60)
        clock.set(until)
    assert lengths == [5, 10, 20, 40, 80, 160, 240, 240]
    assert gate.attempt("2580").accepted
    assert (lock(gate) - clock.now()) == dt.timedelta(minutes=5)


def test_a_damaged_record_locks_rather_than_opens(tmp_path: Path) -> None:
    clock = SettableClock(START, running=False)
    state = tmp_path / "reception-pin.json"
    for damage in ("{", '{"failures": "x"}', '{"failures": 0, "lockouts": 0, "locked_until": 3}'):
        state.write_text(damage, encoding="utf-8")
        gate = PinGate(hash_pin("2580"), clock, state)
        assert gate.locked_until() == START + dt.timedelta(minutes=5)
    # A lockout written under a clock far ahead is held to the longest one.
    state.write_text(
        '{"failures": 0, "lockouts": 9, "locked_until": "2099-01-01T00:00:00+00:00"}',
        encoding="utf-8",
    )
    assert PinGate(hash_pin("2580"), clock, state).locked_until() == START + dt.timedelta(hours=4)


def test_an_unwritable_record_still_lets_reception_in(tmp_path: Path) -> None:
    clock = SettableClock(START, running=False)
    gate = PinGate(hash_pin("2580"), clock, tmp_path / "missing" / "reception-pin.json")
    assert gate.attempt("0000").attempts_left == 4
    assert gate.attempt("2580").accepted
