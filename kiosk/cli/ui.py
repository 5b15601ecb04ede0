"""Commands that open screens: ``kiosk run``, ``kiosk reception``, and ``kiosk pin-hash``.

Textual is imported inside the handlers only, so every other command starts without it.
``kiosk run`` paints the home screen before it opens the database (the app does that in a
thread worker); a configuration error found then (no database file, a bad printer target) stops
the program with its sentence once the terminal is restored.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import os
import sys
from typing import TYPE_CHECKING

from kiosk.cli.common import UsageError, settings
from kiosk.core.clock import Clock, SettableClock, SystemClock
from kiosk.core.config import ConfigError, Settings
from kiosk.core.logs import setup_logging
from kiosk.core.reception_pin import PinFormatError, check_format, hash_pin

if TYPE_CHECKING:
    from kiosk.domain.context import KioskContext

DEMO_PIN = "0000"
"""The reception PIN of ``kiosk run --simulate`` when the configuration sets none."""
DEMO_PIN_HASH = (
    "scrypt$16384$8$1$6adc55ba4a52be704803b81bb7626f4f$aff097a33c"
    "64ee1ad8f7cc68c4f2a56de207b22e0aa6cdd389582b84ac6e6228"
)
"""``hash_pin(DEMO_PIN)``, computed once: scrypt at every start would slow the demo's start."""


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
    from devices.eid.reader import CardReader
    from kiosk.ui.app import KioskApp
    from kiosk.ui.services import KioskServices

    cfg = settings(args)
    _log_away_from_the_screen(cfg)
    clock: Clock = SystemClock()
    if args.simulate:
        cfg = dataclasses.replace(
            cfg,
            reader="simulated",
            printer="file",
            printer_target="",
            reception_pin_hash=cfg.reception_pin_hash or DEMO_PIN_HASH,
        )
        clock = SettableClock(SystemClock().now(), running=True)

    def make_reader() -> CardReader:
        # Called in the app's loading worker, after the first paint (see KioskServices.load).
        if cfg.reader == "pcsc":
            from devices.eid.pcsc import PcscReader

            # Only cards whose National Register certificate chains to a trusted root are read.
            return PcscReader(cfg.reader_name, trusted_roots=cfg.load_trusted_roots())
        from devices.eid.simulated import SimulatedReader

        return SimulatedReader()

    services = KioskServices(
        cfg,
        clock,
        make_reader=make_reader,
        configured_printer=True,
        cards_dir=cfg.data_dir / "cards",
    )
    app = KioskApp(services, simulate=args.simulate, console_safe=_console(args))
    try:
        app.run()
    finally:
        if services.ready:
            services.context.close()
    if app.fatal_error:
        raise ConfigError(app.fatal_error)
    # 1 after an exception the app could not handle, so systemd restarts the kiosk.
    return app.return_code or 0


def _reception_context(args: argparse.Namespace, cfg: Settings) -> KioskContext:
    from kiosk.domain.context import open_context

    url = args.url or (cfg.local_url if args.local else cfg.central_url)
    return open_context(cfg, url=url)


def cmd_reception(args: argparse.Namespace) -> int:
    """Reception on a reception PC: the day's sessions, against the central database."""
    from kiosk.ui.app import KioskApp
    from kiosk.ui.services import KioskServices

    cfg = settings(args)
    _log_away_from_the_screen(cfg)
    try:
        context = _reception_context(args, cfg)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (or use --local for this kiosk's own database)") from None
    try:
        services = KioskServices.around(context)
        KioskApp(services, mode="reception", console_safe=_console(args)).run()
    finally:
        context.close()
    return 0


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
