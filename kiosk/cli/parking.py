"""``kiosk parking``: keys, verifying and redeeming codes, reprints, the printer's status."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from kiosk.cli.common import CommandError, UsageError, parse_time, print_json, settings
from kiosk.core.clock import SystemClock, local
from kiosk.domain.parking.code import MalformedCode, Verdict
from kiosk.domain.parking.desk import (
    NoSuchTicket,
    TicketDatabaseError,
    redeem_code,
    reprint,
    verify_code,
)
from kiosk.domain.parking.keys import config_line, generate_key
from kiosk.domain.parking.printing import printer_from_settings


def register(subparsers: Any) -> None:
    """Add ``kiosk parking ...``."""
    parking = subparsers.add_parser("parking", help="parking tickets: keys, verify, redeem")
    sub = parking.add_subparsers(dest="parking_command", required=True)

    keygen = sub.add_parser("keygen", help='print a new key line `KID = "hex"` for [parking.keys]')
    keygen.add_argument("--kid", help="key id, 1 to 8 characters A-Z 0-9 (default: random)")
    keygen.set_defaults(handler=_keygen)

    for name, handler, text in (
        ("verify", _verify, "check a QR payload (offline) or a short code (database)"),
        ("redeem", _redeem, "verify a code, then mark its ticket used"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("code", metavar="CODE", help="QR payload RK1:... or short code")
        command.add_argument(
            "--at", type=parse_time, help="moment to check at (default now; local time)"
        )
        command.add_argument(
            "--database",
            choices=("central", "local"),
            default="central",
            help="where issued tickets are looked up and marked used: the central database "
            "(default; every kiosk's tickets reach it through sync) or this kiosk's own",
        )
        command.add_argument("--json", action="store_true", help="one JSON document on stdout")
        command.set_defaults(handler=handler)

    reprint = sub.add_parser("reprint", help="print a ticket again (QR payload or short code)")
    reprint.add_argument("code", metavar="CODE")
    reprint.set_defaults(handler=_reprint)

    status = sub.add_parser("printer-status", help="ask the configured ticket printer")
    status.set_defaults(handler=_printer_status)


def _keygen(args: argparse.Namespace) -> int:
    try:
        kid, secret = generate_key(args.kid)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(config_line(kid, secret))
    return 0


def _show(verdict: Verdict, *, as_json: bool, first_line: str) -> int:
    ticket = verdict.ticket
    if as_json:
        print_json(
            {
                "valid": verdict.valid,
                "reason": None if verdict.reason is None else str(verdict.reason),
                "site": ticket.site_id if ticket else None,
                "ticket": ticket.ticket_text if ticket else None,
                "expires_at": ticket.expires_at.isoformat() if ticket else None,
                "redeemed_at": verdict.redeemed_at.isoformat() if verdict.redeemed_at else None,
                "detail": verdict.detail,
            }
        )
    else:
        print(first_line if verdict.valid else f"invalid: {verdict.reason}")
        if verdict.detail:
            print(f"detail: {verdict.detail}")
        if ticket is not None:
            print(f"site: {ticket.site_id}")
            print(f"ticket: {ticket.ticket_text}")
            print(f"expires: {_when(ticket.expires_at)}")
        if verdict.redeemed_at is not None:
            print(f"{'used' if verdict.valid else 'first used'}: {_when(verdict.redeemed_at)}")
    return 0 if verdict.valid else 1


def _when(moment: dt.datetime) -> str:
    return local(moment).isoformat(timespec="minutes")


def _verify(args: argparse.Namespace) -> int:
    at = args.at or SystemClock().now()
    try:
        verdict = verify_code(settings(args), args.code, at=at, which=args.database)
    except TicketDatabaseError as exc:
        raise CommandError(str(exc)) from None
    return _show(verdict, as_json=args.json, first_line="valid")


def _redeem(args: argparse.Namespace) -> int:
    at = args.at or SystemClock().now()
    try:
        verdict = redeem_code(settings(args), args.code, at=at, which=args.database)
    except TicketDatabaseError as exc:
        raise CommandError(str(exc)) from None
    return _show(verdict, as_json=args.json, first_line="redeemed")


def _reprint(args: argparse.Namespace) -> int:
    config = settings(args)
    printer = printer_from_settings(config)
    if printer is None:
        raise CommandError('no ticket printer is configured ([devices] printer = "none")')
    try:
        number, outcome = reprint(config, args.code, printer, clock=SystemClock())
    except MalformedCode as exc:
        raise UsageError(f"{args.code!r} is not a parking code: {exc}") from None
    except (TicketDatabaseError, NoSuchTicket) as exc:
        raise CommandError(str(exc)) from None
    if not outcome.printed:
        print(f"not printed: {outcome.error}")
        return 1
    print(f"printed ticket {number:010d}")
    return 0


def _printer_status(args: argparse.Namespace) -> int:
    printer = printer_from_settings(settings(args))
    if printer is None:
        print("no printer configured")
        return 0
    status = printer.status()
    if status.fault is not None:
        print(f"fault: {status.fault}" + (f" ({status.detail})" if status.detail else ""))
        return 1
    print("ready" if status.known else "ready (the printer does not report its status)")
    return 0
