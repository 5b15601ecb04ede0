"""The unit files: valid for systemd (``systemd-analyze verify``) and shaped as the box needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.box.install import DEFAULT_EXEC, UNITS, units_source

# The one copy of the units, where the installer itself reads them.
UNIT_DIR = units_source()


def _properties(unit: str) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit (keys may repeat, as DeviceAllow does)."""
    found: dict[str, list[str]] = {}
    for line in (UNIT_DIR / unit).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_every_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing: apt-get install systemd (Makefile APT_PACKAGES)")
    # verify insists that ExecStart exists: point the copies at this checkout's real kiosk.
    kiosk = Path(sys.prefix) / "bin" / "kiosk"
    assert kiosk.is_file()
    for unit in UNITS:
        text = (UNIT_DIR / unit).read_text(encoding="utf-8")
        (tmp_path / unit).write_text(text.replace(str(DEFAULT_EXEC), str(kiosk)), encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / unit) for unit in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Unknown keys and bad values are only warnings for verify: none may be printed.
    assert result.stderr.strip() == ""


def test_the_shipped_units_start_the_installed_kiosk() -> None:
    for unit in UNITS:
        for line in _properties(unit).get("ExecStart", []):
            assert line.startswith(f"{DEFAULT_EXEC} "), (unit, line)


def test_the_console_unit_gives_the_app_the_tty_on_all_three_streams() -> None:
    props = _properties("rehab-kiosk.service")
    assert props["StandardInput"] == ["tty-force"]
    assert props["StandardOutput"] == ["tty"]
    assert props["StandardError"] == ["tty"]
    assert props["TTYPath"] == ["/dev/tty1"]
    assert "KIOSK_LOG_TARGET=journal" in props["Environment"]
    assert props["Type"] == ["notify"]
    assert props["WatchdogSec"] == ["30"]
    assert "getty@tty1.service" in props["Conflicts"][0]
    assert "pcscd.socket" in props["After"][0]


@pytest.mark.parametrize("unit", [u for u in UNITS if u.endswith(".service")])
def test_every_service_is_hardened_and_writes_only_its_data(unit: str) -> None:
    props = _properties(unit)
    assert props["User"] == ["rehab-kiosk"]
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "ReadWritePaths": "/var/lib/rehab-kiosk",
    }.items():
        assert props[key] == [value], (unit, key)


def test_the_kiosk_may_open_the_tty_and_printer_and_nothing_else() -> None:
    props = _properties("rehab-kiosk.service")
    assert props["DevicePolicy"] == ["closed"]
    assert sorted(props["DeviceAllow"]) == [
        "/dev/tty1 rw",
        "char-ttyACM rw",
        "char-ttyUSB rw",
        "char-usb_device rw",
    ]
    assert props["Restart"] == ["on-failure"]


def test_the_network_jobs_wait_for_the_network() -> None:
    props = _properties("rehab-kiosk-sync.service")
    assert "network-online.target" in props["After"][0]
    assert "network-online.target" in props["Wants"][0]


def test_the_daily_timer_never_catches_up_the_next_morning() -> None:
    props = _properties("rehab-kiosk-daily.timer")
    assert "Persistent" not in props
    assert props["Unit"] == ["rehab-kiosk-daily.service"]
    assert props["OnCalendar"] == ["*-*-* 22:30:00 Europe/Brussels"]
