"""Entry point of the ``kiosk`` command: builds the parser from the command modules and turns
every expected failure into one line on stderr and exit code 2 (never a traceback)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from kiosk import __version__
from kiosk.cli.common import CommandError, UsageError
from kiosk.config import ConfigError
from kiosk.programme import ProgrammeError

# Each module's ``register(subparsers)`` adds its commands with ``set_defaults(handler=...)``.
COMMAND_MODULES = (
    "kiosk.cli.domain",
    "kiosk.cli.parking",
    "kiosk.cli.card",
    "kiosk.cli.box",
    "kiosk.cli.ui",
    "kiosk.cli.sync",
    "kiosk.cli.central",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = _Parser(prog="kiosk", description="Check-in kiosk of a rehabilitation centre.")
    parser.add_argument("--version", action="version", version=f"rehab-kiosk {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        help="configuration file (default: $KIOSK_CONFIG, /etc/rehab-kiosk/kiosk.toml, "
        "then kiosk.toml in the data directory)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code."""
    args = build_parser().parse_args(argv)
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
    return code


if __name__ == "__main__":
    sys.exit(main())
