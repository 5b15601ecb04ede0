"""``kiosk central``: the central database's schema, kiosk roles and the scheduling import."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk.cli.common import CommandError, UsageError, settings
from kiosk.programme import load_programmes
from sync import api as central


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``kiosk central``."""
    p = sub.add_parser("central", help="the central database")
    actions = p.add_subparsers(dest="central_command", required=True)
    init = actions.add_parser("init", help="create or upgrade the central schema and security")
    init.set_defaults(handler=cmd_init)
    role = actions.add_parser("add-kiosk", help="a PostgreSQL login role for one kiosk")
    role.add_argument("role", help="role name, e.g. kiosk_genk_1")
    role.add_argument("--site", required=True, help="the site the kiosk belongs to")
    role.add_argument("--kiosk-id", required=True, help="the kiosk's id, e.g. GENK-1")
    role.add_argument(
        "--kiosk-number",
        required=True,
        type=int,
        help="its kiosk_number (1 to 99, unique within the site: its tickets' first digits)",
    )
    role.set_defaults(handler=cmd_add_kiosk)
    door = actions.add_parser(
        "add-exit", help="a PostgreSQL login role for a car park exit: verify and redeem only"
    )
    door.add_argument("role", help="role name, e.g. exit_genk")
    door.add_argument("--site", required=True, help="the site whose tickets it verifies")
    door.set_defaults(handler=cmd_add_exit)
    imp = actions.add_parser("import", help="import patients, enrolments and bookings")
    imp.add_argument(
        "file", type=Path, help="a FHIR Bundle of Appointments (.json) or a CSV (see README)"
    )
    imp.set_defaults(handler=cmd_import)


def cmd_init(args: argparse.Namespace) -> int:
    """Migrate the central database, make the kiosk and exit roles' functions on PostgreSQL,
    and store the programmes of the programme files."""
    cfg = settings(args)
    programmes = load_programmes(cfg.programmes_dir)
    try:
        central.init_at(cfg.central_url, programmes)
    except (central.CentreUnreachable, central.OwnerLacks) as exc:
        raise CommandError(str(exc)) from None
    print("central database ready")
    return 0


def cmd_add_kiosk(args: argparse.Namespace) -> int:
    """Create a kiosk's role."""
    cfg = settings(args)
    try:
        central.add_kiosk_at(
            cfg.central_url,
            args.role,
            site_id=args.site,
            kiosk_id=args.kiosk_id,
            kiosk_number=args.kiosk_number,
        )
    except central.RoleRefused as exc:
        raise UsageError(str(exc)) from None
    except central.CentreUnreachable as exc:
        raise CommandError(str(exc)) from None
    print(f"role {args.role} may sync site {args.site}")
    return 0


def cmd_add_exit(args: argparse.Namespace) -> int:
    """Create a car park exit's role."""
    cfg = settings(args)
    try:
        central.add_exit_at(cfg.central_url, args.role, site_id=args.site)
    except central.RoleRefused as exc:
        raise UsageError(str(exc)) from None
    except central.CentreUnreachable as exc:
        raise CommandError(str(exc)) from None
    print(f"role {args.role} may verify and redeem site {args.site}'s tickets")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import a scheduling export: a FHIR Bundle (``.json``) or a CSV.

    The file is checked whole before the centre is opened; a bad one gives one line on stderr
    per problem (per bad row) and exit code 2, and nothing is written.
    """
    cfg = settings(args)
    programmes = load_programmes(cfg.programmes_dir)
    lookup_key = cfg.require_lookup_key()
    if not args.file.is_file():
        raise UsageError(f"{args.file}: no such file")
    try:
        rows = central.parse_file(args.file, lookup_key, programmes)
    except central.ImportFailed as exc:
        return _refused(exc)
    try:
        report = central.import_at(cfg.central_url, rows, programmes)
    except central.ImportFailed as exc:
        return _refused(exc)
    except central.NoCentre as exc:
        raise UsageError(str(exc)) from None
    except central.CentreUnreachable as exc:
        raise CommandError(str(exc)) from None
    for warning in report.warnings:
        print(f"warning: {warning}")
    print(f"imported {report.rows} bookings")
    return 0


def _refused(failed: central.ImportFailed) -> int:
    for problem in failed.problems:
        print(f"kiosk: {problem}", file=sys.stderr)
    return 2
