"""Bookings the programme files no longer follow (a file removed, a session kind renamed after
the import): the day still shows every session and says which one it cannot follow and why; a
check-in for such a booking sends the patient to reception and raises one alert."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.programme.loader import SHIPPED
from tests.commands import run_kiosk
from tests.sync.importing import VALID_ROWS, csv_text, write_config

BRUSSELS = ZoneInfo("Europe/Brussels")


def _centre_with_nek_kort(tmp_path: Path, central_url: str) -> tuple[Path, str]:
    """A centre with a programme file of its own (nek-kort) and tomorrow's two sessions, one of
    nek-kort and one of a shipped programme; returns the file and tomorrow's date."""
    programmes_dir = tmp_path / "programmes"
    programmes_dir.mkdir()
    neck = (SHIPPED / "back-and-neck.toml").read_text(encoding="utf-8")
    new_file = programmes_dir / "nek-kort.toml"
    new_file.write_text(neck.replace('code = "back-and-neck"', 'code = "nek-kort"'), "utf-8")
    write_config(tmp_path, central_url, programmes_dir)
    assert run_kiosk(tmp_path, "central", "init").returncode == 0
    # Tomorrow in Brussels, whatever the date and time the test runs at (the kiosk pulls a
    # window around its own clock).
    tomorrow = (dt.datetime.now(BRUSSELS) + dt.timedelta(days=1)).date()
    day, started = tomorrow.isoformat(), (tomorrow - dt.timedelta(days=7)).isoformat()
    offset = dt.datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=BRUSSELS).strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"
    times = {"starts_at": f"{day}T09:00:00{offset}", "ends_at": f"{day}T10:00:00{offset}"}
    rows = [
        dict(VALID_ROWS[0], enrolment_start=started, **times),
        dict(VALID_ROWS[2], programme="nek-kort", enrolment_start=started, **times),
    ]
    export = tmp_path / "export.csv"
    export.write_text(csv_text(rows), encoding="utf-8")
    done = run_kiosk(tmp_path, "central", "import", str(export))
    assert (done.returncode, done.stderr) == (0, "")
    return new_file, day


def _day(tmp_path: Path, day: str, *options: str) -> list[dict[str, object]]:
    done = run_kiosk(tmp_path, "today", *options, "--date", day, "--json")
    assert (done.returncode, done.stderr) == (0, "")
    sessions: list[dict[str, object]] = json.loads(done.stdout)
    return sessions


def test_the_day_shows_every_session_when_a_programme_file_is_gone(
    central_url: str, tmp_path: Path
) -> None:
    new_file, day = _centre_with_nek_kort(tmp_path, central_url)
    assert {s["programme"]: s["problem"] for s in _day(tmp_path, day, "--central")} == {
        "rugrevalidatie": "",
        "nek-kort": "",
    }
    new_file.unlink()

    sessions = _day(tmp_path, day, "--central")
    problems = {s["programme"]: s["problem"] for s in sessions}
    assert problems == {
        "rugrevalidatie": "",
        "nek-kort": "programme nek-kort is in no programme file",
    }
    # The patients of the session it cannot follow are still listed.
    (bad,) = [s for s in sessions if s["problem"]]
    assert [p["last_name"] for p in bad["patients"]] == [VALID_ROWS[2]["last_name"]]  # type: ignore[index, union-attr]
    text = run_kiosk(tmp_path, "today", "--central", "--date", day)
    assert (text.returncode, text.stderr) == (0, "")
    assert "cannot follow this session: programme nek-kort is in no programme file" in text.stdout
    assert "Individual session (Zaal 1): 1 booked" in text.stdout


def test_a_renamed_session_kind_is_named_in_the_day(tmp_path: Path) -> None:
    new_file, day = _centre_with_nek_kort(tmp_path, f"sqlite:///{tmp_path / 'central.sqlite'}")
    new_file.write_text(new_file.read_text("utf-8").replace("core1", "core_one"), "utf-8")
    problems = {s["kind"]: s["problem"] for s in _day(tmp_path, day, "--central")}
    assert problems == {
        "individual": "",
        "core1": "session kind core1 is not in the file of programme nek-kort",
    }


def test_a_checkin_for_an_unknown_programme_goes_to_reception_with_one_alert(
    tmp_path: Path,
) -> None:
    new_file, day = _centre_with_nek_kort(tmp_path, f"sqlite:///{tmp_path / 'central.sqlite'}")
    pulled = run_kiosk(tmp_path, "sync", "--once")
    assert pulled.returncode == 0, pulled.stderr
    new_file.unlink()
    at = f"{day}T08:55"
    for _tap in range(2):
        refused = run_kiosk(
            tmp_path, "checkin", "--national-number", VALID_ROWS[2]["national_number"], "--at", at
        )
        assert (refused.returncode, refused.stderr) == (1, "")
        assert refused.stdout.startswith("outcome: programme_unknown\n")
        assert "please go to reception" in refused.stdout
    alerts = run_kiosk(tmp_path, "alerts", "--json")
    assert alerts.returncode == 0, alerts.stderr
    (alert,) = json.loads(alerts.stdout)
    assert alert["kind"] == "programme_unknown"
    assert "programme nek-kort is in no programme file" in alert["message"]
    # The other patient of the same day is checked in as ever.
    fine = run_kiosk(
        tmp_path, "checkin", "--national-number", VALID_ROWS[0]["national_number"], "--at", at
    )
    assert fine.returncode == 0, fine.stdout + fine.stderr
    # The kiosk's own day shows both sessions, the unknown one with its reason.
    problems = {s["programme"]: s["problem"] for s in _day(tmp_path, day)}
    assert problems == {
        "rugrevalidatie": "",
        "nek-kort": "programme nek-kort is in no programme file",
    }
