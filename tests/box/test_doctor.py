"""`kiosk doctor`: the table, the JSON, and exit codes monitoring can rely on (0/1/2)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kiosk.box.doctor import Check, Status, exit_code, with_timeout
from tests.commands import run_kiosk
from tests.postgres import PostgresServer


def _doctor(data: Path, *args: str, **env: str) -> tuple[int, dict[str, dict[str, str]]]:
    result = run_kiosk(data, *args, "doctor", "--json", **env)
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.returncode
    return result.returncode, {c["name"]: c for c in report["checks"]}


def test_a_demo_box_works_with_warnings(demo_dir: Path) -> None:
    code, checks = _doctor(demo_dir)
    assert code == 1
    assert checks["configuration"]["status"] == "ok"
    assert checks["local database"]["status"] == "ok"
    assert "revision" in checks["local database"]["detail"]
    assert checks["card reader"]["status"] == "warning"
    assert checks["disk space"]["status"] == "ok"
    result = run_kiosk(demo_dir, "doctor")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].split() == ["CHECK", "STATUS", "DETAIL"]


def test_a_missing_database_is_a_failure(demo_dir: Path) -> None:
    (demo_dir / "kiosk.sqlite").unlink()
    code, checks = _doctor(demo_dir)
    assert code == 2
    assert checks["local database"]["status"] == "failure"


def test_a_bad_configuration_is_a_failure_naming_the_key(demo_dir: Path) -> None:
    config = demo_dir / "kiosk.toml"
    config.write_text(config.read_text() + "\n[backup]\nkeep = 0\n", encoding="utf-8")
    code, checks = _doctor(demo_dir)
    assert code == 2
    assert list(checks) == ["configuration"]
    assert "[backup] keep" in checks["configuration"]["detail"]


def test_a_readable_config_with_secrets_is_a_failure(demo_dir: Path) -> None:
    config = demo_dir / "kiosk.toml"
    config.chmod(0o644)
    code, checks = _doctor(demo_dir, "--config", str(config))
    assert code == 2
    assert "chmod 600" in checks["configuration"]["detail"]


def test_a_reader_without_pcscd_fails_within_the_time_limit(demo_dir: Path) -> None:
    config = demo_dir / "kiosk.toml"
    config.write_text(
        config.read_text().replace('reader = "simulated"', 'reader = "pcsc"'), encoding="utf-8"
    )
    code, checks = _doctor(demo_dir, PCSCLITE_CSOCK_NAME=str(demo_dir / "no-pcscd.comm"))
    assert code == 2
    assert checks["card reader"]["status"] == "failure"


@pytest.mark.postgres
def test_the_central_database_and_its_clock(demo_dir: Path, own_postgres: PostgresServer) -> None:
    # A server on this run's clock: the doctor compares the box's clock with the server's, and
    # the machine's server is on real time when the tests run under faketime.
    _code, checks = _doctor(demo_dir, KIOSK_CENTRAL_URL=own_postgres.url("postgres"))
    assert checks["central database"]["status"] == "ok", checks["central database"]
    assert "clock offset" in checks["central database"]["detail"]


def test_an_unreachable_central_database_is_only_a_warning(demo_dir: Path) -> None:
    _, checks = _doctor(
        demo_dir, KIOSK_CENTRAL_URL="postgresql+psycopg://postgres@127.0.0.1:9/none"
    )
    assert checks["central database"]["status"] == "warning"
    assert "unreachable" in checks["central database"]["detail"]


def test_a_hung_check_becomes_a_failure() -> None:
    started = time.monotonic()
    check = with_timeout("slow", lambda: time.sleep(3) or Check("slow", Status.OK, ""), 0.2)
    assert check.status is Status.FAILURE
    assert time.monotonic() - started < 1


def test_the_exit_code_is_the_worst_status() -> None:
    ok, warn, fail = (Check("x", s, "") for s in Status)
    assert exit_code([ok, ok]) == 0
    assert exit_code([ok, warn]) == 1
    assert exit_code([warn, fail, ok]) == 2
