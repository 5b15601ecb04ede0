"""The commands around the screens: pin-hash, and clear errors before any screen opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.core.reception_pin import verify_pin
from tests.commands import run_kiosk


def test_pin_hash_prints_a_config_line(tmp_path: Path) -> None:
    run = run_kiosk(tmp_path, "pin-hash", "--stdin", stdin="2580\n")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "[reception]"
    stored = lines[1].removeprefix('pin_hash = "').removesuffix('"')
    assert verify_pin("2580", stored)


def test_pin_hash_refuses_a_bad_pin(tmp_path: Path) -> None:
    run = run_kiosk(tmp_path, "pin-hash", "--stdin", stdin="12\n")
    assert run.returncode == 2
    assert run.stderr.strip() == "kiosk: a PIN is 4 to 8 digits"


def test_run_without_a_database_says_what_to_do(tmp_path: Path) -> None:
    run = run_kiosk(tmp_path, "run", "--simulate")
    assert run.returncode == 2
    assert "kiosk demo-data" in run.stderr
    assert "Traceback" not in run.stderr


def test_reception_without_central_database_says_what_to_do(tmp_path: Path) -> None:
    run = run_kiosk(tmp_path, "reception")
    assert run.returncode == 2
    assert "--local" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    "stored",
    [
        "md5$abc",
        "scrypt$16384$8$1$zz$00",
        "scrypt$1048576$8$1$00112233445566778899aabbccddeeff$" + "00" * 32,
    ],
)
def test_a_damaged_pin_hash_is_refused_before_any_screen_opens(tmp_path: Path, stored: str) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[reception]\npin_hash = "{stored}"\n', encoding="utf-8")
    run = run_kiosk(tmp_path, "run", "--simulate", KIOSK_CONFIG=str(config))
    assert run.returncode == 2
    assert run.stderr.startswith(f"kiosk: {config}: [reception] pin_hash: the stored PIN hash")
    assert len(run.stderr.strip().splitlines()) == 1


def test_demo_pin_hash_matches_the_demo_pin() -> None:
    from kiosk.ui.factory import DEMO_PIN, DEMO_PIN_HASH

    assert verify_pin(DEMO_PIN, DEMO_PIN_HASH)
