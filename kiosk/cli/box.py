"""Commands for the kiosk box: install, uninstall, doctor, backup, restore, config check."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from kiosk.box import backup as backups
from kiosk.box import doctor
from kiosk.box.console_font import DEFAULT_FONT_SIZE, FONT_SIZES
from kiosk.box.install import (
    InstallError,
    default_executable,
    install_plan,
    run_plan,
    uninstall_plan,
)
from kiosk.box.permissions import config_file_problems
from kiosk.cli.common import CommandError, UsageError, print_json, settings
from kiosk.core.config import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = sub.add_parser("install", help="install the systemd units, user, folders and config")
    p.add_argument("--dry-run", action="store_true", help="print the steps, change nothing")
    p.add_argument("--root", type=Path, default=Path("/"), help="install into this root folder")
    p.add_argument(
        "--exec",
        dest="executable",
        type=Path,
        help="the kiosk program the units start (default: this one)",
    )
    p.add_argument(
        "--encrypt-database",
        action="store_true",
        help="seal a new SQLCipher key as a systemd credential (TPM2 if present) and use it",
    )
    p.add_argument(
        "--console-font",
        choices=FONT_SIZES,
        default=DEFAULT_FONT_SIZE,
        metavar="SIZE",
        help=f"the console's Terminus font, width x height ({', '.join(FONT_SIZES)}; "
        f"default {DEFAULT_FONT_SIZE}: 120x33 cells at 1920x1080)",
    )
    p.set_defaults(handler=cmd_install)

    p = sub.add_parser("uninstall", help="remove the units (data and config stay without --purge)")
    p.add_argument("--dry-run", action="store_true", help="print the steps, change nothing")
    p.add_argument("--root", type=Path, default=Path("/"), help="uninstall from this root folder")
    p.add_argument("--purge", action="store_true", help="also delete the configuration and data")
    p.set_defaults(handler=cmd_uninstall)

    p = sub.add_parser("doctor", help="check config, database, reader, printer, central, disk")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_doctor)

    p = sub.add_parser("backup", help="back up the kiosk database (safe while the kiosk runs)")
    p.add_argument("--keep", type=int, help="how many backups to keep (default: [backup] keep)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser("restore", help="put a backup back as the kiosk database")
    p.add_argument("file", type=Path, metavar="FILE")
    p.set_defaults(handler=cmd_restore)

    p = sub.add_parser("config", help="the configuration file")
    config_sub = p.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate the configuration and its permissions")
    check.set_defaults(handler=cmd_config_check)


def _root(args: argparse.Namespace) -> Path:
    root: Path = args.root.resolve()
    if not root.is_dir():
        raise UsageError(f"--root {args.root} is not a folder")
    if root == Path("/") and not args.dry_run and os.geteuid() != 0:
        raise CommandError("installing on this system needs root (sudo kiosk ...)")
    return root


def cmd_install(args: argparse.Namespace) -> int:
    """Set the box up for the kiosk; prints each step."""
    root = _root(args)
    executable: Path = args.executable or default_executable()
    try:
        plan = install_plan(
            root,
            executable,
            font_size=args.console_font,
            encrypt_database=args.encrypt_database,
        )
        run_plan(plan, dry_run=args.dry_run, say=print)
    except InstallError as exc:
        raise CommandError(str(exc)) from None
    if not args.dry_run:
        print(
            "next: fill in /etc/rehab-kiosk/kiosk.toml, run `kiosk config check` and "
            "`kiosk doctor`, then `systemctl start rehab-kiosk`"
        )
    return 0


def cmd_uninstall(args: argparse.Namespace) -> int:
    """Remove what install put in place."""
    root = _root(args)
    try:
        run_plan(uninstall_plan(root, purge=args.purge), dry_run=args.dry_run, say=print)
    except (InstallError, OSError) as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print the health table; the exit code is 0 ok, 1 warning, 2 failure."""
    checks = doctor.diagnose(getattr(args, "config", None))
    code = doctor.exit_code(checks)
    if args.json:
        print_json(
            {
                "exit_code": code,
                "checks": [
                    {"name": c.name, "status": c.status.name.lower(), "detail": c.detail}
                    for c in checks
                ],
            }
        )
    else:
        print(doctor.table(checks))
    return code


def cmd_backup(args: argparse.Namespace) -> int:
    """Make one backup and drop the oldest beyond the keep count."""
    if args.keep is not None and args.keep < 1:
        raise UsageError("--keep must be at least 1")
    cfg = settings(args)
    try:
        path = backups.backup(cfg, keep=args.keep)
    except backups.BackupError as exc:
        raise UsageError(str(exc)) from None
    kept = backups.list_backups(path.parent)
    if args.json:
        print_json({"backup": str(path), "kept": len(kept)})
    else:
        print(f"backup: {path} ({len(kept)} kept)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace the kiosk database with a checked backup (a safety copy is made first)."""
    cfg = settings(args)
    try:
        safety = backups.restore(cfg, args.file)
    except backups.BackupError as exc:
        raise UsageError(str(exc)) from None
    print(f"restored {args.file}")
    if safety is not None:
        print(f"the replaced database was saved as {safety}")
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    """Validate the configuration (every value and the file's permissions) and the programme
    files it names; a problem is one line naming the file and the key, exit code 2."""
    cfg = settings(args)
    # The programmes are configuration too: a broken file must not wait for the first check-in.
    from kiosk.programme import load_programmes

    load_programmes(cfg.programmes_dir)
    if cfg.source is None:
        print("no configuration file: built-in defaults (run `kiosk demo-data` or `kiosk install`)")
        return 0
    problems = config_file_problems(cfg.source)
    if problems:
        raise ConfigError(f"{cfg.source}: {problems[0]}")
    cfg.require_lookup_key()
    print(f"configuration ok: {cfg.source}")
    return 0
