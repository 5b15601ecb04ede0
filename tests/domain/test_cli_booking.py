"""Reception's actions as commands: ``kiosk booking ...`` and ``kiosk enrolment resume``, run as
a technician would, on a demo centre of its own."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.commands import run_kiosk


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("demo")
    done = run_kiosk(data_dir, "demo-data", "--patients", "60")
    assert done.returncode == 0, done.stderr
    yield data_dir


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Brussels")).date()


def day_of(data_dir: Path, day: dt.date) -> list[dict[str, Any]]:
    done = run_kiosk(data_dir, "today", "--date", day.isoformat(), "--json")
    assert done.returncode == 0, done.stderr
    return [p for s in json.loads(done.stdout) for p in s["patients"]]


def status(data_dir: Path, day: dt.date, booking: str) -> str:
    (found,) = [p["status"] for p in day_of(data_dir, day) if p["booking_id"] == booking]
    return str(found)


def coming_expected(data_dir: Path) -> tuple[dt.date, list[str]]:
    """A coming day and the booking ids the demo expects on it (looked up, never written)."""
    for ahead in range(1, 8):
        day = today() + dt.timedelta(days=ahead)
        expected = [p["booking_id"] for p in day_of(data_dir, day) if p["status"] == "expected"]
        if len(expected) >= 2:
            return day, expected
    raise AssertionError("the demo expects nobody in the coming week")


def ok(data_dir: Path, *args: str) -> str:
    done = run_kiosk(data_dir, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def refused(data_dir: Path, *args: str) -> str:
    done = run_kiosk(data_dir, *args)
    assert done.returncode == 2, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_cancel_with_the_moment_of_the_call_and_undo_it(demo_dir: Path) -> None:
    day, (booking, *_) = coming_expected(demo_dir)
    # The call came long before: no fee, whenever it is typed.
    report = json.loads(
        ok(demo_dir, "booking", "cancel", booking, "--called-at", "2020-01-06T09:00", "--json")
    )
    assert report["fee_cents"] == 0 and report["called_at"].startswith("2020-01-06T08:00")
    assert status(demo_dir, day, booking) == "cancelled"
    assert refused(demo_dir, "booking", "cancel", booking) == (
        "kiosk: this booking is already cancelled"
    )
    assert (
        refused(demo_dir, "booking", "undo", booking) == "kiosk: kiosk booking undo needs --reason"
    )
    assert ok(demo_dir, "booking", "undo", booking, "--reason", "verkeerde patiënt") == (
        "cancellation undone\n"
    )
    assert status(demo_dir, day, booking) == "expected"


def test_admit_a_patient_and_undo_the_check_in(demo_dir: Path) -> None:
    day, expected = coming_expected(demo_dir)
    booking = expected[-1]
    report = json.loads(
        ok(demo_dir, "booking", "admit", booking, "--reason", "weekmaximum, arts akkoord", "--json")
    )
    assert report["short_code"] and report["late"] is False
    assert status(demo_dir, day, booking) == "arrived"
    assert ok(demo_dir, "booking", "undo", booking, "--reason", "verkeerde patiënt") == (
        "checkin undone\n"
    )
    assert status(demo_dir, day, booking) == "expected"


def test_excuse_undo_and_correct_an_absence_of_a_past_day(demo_dir: Path) -> None:
    for back in range(1, 61):  # the demo is made around the clock: look back far enough
        day = today() - dt.timedelta(days=back)
        ok(demo_dir, "close-day", "--date", day.isoformat())
        absent = [p["booking_id"] for p in day_of(demo_dir, day) if p["status"] == "absent"]
        if absent:
            break
    else:
        raise AssertionError("no absence in the past two months")
    booking = absent[0]
    assert ok(demo_dir, "booking", "excuse", booking, "--reason", "doktersbriefje") == (
        "absence excused\n"
    )
    assert status(demo_dir, day, booking) == "excused"
    assert ok(demo_dir, "booking", "undo", booking, "--reason", "briefje voor andere dag") == (
        "excuse undone\n"
    )
    assert status(demo_dir, day, booking) == "absent"
    assert ok(demo_dir, "booking", "present", booking, "--reason", "was er, kaart vergeten") == (
        "absence corrected: present\n"
    )
    assert status(demo_dir, day, booking) == "arrived"
    assert refused(demo_dir, "booking", "present", booking, "--reason", "again") == (
        "kiosk: there is no absence recorded for this booking"
    )


def test_resume_a_stopped_programme_on_the_physicians_decision(demo_dir: Path) -> None:
    stopped: set[str] = set()
    for back in range(0, 120):
        stopped = {
            p["enrolment_id"]
            for p in day_of(demo_dir, today() - dt.timedelta(days=back))
            if p["enrolment_status"] == "stopped"
        }
        if stopped:
            break
    assert stopped, "the demo has no stopped programme"
    enrolment = sorted(stopped)[0]
    report = json.loads(
        ok(demo_dir, "enrolment", "resume", enrolment, "--reason", "dr. Claes: verder", "--json")
    )
    assert report == {"enrolment_id": enrolment, "action": "resume", "done": "programme resumed"}
    assert refused(demo_dir, "enrolment", "resume", enrolment, "--reason", "again") == (
        "kiosk: this programme is not stopped"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("booking", "present", "no-such-id", "--reason", "x"), "kiosk: no such booking"),
        (("booking", "excuse", "no-such-id"), "kiosk: kiosk booking excuse needs --reason"),
        (
            ("booking", "excuse", "x", "--reason", "y", "--called-at", "2026-01-01T10:00"),
            "kiosk: --called-at goes with kiosk booking cancel only",
        ),
        (("enrolment", "resume", "no-such-id", "--reason", "x"), "kiosk: no such enrolment"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(
    demo_dir: Path, args: tuple[str, ...], message: str
) -> None:
    assert refused(demo_dir, *args) == message


def test_the_register_csv_escapes_a_name_a_spreadsheet_would_run(demo_dir: Path) -> None:
    day, expected = coming_expected(demo_dir)
    booking = expected[0]
    ok(demo_dir, "booking", "admit", booking, "--reason", "test van het register")
    formula = '=HYPERLINK("http://evil.example","Klik")'
    with sqlite3.connect(demo_dir / "kiosk.sqlite") as db:
        db.execute(
            "UPDATE patients SET last_name = ?, first_name = ? WHERE id = "
            "(SELECT patient_id FROM bookings WHERE id = ?)",
            (formula, "+Jan", booking),
        )
    register = ok(demo_dir, "register", "--date", day.isoformat(), "--csv")
    rows = [r for r in csv.DictReader(io.StringIO(register)) if r["first_name"] == "'+Jan"]
    assert [r["last_name"] for r in rows] == ["'" + formula]
    ok(demo_dir, "booking", "undo", booking, "--reason", "test voorbij")
