"""Putting the kiosk on a box: units, system user, directories, a starter configuration.

Everything is declarative where systemd offers it, so the same steps work on the live system and
inside a ``--root`` image (and in tests): the user comes from a ``sysusers.d`` file
(``systemd-sysusers``), the directories from a ``tmpfiles.d`` file (``systemd-tmpfiles``), and
the units are enabled with ``systemctl --root`` (symlinks only, no running systemd needed).
An existing configuration is never overwritten; the data directory survives an uninstall unless
``--purge`` is given.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

USER = "rehab-kiosk"
UNITS = (
    "rehab-kiosk.service",
    "rehab-kiosk-sync.service",
    "rehab-kiosk-daily.service",
    "rehab-kiosk-daily.timer",
)
ENABLED = ("rehab-kiosk.service", "rehab-kiosk-sync.service", "rehab-kiosk-daily.timer")
DEFAULT_EXEC = Path("/opt/rehab-kiosk/venv/bin/kiosk")
UNIT_DIR = Path("/etc/systemd/system")
CONFIG_DIR = Path("/etc/rehab-kiosk")
CONFIG_FILE = CONFIG_DIR / "kiosk.toml"
DATA_DIR = Path("/var/lib/rehab-kiosk")
SYSUSERS_FILE = Path("/etc/sysusers.d/rehab-kiosk.conf")
TMPFILES_FILE = Path("/etc/tmpfiles.d/rehab-kiosk.conf")
UDEV_FILE = Path("/etc/udev/rules.d/70-rehab-kiosk-printer.rules")
SIMULATOR_PACKAGE = "vsmartcard-vpcd"

SYSUSERS_TEXT = f'u {USER} - "Rehab check-in kiosk" {DATA_DIR} /usr/sbin/nologin\n'
TMPFILES_TEXT = f"""\
# The kiosk's data (databases, backups) is readable by its own user only.
d {DATA_DIR} 0700 {USER} {USER} -
d {DATA_DIR}/backups 0700 {USER} {USER} -
d {CONFIG_DIR} 0750 root {USER} -
"""
# USB printer-class interfaces (07/01) to the lp group, which the kiosk unit joins.
UDEV_TEXT = (
    'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ENV{ID_USB_INTERFACES}=="*:0701??:*", '
    'GROUP="lp", MODE="0660"\n'
)

STARTER_CONFIG = f"""\
# Rehab kiosk configuration. Fill in the values marked CHANGE, then: kiosk config check
# This file holds secrets: it must stay readable by {USER} only (mode 0600).
site_id = "GENK"                # CHANGE: the campus code
kiosk_id = "GENK-1"             # CHANGE: unique per kiosk
kiosk_number = 1                # CHANGE: 1 to 99, unique within the site
centre_name = "Ambulante Revalidatie"
data_dir = "{DATA_DIR}"
# CHANGE: the central PostgreSQL database (the kiosk keeps working while it is unreachable).
central_url = "postgresql+psycopg://rehab_kiosk@central-db.invalid/rehab"

[checkin]
opens_before_minutes = 45
closes_after_minutes = 20

[privacy]
# CHANGE: the centre's key of the national-number hash (the same on every kiosk), 64 hex digits.
lookup_key = ""

[parking]
signing_key = "K1"
grace_minutes = 60

[parking.keys]
# CHANGE: the parking key shared with the car park's barrier, 64 hex digits.
# K1 = "..."

[ui]
language = "nl"
result_timeout_seconds = 15

[devices]
reader = "pcsc"
reader_name = ""                # empty: the first reader pcscd reports
printer = "escpos"
printer_target = "usb:04b8:0202"  # CHANGE: your printer's USB ids (lsusb), or serial:/dev/ttyUSB0

[logging]
level = "INFO"

[backup]
keep = 14

[database]
# Name of the systemd credential holding the SQLCipher key (see the README); empty: plain file.
key_credential = ""
"""


class InstallError(RuntimeError):
    """The box cannot be set up as asked; one sentence saying why."""


@dataclass(frozen=True)
class Step:
    """One thing the installer does, described for ``--dry-run``."""

    description: str
    run: Callable[[], None]


def _under(root: Path, path: Path) -> Path:
    return root / path.relative_to("/")


def units_source() -> Traversable:
    """The unit files, package data of ``kiosk.box`` (``kiosk/box/units/``).

    Read through importlib.resources, so they are found the same way in a checkout, an editable
    install and a wheel installed on the box (they are the only copy of the units).
    """
    folder = resources.files("kiosk.box") / "units"
    missing = [unit for unit in UNITS if not (folder / unit).is_file()]
    if missing:
        raise InstallError(
            f"the unit files {', '.join(missing)} are missing from the installed kiosk "
            f"({folder}); reinstall it from a wheel built from the source tree"
        )
    return folder


def default_executable() -> Path:
    """The ``kiosk`` program of the running environment (falls back to the documented path)."""
    mine = Path(sys.prefix) / "bin" / "kiosk"
    return mine if mine.is_file() else DEFAULT_EXEC


def simulator_installed(root: Path) -> bool:
    """Whether dpkg says the virtual smart-card driver (vpcd) is installed under ``root``."""
    admindir = _under(root, Path("/var/lib/dpkg"))
    if not (admindir / "status").is_file():
        return False
    result = subprocess.run(
        [
            "dpkg-query",
            f"--admindir={admindir}",
            "-W",
            "-f=${db:Status-Status}",
            SIMULATOR_PACKAGE,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip() == "installed"


def _write(path: Path, text: str, mode: int) -> Callable[[], None]:
    def run() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(mode)

    return run


def _command(*argv: str) -> Callable[[], None]:
    def run() -> None:
        result = subprocess.run(list(argv), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise InstallError(f"`{' '.join(argv)}` failed: {detail}")

    return run


def _chown_config(path: Path, root: Path) -> Callable[[], None]:
    def run() -> None:
        uid, gid = _ids(root)
        if os.geteuid() == 0:
            os.chown(path, uid, gid)

    return run


def _ids(root: Path) -> tuple[int, int]:
    """The kiosk user's uid and gid from ``root``'s passwd file."""
    for line in _under(root, Path("/etc/passwd")).read_text(encoding="utf-8").splitlines():
        fields = line.split(":")
        if fields[0] == USER:
            return int(fields[2]), int(fields[3])
    raise InstallError(f"the user {USER} was not created in {root}/etc/passwd")


def unit_text(source: Traversable, executable: Path) -> str:
    """A unit file with its ExecStart pointed at ``executable``."""
    return source.read_text(encoding="utf-8").replace(str(DEFAULT_EXEC), str(executable))


def install_plan(root: Path, executable: Path) -> list[Step]:
    """The steps of ``kiosk install`` for the system under ``root``; raises InstallError early."""
    if simulator_installed(root):
        raise InstallError(
            f"{SIMULATOR_PACKAGE} is installed: its virtual reader listens on the network, so "
            f"this is not a production box (apt-get purge {SIMULATOR_PACKAGE} first)"
        )
    if executable.is_relative_to("/home") or executable.is_relative_to("/root"):
        raise InstallError(
            f"{executable} is under /home or /root, which the units hide (ProtectHome=); "
            f"install the kiosk in {DEFAULT_EXEC.parents[2]}"
        )
    source = units_source()
    steps = [
        Step(f"write {SYSUSERS_FILE}", _write(_under(root, SYSUSERS_FILE), SYSUSERS_TEXT, 0o644)),
        Step(
            f"create the system user {USER}",
            _command("systemd-sysusers", f"--root={root}", str(_under(root, SYSUSERS_FILE))),
        ),
        Step(f"write {TMPFILES_FILE}", _write(_under(root, TMPFILES_FILE), TMPFILES_TEXT, 0o644)),
        Step(
            f"create {CONFIG_DIR} and {DATA_DIR}",
            _command(
                "systemd-tmpfiles", f"--root={root}", "--create", str(_under(root, TMPFILES_FILE))
            ),
        ),
        Step(f"write {UDEV_FILE}", _write(_under(root, UDEV_FILE), UDEV_TEXT, 0o644)),
    ]
    config = _under(root, CONFIG_FILE)
    if config.exists():
        steps.append(Step(f"keep the existing {CONFIG_FILE}", lambda: None))
    else:
        steps += [
            Step(
                f"write a starter {CONFIG_FILE} (mode 0600)", _write(config, STARTER_CONFIG, 0o600)
            ),
            Step(f"give {CONFIG_FILE} to {USER}", _chown_config(config, root)),
        ]
    for unit in UNITS:
        target = _under(root, UNIT_DIR / unit)
        steps.append(
            Step(
                f"write {UNIT_DIR / unit}",
                _write(target, unit_text(source / unit, executable), 0o644),
            )
        )
    if root == Path("/") and Path("/run/systemd/system").is_dir():
        steps.append(Step("reload systemd", _command("systemctl", "daemon-reload")))
    steps.append(
        Step(
            f"enable {', '.join(ENABLED)}",
            _command("systemctl", f"--root={root}", "enable", *ENABLED),
        )
    )
    return steps


def uninstall_plan(root: Path, *, purge: bool) -> list[Step]:
    """The steps of ``kiosk uninstall``: units and system files; data and config with ``purge``."""
    steps: list[Step] = []
    present = [unit for unit in ENABLED if _under(root, UNIT_DIR / unit).exists()]
    if present:
        steps.append(
            Step(
                f"disable {', '.join(present)}",
                _command("systemctl", f"--root={root}", "disable", *present),
            )
        )
    running = root == Path("/") and Path("/run/systemd/system").is_dir()
    if running and present:
        steps.insert(0, Step("stop the kiosk's units", _command("systemctl", "stop", *UNITS)))
    for path in (*(UNIT_DIR / unit for unit in UNITS), TMPFILES_FILE, UDEV_FILE):
        target = _under(root, path)
        if target.exists():
            steps.append(Step(f"remove {path}", target.unlink))
    if running:
        steps.append(Step("reload systemd", _command("systemctl", "daemon-reload")))
    if purge:
        for folder in (CONFIG_DIR, DATA_DIR):
            target = _under(root, folder)
            if target.exists():
                steps.append(Step(f"remove {folder} and everything in it", _rmtree(target)))
    # The user stays (files it owned may remain, e.g. in backups copied elsewhere); its
    # sysusers.d file stays with it so a reinstall gets the same uid.
    return steps


def _rmtree(path: Path) -> Callable[[], None]:
    return lambda: shutil.rmtree(path)


def run_plan(steps: list[Step], *, dry_run: bool, say: Callable[[str], None]) -> None:
    """Print and (unless ``dry_run``) run each step in order; stops at the first failure."""
    for step in steps:
        say(("would " if dry_run else "") + step.description)
        if not dry_run:
            step.run()
