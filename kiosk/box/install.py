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
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from kiosk.box import console_font, credential
from kiosk.box.starter import starter_config

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
STARTER_CONFIG = starter_config(USER, DATA_DIR)

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


def _sealed(target: Path) -> Callable[[], None]:
    action = credential.seal(target)

    def run() -> None:
        try:
            action()
        except RuntimeError as exc:
            raise InstallError(str(exc)) from None

    return run


def _encryption_steps(root: Path, config: Path | None) -> list[Step]:
    """The sealed key, its drop-ins and ``key_credential`` in an existing ``config``."""
    live = root == Path("/") and Path("/run/systemd/system").is_dir()
    if not live:
        raise InstallError(
            "--encrypt-database seals the key with this machine's own TPM or host key: run it "
            "on the booted box, without --root"
        )
    if _under(root, DATA_DIR / "kiosk.sqlite").exists():
        raise InstallError(
            f"{DATA_DIR / 'kiosk.sqlite'} already exists: encrypt a fresh box only, before its "
            "first database is made"
        )
    steps = []
    if _under(root, credential.SEALED).exists():
        steps.append(Step(f"keep the sealed database key {credential.SEALED}", lambda: None))
    else:
        steps.append(
            Step(
                f"seal a new database key as {credential.SEALED} (TPM2 if the box has one)",
                _sealed(_under(root, credential.SEALED)),
            )
        )
    steps += [
        Step(
            f"write {credential.dropin(UNIT_DIR, unit)}",
            _write(credential.dropin(_under(root, UNIT_DIR), unit), credential.DROPIN_TEXT, 0o644),
        )
        for unit in credential.SERVICES
    ]
    if config is not None:
        text = credential.name_in_config(config.read_text(encoding="utf-8"))
        if text is None:
            raise InstallError(
                f'{CONFIG_FILE}: set [database] key_credential = "{credential.NAME}" by hand '
                "(the line is not the starter's)"
            )
        steps.append(
            Step(
                f'set [database] key_credential = "{credential.NAME}" in {CONFIG_FILE}',
                _write(config, text, 0o600),
            )
        )
    return steps


def _folders_step(root: Path) -> Step:
    """The folders from the tmpfiles.d file; as an ordinary user (into an image), unowned.

    Only root may give a folder to another user. Into an image, as the invoking user, the folders
    are made from a copy of the file without owners: the real file stays, and the box's
    systemd-tmpfiles-setup.service gives them to the kiosk's user at its first boot.
    """
    real = _under(root, TMPFILES_FILE)
    if os.geteuid() == 0:
        return Step(
            f"create {CONFIG_DIR} and {DATA_DIR}",
            _command("systemd-tmpfiles", f"--root={root}", "--create", str(real)),
        )

    def run() -> None:
        unowned = re.sub(r"^(d \S+ \d+) \S+ \S+", r"\1 - -", TMPFILES_TEXT, flags=re.MULTILINE)
        with tempfile.NamedTemporaryFile("w", suffix=".conf", encoding="utf-8") as copy:
            copy.write(unowned)
            copy.flush()
            _command("systemd-tmpfiles", f"--root={root}", "--create", copy.name)()

    return Step(
        f"create {CONFIG_DIR} and {DATA_DIR} (yours: not root, so systemd-tmpfiles gives them "
        f"to {USER} at the box's boot)",
        run,
    )


def install_plan(
    root: Path,
    executable: Path,
    *,
    font_size: str = console_font.DEFAULT_FONT_SIZE,
    encrypt_database: bool = False,
) -> list[Step]:
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
        _folders_step(root),
        Step(f"write {UDEV_FILE}", _write(_under(root, UDEV_FILE), UDEV_TEXT, 0o644)),
    ]
    config = _under(root, CONFIG_FILE)
    kept = config.exists()
    if kept:
        steps.append(Step(f"keep the existing {CONFIG_FILE}", lambda: None))
    else:
        starter = STARTER_CONFIG
        if encrypt_database:
            starter = credential.name_in_config(starter) or starter
        steps += [
            Step(f"write a starter {CONFIG_FILE} (mode 0600)", _write(config, starter, 0o600)),
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
    if encrypt_database:
        steps += _encryption_steps(root, config if kept else None)
    steps += [Step(text, run) for text, run in console_font.font_plan(root, font_size)]
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
    dropins = [credential.dropin(UNIT_DIR, unit) for unit in credential.SERVICES]
    for path in (*(UNIT_DIR / unit for unit in UNITS), *dropins, TMPFILES_FILE, UDEV_FILE):
        target = _under(root, path)
        if target.exists():
            steps.append(Step(f"remove {path}", target.unlink))
    steps += [
        Step(f"remove {path.parent} if empty", _rmdir_if_empty(_under(root, path)))
        for path in dropins
        if _under(root, path.parent).is_dir()
    ]
    steps += [Step(text, run) for text, run in console_font.restore_plan(root)]
    if running:
        steps.append(Step("reload systemd", _command("systemctl", "daemon-reload")))
    if purge:
        steps += _purge_steps(root, live=running)
    return steps


def _purge_steps(root: Path, *, live: bool) -> list[Step]:
    """Data, configuration, the sealed key and (on the live box) the user go too."""
    steps = []
    for folder in (CONFIG_DIR, DATA_DIR):
        target = _under(root, folder)
        if target.exists():
            steps.append(Step(f"remove {folder} and everything in it", _rmtree(target)))
    if _under(root, credential.SEALED).exists():
        steps.append(
            Step(
                f"remove the sealed database key {credential.SEALED}",
                _under(root, credential.SEALED).unlink,
            )
        )
    # Without --purge the user stays, its sysusers.d file with it, so a reinstall gets the same
    # uid for the data left behind. In an image (--root) userdel would need a chroot: it stays.
    if live and any(line.startswith(f"{USER}:") for line in _passwd(root)):
        steps.append(Step(f"remove the system user {USER}", _command("userdel", USER)))
        steps.append(Step(f"remove {SYSUSERS_FILE}", _under(root, SYSUSERS_FILE).unlink))
    # The folders install may have made for these files go too, when nothing else is in them.
    steps += [
        Step(f"remove {path.parent} if empty", _rmdir_if_empty(_under(root, path)))
        for path in (credential.SEALED, SYSUSERS_FILE)
        if _under(root, path.parent).is_dir()
    ]
    return steps


def _passwd(root: Path) -> list[str]:
    path = _under(root, Path("/etc/passwd"))
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


def _rmdir_if_empty(dropin: Path) -> Callable[[], None]:
    def run() -> None:
        folder = dropin.parent
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()

    return run


def _rmtree(path: Path) -> Callable[[], None]:
    return lambda: shutil.rmtree(path)


def run_plan(steps: list[Step], *, dry_run: bool, say: Callable[[str], None]) -> None:
    """Print and (unless ``dry_run``) run each step in order; stops at the first failure."""
    for step in steps:
        say(("would " if dry_run else "") + step.description)
        if not dry_run:
            step.run()
