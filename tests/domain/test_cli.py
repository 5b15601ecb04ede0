"""The headless commands as a person runs them: real processes, a real data directory."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands import first_expected, run_kiosk
from tests.domain.test_national_number import ODD_DIGITS


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("demo")
    done = run_kiosk(data_dir, "demo-data", "--patients", "60", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["patients"] == 60
    assert len(list((data_dir / "cards").glob("card-*.json"))) == 60
    assert (data_dir / "kiosk.toml").stat().st_mode & 0o077 == 0
    yield data_dir


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("checkin", "--national-number", "12345678901"), "check digits"),
        (("checkin", "--national-number", "123"), "11 digits"),
        (("checkin", "--national-number", "85073003328", "--at", "2026-02-30T10:00"), "not a date"),
        (("today", "--date", "2026-13-01"), "not a date"),
        (("close-day", "--date", "yesterday"), "not a date"),
        (("demo-data", "--patients", "0"), "--patients"),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    done = run_kiosk(tmp_path, *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0]
    assert "Traceback" not in done.stderr
    assert "12345678901" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("number", ODD_DIGITS)
def test_a_number_in_odd_digits_is_one_sentence_and_leaves_no_trace(
    demo_dir: Path, number: str
) -> None:
    before = (demo_dir / "kiosk.sqlite").read_bytes()
    done = run_kiosk(demo_dir, "checkin", "--national-number", number, KIOSK_LOG_TARGET="file")
    assert done.returncode == 2
    assert done.stderr == "kiosk: a national register number has 11 digits from 0 to 9\n"
    assert (demo_dir / "kiosk.sqlite").read_bytes() == before
    log = demo_dir / "logs" / "kiosk.log"
    logged = log.read_text(encoding="utf-8") if log.exists() else ""
    assert number not in logged and "0106030010" not in logged


@pytest.mark.parametrize("number", ODD_DIGITS)
def test_the_import_refuses_a_number_in_odd_digits(demo_dir: Path, number: str) -> None:
    export = demo_dir / "odd-digits.csv"
    export.write_text(
        "national_number,first_name,last_name,birth_date,site_id,programme,enrolment_start,"
        f"kind,starts_at,ends_at,room,status\n{number},Zoë,Peeters,1985-07-30,GENK,"
        "rugrevalidatie,2026-02-01,individual,2026-03-02T09:00:00+01:00,"
        "2026-03-02T10:00:00+01:00,Zaal 1,booked\n",
        encoding="utf-8",
    )
    done = run_kiosk(demo_dir, "central", "import", str(export))
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert (
        line
        == f"kiosk: {export}: line 2: national_number: a national register number has 11 digits"
    )


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "kiosk.toml").write_text('site_id = "GENK"\n', encoding="utf-8")
    done = run_kiosk(tmp_path, "today")
    assert done.returncode == 2
    assert "no database at" in done.stderr and "kiosk demo-data" in done.stderr
    assert not (tmp_path / "kiosk.sqlite").exists()


def test_broken_config_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "kiosk.toml").write_text("[checkin]\nopens_before_minutes = -5\n", encoding="utf-8")
    done = run_kiosk(tmp_path, "today")
    assert done.returncode == 2
    assert "[checkin] opens_before_minutes" in done.stderr


def test_broken_programme_file_names_file_and_field(tmp_path: Path) -> None:
    programmes = tmp_path / "programmes"
    programmes.mkdir()
    (programmes / "bad.toml").write_text("[programme]\ncode = 'x'\n", encoding="utf-8")
    (tmp_path / "kiosk.toml").write_text(f'programmes_dir = "{programmes}"\n', encoding="utf-8")
    done = run_kiosk(tmp_path, "demo-data")
    assert done.returncode == 2
    assert f"{programmes / 'bad.toml'}: rules: is missing" in done.stderr
    assert not (tmp_path / "kiosk.sqlite").exists()


def test_checkin_json_today_and_register(demo_dir: Path) -> None:
    nn, at, day = first_expected(demo_dir)  # at: the session's start, in UTC
    done = run_kiosk(demo_dir, "checkin", "--national-number", nn, "--at", at + "+00:00", "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["outcome"] == "checked_in"
    assert outcome["session_start"].startswith(at)
    assert outcome["progress"]["number"] >= 1
    assert outcome["parking"]["payload"].startswith("RK1:K1:GENK:")
    again = run_kiosk(demo_dir, "checkin", "--national-number", nn, "--at", at + "+00:00", "--json")
    assert json.loads(again.stdout)["outcome"] == "already_checked_in"
    assert json.loads(again.stdout)["parking"] == outcome["parking"]

    today = json.loads(run_kiosk(demo_dir, "today", "--date", day, "--json").stdout)
    statuses = {p["national_number"]: p["status"] for s in today for p in s["patients"]}
    assert statuses[nn] == "arrived"
    assert {"start", "kind", "patients"} <= set(today[0])

    register = run_kiosk(demo_dir, "register", "--date", day, "--csv")
    rows = list(csv.DictReader(io.StringIO(register.stdout)))
    (row,) = [r for r in rows if r["national_number"] == nn]
    assert row["identity_method"] == "command"
    assert row["nomenclature_code"] in ("558994", "")


def test_refusal_exits_1(demo_dir: Path) -> None:
    done = run_kiosk(demo_dir, "checkin", "--national-number", "85073003328")
    assert done.returncode == 1
    assert "unknown_patient" in done.stdout and "please go to reception" in done.stdout


def test_the_command_table_matches_what_each_module_registers() -> None:
    import argparse
    import importlib

    from kiosk.cli.main import COMMAND_MODULES, modules_for

    for module, names in COMMAND_MODULES.items():
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).register(sub)
        assert tuple(sub.choices) == names, module
    assert modules_for(["--config", "x.toml", "run", "--simulate"]) == ("kiosk.cli.ui",)
    assert modules_for(["--help"]) == tuple(COMMAND_MODULES)
    assert modules_for(["frobnicate"]) == tuple(COMMAND_MODULES)


def test_alerts_are_listed_and_resolved_with_who_and_why(demo_dir: Path) -> None:
    import datetime as dt

    from sqlalchemy import select

    from kiosk.db.engine import make_engine, session_factory
    from kiosk.db.models import Alert, OutboxEvent
    from kiosk.domain.alerts import raise_alert

    engine = make_engine(f"sqlite:///{demo_dir / 'kiosk.sqlite'}")
    with session_factory(engine)() as db, db.begin():
        alert_id = raise_alert(
            db, now=dt.datetime.now(dt.UTC), kind="programme_stopped", site_id="GENK", message="m"
        ).id
    listed = json.loads(run_kiosk(demo_dir, "alerts", "--json").stdout)
    assert alert_id in [a["id"] for a in listed]
    done = run_kiosk(demo_dir, "alerts", "resolve", alert_id, "--reason", "physician: resume")
    assert done.returncode == 0, done.stderr
    assert alert_id not in [
        a["id"] for a in json.loads(run_kiosk(demo_dir, "alerts", "--json").stdout)
    ]
    again = run_kiosk(demo_dir, "alerts", "resolve", alert_id)
    assert (
        again.returncode == 2 and again.stderr.count("\n") == 1 and "no open alert" in again.stderr
    )
    with session_factory(engine)() as db:
        alert = db.get(Alert, alert_id)
        assert alert is not None and alert.resolution == "physician: resume"
        assert alert.resolved_by == "technician"
        kinds = list(db.scalars(select(OutboxEvent.kind).order_by(OutboxEvent.seq.desc()).limit(2)))
        assert kinds == ["alert_resolved", "alert"]
    engine.dispose()


def test_closing_a_day_that_has_not_begun_is_refused_in_one_sentence(demo_dir: Path) -> None:
    def written() -> tuple[int, int]:
        with sqlite3.connect(demo_dir / "kiosk.sqlite") as db:
            (absences,) = db.execute("SELECT count(*) FROM absences").fetchone()
            (audits,) = db.execute("SELECT count(*) FROM audit").fetchone()
        return absences, audits

    before = written()
    done = run_kiosk(demo_dir, "close-day", "--date", "2100-01-04")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "kiosk: a day that has not begun cannot be closed: 2100-01-04"
    ]
    assert written() == before
