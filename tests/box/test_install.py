"""`kiosk install` / `kiosk uninstall` into a --root folder, with the real systemd tools."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.commands import KIOSK, run_kiosk

VPCD_INSTALLED = """Package: vsmartcard-vpcd
Status: install ok installed
Architecture: amd64
Version: 3.3+dfsg-2
Maintainer: Debian <debian@example.org>
Description: Smart card reader driver for PCSC-lite

"""


def _install(root: Path, program: Path, *extra: str) -> tuple[int, str, str]:
    result = run_kiosk(
        root / "unused-data", "install", "--root", str(root), "--exec", str(program), *extra
    )
    return result.returncode, result.stdout, result.stderr


def _uid_of(root: Path, user: str) -> int:
    for line in (root / "etc/passwd").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{user}:"):
            return int(line.split(":")[2])
    raise AssertionError(f"{user} not in passwd")


def test_install_puts_user_folders_config_and_enabled_units_in_place(
    tmp_path: Path, box_kiosk: Path
) -> None:
    code, out, err = _install(tmp_path, box_kiosk)
    assert code == 0, err
    # Only root can give the folders to the kiosk's user; an ordinary user (an image built
    # without sudo) keeps them, and the box's systemd-tmpfiles hands them over at boot.
    uid = _uid_of(tmp_path, "rehab-kiosk") if os.geteuid() == 0 else os.geteuid()
    data = tmp_path / "var/lib/rehab-kiosk"
    assert data.stat().st_uid == uid
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    config = tmp_path / "etc/rehab-kiosk/kiosk.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert config.stat().st_uid == uid
    tmpfiles = (tmp_path / "etc/tmpfiles.d/rehab-kiosk.conf").read_text(encoding="utf-8")
    assert "d /var/lib/rehab-kiosk 0700 rehab-kiosk rehab-kiosk -" in tmpfiles
    assert 'reader = "pcsc"' in config.read_text(encoding="utf-8")
    unit = (tmp_path / "etc/systemd/system/rehab-kiosk.service").read_text(encoding="utf-8")
    assert f"ExecStart={box_kiosk} run" in unit
    wants = tmp_path / "etc/systemd/system/multi-user.target.wants/rehab-kiosk.service"
    assert wants.is_symlink()
    assert (
        tmp_path / "etc/systemd/system/timers.target.wants/rehab-kiosk-daily.timer"
    ).is_symlink()
    assert "next: fill in" in out


def test_a_second_install_keeps_the_configuration(tmp_path: Path, box_kiosk: Path) -> None:
    assert _install(tmp_path, box_kiosk)[0] == 0
    config = tmp_path / "etc/rehab-kiosk/kiosk.toml"
    config.write_text("# edited by the technician\n", encoding="utf-8")
    code, out, _ = _install(tmp_path, box_kiosk)
    assert code == 0
    assert "keep the existing /etc/rehab-kiosk/kiosk.toml" in out
    assert config.read_text(encoding="utf-8") == "# edited by the technician\n"


def test_dry_run_changes_nothing(tmp_path: Path, box_kiosk: Path) -> None:
    code, out, _ = _install(tmp_path, box_kiosk, "--dry-run")
    assert code == 0
    assert "would create the system user rehab-kiosk" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_install_refuses_a_box_with_the_virtual_reader_driver(
    tmp_path: Path, box_kiosk: Path
) -> None:
    status = tmp_path / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text(VPCD_INSTALLED, encoding="utf-8")
    code, _out, err = _install(tmp_path, box_kiosk)
    assert code == 1
    assert "vsmartcard-vpcd is installed" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize("program", ["/home/tech/venv/bin/kiosk", "/root/venv/bin/kiosk"])
def test_install_refuses_a_kiosk_under_home(tmp_path: Path, program: str) -> None:
    result = run_kiosk(tmp_path, "install", "--root", str(tmp_path), "--exec", program)
    assert result.returncode == 1
    assert "ProtectHome" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_installed_program_is_this_kiosk(box_kiosk: Path) -> None:
    # What the units start answers as the checkout's own kiosk does.
    ours = subprocess.run([KIOSK, "--help"], capture_output=True, text=True, check=False)
    theirs = subprocess.run([box_kiosk, "--help"], capture_output=True, text=True, check=False)
    assert theirs.returncode == ours.returncode == 0
    assert theirs.stdout == ours.stdout


def test_uninstall_removes_units_and_keeps_data_unless_purged(
    tmp_path: Path, box_kiosk: Path
) -> None:
    assert _install(tmp_path, box_kiosk)[0] == 0
    result = run_kiosk(tmp_path / "unused", "uninstall", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "etc/systemd/system/rehab-kiosk.service").exists()
    assert not (
        tmp_path / "etc/systemd/system/multi-user.target.wants/rehab-kiosk.service"
    ).exists()
    assert (tmp_path / "etc/rehab-kiosk/kiosk.toml").exists()
    assert (tmp_path / "var/lib/rehab-kiosk").is_dir()
    result = run_kiosk(tmp_path / "unused", "uninstall", "--root", str(tmp_path), "--purge")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "etc/rehab-kiosk").exists()
    assert not (tmp_path / "var/lib/rehab-kiosk").exists()


def test_the_starter_configuration_is_refused_until_the_keys_are_filled_in(
    tmp_path: Path, box_kiosk: Path
) -> None:
    assert _install(tmp_path, box_kiosk)[0] == 0
    config = tmp_path / "etc/rehab-kiosk/kiosk.toml"
    result = run_kiosk(tmp_path, "--config", str(config), "config", "check")
    assert result.returncode == 2
    assert "[privacy] lookup_key is not set" in result.stderr


CONSOLE_SETUP = 'CHARMAP="UTF-8"\nCODESET="guess"\nFONTFACE="Fixed"\nFONTSIZE="8x16"\n'


def test_install_sets_a_large_console_font_and_uninstall_puts_the_old_one_back(
    tmp_path: Path, box_kiosk: Path
) -> None:
    setting = tmp_path / "etc/default/console-setup"
    setting.parent.mkdir(parents=True)
    setting.write_text(CONSOLE_SETUP, encoding="utf-8")
    code, out, err = _install(tmp_path, box_kiosk)
    assert code == 0, err
    text = setting.read_text(encoding="utf-8")
    assert 'FONTFACE="Terminus"\nFONTSIZE="16x32"\n' in text
    assert 'CODESET="guess"' in text
    assert "set the console font to Terminus 16x32" in out
    # A second install keeps the first saved copy: the original, not the kiosk's setting.
    assert _install(tmp_path, box_kiosk, "--console-font", "12x24")[0] == 0
    assert 'FONTSIZE="12x24"' in setting.read_text(encoding="utf-8")
    result = run_kiosk(tmp_path / "unused", "uninstall", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert setting.read_text(encoding="utf-8") == CONSOLE_SETUP
    assert not (tmp_path / "etc/default/console-setup.rehab-kiosk-saved").exists()


def test_without_console_setup_the_font_is_left_alone_and_said_so(
    tmp_path: Path, box_kiosk: Path
) -> None:
    code, out, _ = _install(tmp_path, box_kiosk)
    assert code == 0
    assert "apt-get install console-setup" in out
    assert not (tmp_path / "etc/default").exists()


def test_an_unknown_console_font_size_is_one_line(tmp_path: Path, box_kiosk: Path) -> None:
    code, _, err = _install(tmp_path, box_kiosk, "--console-font", "40x80")
    assert code == 2
    assert "--console-font" in err and "16x32" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_database_key_is_sealed_on_the_booted_box_only(tmp_path: Path, box_kiosk: Path) -> None:
    # Sealing uses this machine's TPM or host key; into an image it would seal for the wrong
    # machine (the real sealing runs in tests/box/boot/boot-test.sh, on a booted container).
    code, _, err = _install(tmp_path, box_kiosk, "--encrypt-database")
    assert code == 1
    assert "--encrypt-database" in err and "without --root" in err
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
