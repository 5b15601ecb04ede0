"""The suite runs the same whatever ``KIOSK_*`` variables the machine has set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A test that runs kiosk commands in-process: without the root conftest it obeys
# $KIOSK_DATA_DIR and prints its tickets there.
WRITES_TICKETS = "tests/parking/test_cli.py::test_reprint_and_printer_status"


def test_no_kiosk_variable_reaches_the_tests() -> None:
    assert [name for name in os.environ if name.startswith("KIOSK_")] == []


def test_a_machine_with_kiosk_variables_set_changes_nothing(tmp_path: Path) -> None:
    machine = tmp_path / "machine"
    machine.mkdir()
    env = {
        **os.environ,
        "KIOSK_DATA_DIR": str(machine),
        "KIOSK_CONFIG": str(machine / "missing.toml"),
        "KIOSK_LOCAL_URL": f"sqlite:///{machine / 'kiosk.sqlite'}",
        "KIOSK_SITE_ID": "ELSEWHERE",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'inner'}",
            WRITES_TICKETS,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
    assert list(machine.iterdir()) == []
