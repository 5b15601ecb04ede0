"""Commands that open screens: ``kiosk run``, ``kiosk reception``, and ``kiosk pin-hash``.

Textual is imported inside the handlers only, so every other command starts without it. Both
screens are built by :func:`kiosk.ui.factory.make_app`, as the tests build them. ``kiosk run``
paints the home screen before it opens the database (the app does that in a thread worker); a
configuration error found then (no database file, a bad printer target) stops the program with
its sentence once the terminal is restored.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

from kiosk.cli.common import UsageError, settings
from kiosk.core.config import ConfigError, Settings
from kiosk.core.logs import setup_logging
from kiosk.core.reception_pin import PinFormatError, check_format, hash_pin

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands."""
    p = sub.add_parser("run", help="start the full-screen kiosk")
    p.add_argument(
        "--simulate",
        action="store_true",
        help="simulated reader and printer, settable clock, simulation panel beside the kiosk",
    )
    p.add_argument(
        "--console",
        action="store_true",
        help="16 colours and ASCII borders for the Linux console (automatic when TERM=linux)",
    )
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("reception", help="the reception screen on its own (no card reader)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--url", help="database URL (default: the configured central database)")
    where.add_argument("--local", action="store_true", help="use this kiosk's own database")
    p.add_argument("--console", action="store_true", help="16 colours and ASCII borders")
    p.set_defaults(handler=cmd_reception)

    p = sub.add_parser("pin-hash", help="print the hash of a reception PIN for the configuration")
    p.add_argument(
        "--stdin", action="store_true", help="read the PIN from standard input (scripts)"
    )
    p.set_defaults(handler=cmd_pin_hash)


def _log_away_from_the_screen(cfg: Settings) -> None:
    """Textual owns the terminal: log lines go to the journal or a file, never to stderr."""
    setup_logging(cfg, target="file" if cfg.log_target == "stderr" else None)


def _console(args: argparse.Namespace) -> bool:
    return bool(args.console) or os.environ.get("TERM") == "linux"


def cmd_run(args: argparse.Namespace) -> int:
    """Run the kiosk until it is stopped (SIGTERM, or the technician's stop key)."""
    from kiosk.ui.factory import make_app

    cfg = settings(args)
    _log_away_from_the_screen(cfg)
    return _run(make_app(cfg, simulate=args.simulate, console_safe=_console(args)))


def cmd_reception(args: argparse.Namespace) -> int:
    """Reception on a reception PC: the day's sessions, against the central database."""
    from kiosk.ui.factory import make_app

    cfg = settings(args)
    _log_away_from_the_screen(cfg)
    url = args.url or (cfg.local_url if args.local else cfg.central_url)
    try:
        app = make_app(cfg, mode="reception", url=url, console_safe=_console(args))
    except ConfigError as exc:
        raise ConfigError(f"{exc} (or use --local for this kiosk's own database)") from None
    return _run(app)


def _run(app: KioskApp) -> int:
    """Run the app, then release its database; a configuration error found while it ran is
    reported once the terminal is restored."""
    try:
        app.run()
    finally:
        app.services.close()
    if app.fatal_error:
        raise ConfigError(app.fatal_error)
    # 1 after an exception the app could not handle, so systemd restarts the kiosk.
    return app.return_code or 0


def cmd_pin_hash(args: argparse.Namespace) -> int:
    """Ask for a PIN twice (or read it from stdin) and print the configuration lines."""
    if args.stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("New reception PIN (4 to 8 digits): ")
        if getpass.getpass("Same PIN again: ") != pin:
            raise UsageError("the two PINs differ")
    try:
        check_format(pin)
    except PinFormatError as exc:
        raise UsageError(str(exc)) from None
    print("[reception]")
    print(f'pin_hash = "{hash_pin(pin)}"')
    return 0
