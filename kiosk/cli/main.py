"""Entry point of the ``kiosk`` command: builds the parser from the command modules and turns
every expected failure into one line on stderr and exit code 2, and an unexpected one into one
line, exit code 70 and its redacted traceback in the log (never a raw traceback)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from kiosk import __version__
from kiosk.cli.common import CommandError, UsageError
from kiosk.core.config import ConfigError
from kiosk.core.logs import setup_early_logging
from kiosk.programme import ProgrammeError

UNEXPECTED_EXIT = 70
"""A failure no rule expected (a bug): sysexits' EX_SOFTWARE, apart from every documented code."""

# Each module's ``register(subparsers)`` adds the top-level commands listed here, with
# ``set_defaults(handler=...)``. Only the module of the command being run is imported (all of
# them for --help or a typo): the kiosk's cold start must not pay for SQLAlchemy, alembic and
# pyscard through commands it does not run. A test keeps this table in step with the modules.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "kiosk.cli.day": ("demo-data", "checkin", "today", "close-day", "register"),
    "kiosk.cli.parking": ("parking",),
    "kiosk.cli.card": ("card",),
    "kiosk.cli.box": ("install", "uninstall", "doctor", "backup", "restore", "config"),
    "kiosk.cli.ui": ("run", "reception", "pin-hash"),
    "kiosk.cli.sync": ("sync",),
    "kiosk.cli.central": ("central",),
    "kiosk.cli.alerts": ("alerts",),
    "kiosk.cli.booking": ("booking", "enrolment"),
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules ``argv`` needs: the one owning its command, or all of them."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    _, rest = pre.parse_known_args(list(argv))
    command = next((arg for arg in rest if not arg.startswith("-")), None)
    owners = tuple(module for module, names in COMMAND_MODULES.items() if command in names)
    return owners or tuple(COMMAND_MODULES)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command tree for ``argv`` (the whole tree when ``argv`` is None)."""
    parser = _Parser(prog="kiosk", description="Check-in kiosk of a rehabilitation centre.")
    parser.add_argument("--version", action="version", version=f"rehab-kiosk {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        help="configuration file (default: $KIOSK_CONFIG, /etc/rehab-kiosk/kiosk.toml, "
        "then kiosk.toml in the data directory)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in tuple(COMMAND_MODULES) if argv is None else modules_for(argv):
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    setup_early_logging()
    args = build_parser(argv).parse_args(argv)
    try:
        code: int = args.handler(args)
    except (UsageError, ConfigError, ProgrammeError) as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`kiosk today | head`): not an error worth a traceback.
        sys.stderr.close()
        return 0
    except Exception as exc:
        # A bug: the person gets one line, the log the traceback (redacted like every record).
        logging.getLogger("kiosk").critical("unexpected failure", exc_info=True)
        print(
            f"kiosk: unexpected failure ({type(exc).__name__}); the log has the details",
            file=sys.stderr,
        )
        return UNEXPECTED_EXIT
    return code


if __name__ == "__main__":
    sys.exit(main())
