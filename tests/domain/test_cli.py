"""The headless commands as a person runs them: real processes, a real data directory."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.commands import first_expected, kiosk_env, run_kiosk
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
        (("checkin", "--national-number", "85073003328", "--at", "0001-01-01T00:00"), "2099-12-31"),
        (("checkin", "--national-number", "85073003328", "--at", "9999-12-31T23:59"), "2099-12-31"),
        (("register", "--date", "9999-12-31"), "days from 2000-01-01 to 2099-12-31"),
        (("close-day", "--date", "0001-01-01"), "days from 2000-01-01 to 2099-12-31"),
        (("parking", "verify", "010-0000-001-15", "--at", "0001-01-01T00:00"), "2099-12-31"),
        (("card", "read", "--timeout", "nan"), "seconds must be from 0 to"),
        (("card", "watch", "--duration", "1e300"), "seconds must be from 0 to"),
        (("card", "emulate", "--bank-card", "--port", "99999"), "a port is from 1 to 65535"),
        # A national number typed in the wrong place does not come back.
        (("today", "--date", "12345678901"), "'[national-number]' is not a date"),
        (("close-day", "--date", "yesterday"), "not a date"),
        (("demo-data", "--patients", "0"), "--patients"),
        (("frobnicate",), "invalid choice"),
        (("today", "--config"), "--config: expected one argument"),
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
    assert f"{programmes / 'bad.toml'}: programme.title: is missing" in done.stderr
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

    from kiosk.cli.main import COMMANDS, build_parser, command_modules, command_of

    for module, names in command_modules().items():
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).register(sub)
        assert tuple(sub.choices) == names, module
        helps = {action.dest: action.help for action in sub._choices_actions}
        assert helps == {name: COMMANDS[name][1] for name in names}, module
    # Each module's commands stand together in the table, so a module registering them all at
    # once keeps the table's order.
    owners = [module for module, _help in COMMANDS.values()]
    assert owners == sorted(owners, key=owners.index)
    # The help built from the table alone is the help built from every module.
    assert build_parser([]).format_help() == build_parser(None).format_help()
    assert command_of(["--config", "x.toml", "run", "--simulate"]) == "run"
    assert command_of(["today", "--config", "x.toml", "--json"]) == "today"
    assert command_of(["--help"]) is None
    assert command_of(["frobnicate"]) is None


IMPORTED = (
    "import sys; from kiosk.cli.main import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    "heavy = ('kiosk.cli.', 'kiosk.core.config', 'kiosk.programme', 'sqlalchemy', 'alembic',"
    " 'smartcard', 'textual', 'babel')\n"
    "print(' '.join(sorted(m for m in sys.modules if m.startswith(heavy))), file=sys.stderr)"
)


@pytest.mark.parametrize(
    ("args", "loaded"),
    [
        (("--help",), "kiosk.cli.main"),
        (("--version",), "kiosk.cli.main"),
        (("frobnicate",), "kiosk.cli.main"),
        (("today", "--help"), "kiosk.cli.common kiosk.cli.day kiosk.cli.main"),
    ],
)
def test_help_version_and_typos_import_no_command_module(
    tmp_path: Path, args: tuple[str, ...], loaded: str
) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", IMPORTED, *args],
        env=kiosk_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    modules = done.stderr.strip().splitlines()[-1].split()
    if args[0] == "today":
        # A command's own module (and what it needs) only, not the other commands' modules.
        assert [m for m in modules if m.startswith("kiosk.cli.")] == loaded.split()
    else:
        assert modules == loaded.split()


def test_config_is_taken_after_the_command_too(tmp_path: Path, demo_dir: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[checkin]\nopens_before_minutes = -5\n", encoding="utf-8")
    data = tmp_path / "data"
    for args in (("today", "--config", str(broken)), ("--config", str(broken), "today")):
        done = run_kiosk(data, *args)
        assert done.returncode == 2, args
        assert "[checkin] opens_before_minutes" in done.stderr, args
    # A nested command, and the last --config wins.
    config = demo_dir / "kiosk.toml"
    done = run_kiosk(data, "--config", str(broken), "config", "check", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"configuration ok: {config}\n"
    assert not data.exists()


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
    # A month ahead of the command's clock, inside the days the command takes at all.
    ahead = (
        dt.datetime.now(ZoneInfo("Europe/Brussels")).date() + dt.timedelta(days=30)
    ).isoformat()
    done = run_kiosk(demo_dir, "close-day", "--date", ahead)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"kiosk: a day that has not begun cannot be closed: {ahead}"
    ]
    assert written() == before
