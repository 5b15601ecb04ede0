"""The commands around the screens: pin-hash, and clear errors before any screen opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kiosk.reception_pin import verify_pin


def kiosk(*args: str, data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir), "KIOSK_CONFIG": ""}
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_pin_hash_prints_a_config_line(tmp_path: Path) -> None:
    run = kiosk("pin-hash", "--stdin", data_dir=tmp_path, stdin="2580\n")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "[reception]"
    stored = lines[1].removeprefix('pin_hash = "').removesuffix('"')
    assert verify_pin("2580", stored)


def test_pin_hash_refuses_a_bad_pin(tmp_path: Path) -> None:
    run = kiosk("pin-hash", "--stdin", data_dir=tmp_path, stdin="12\n")
    assert run.returncode == 2
    assert run.stderr.strip() == "kiosk: a PIN is 4 to 8 digits"


def test_run_without_a_database_says_what_to_do(tmp_path: Path) -> None:
    run = kiosk("run", "--simulate", data_dir=tmp_path)
    assert run.returncode == 2
    assert "kiosk demo-data" in run.stderr
    assert "Traceback" not in run.stderr


def test_reception_without_central_database_says_what_to_do(tmp_path: Path) -> None:
    run = kiosk("reception", data_dir=tmp_path)
    assert run.returncode == 2
    assert "--local" in run.stderr
    assert "Traceback" not in run.stderr


def test_demo_pin_hash_matches_the_demo_pin() -> None:
    from kiosk.cli.ui import DEMO_PIN, DEMO_PIN_HASH

    assert verify_pin(DEMO_PIN, DEMO_PIN_HASH)
