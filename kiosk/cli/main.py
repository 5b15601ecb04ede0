"""Entry point of the ``kiosk`` command: builds the parser from the command table and turns
every expected failure (bad input, a broken or damaged file, a full disk) into one redacted line
on stderr and exit code 2, and an unexpected one into one line, exit code 70 and its redacted
traceback in the log (never a raw traceback)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from kiosk import __version__

UNEXPECTED_EXIT = 70
"""A failure no rule expected (a bug): sysexits' EX_SOFTWARE, apart from every documented code."""

# Every top-level command: the module whose ``register(subparsers)`` adds it (with
# ``set_defaults(handler=...)``) and its one line of help. ``kiosk --help``, ``--version`` and a
# typo are answered from this table alone, and a command imports only its own module: a
# technician's every mistyped command must not pay for SQLAlchemy, Alembic and pyscard (about
# 0.9 s). A test checks that the table and the modules agree, help text included.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo-data": ("kiosk.cli.day", "fill the database with a believable demo centre"),
    "checkin": ("kiosk.cli.day", "check a patient in without a screen"),
    "today": ("kiosk.cli.day", "the day's sessions and who is expected, arrived, absent"),
    "close-day": ("kiosk.cli.day", "turn the no-shows of the day's ended sessions into absences"),
    "register": ("kiosk.cli.register", "the day's attendance register for the insurer"),
    "parking": ("kiosk.cli.parking", "parking tickets: keys, verify, redeem"),
    "card": ("kiosk.cli.card", "the e-ID card reader"),
    "install": ("kiosk.cli.box", "install the systemd units, user, folders and config"),
    "uninstall": ("kiosk.cli.box", "remove the units (data and config stay without --purge)"),
    "doctor": ("kiosk.cli.box", "check config, database, reader, printer, central, disk"),
    "backup": ("kiosk.cli.box", "back up the kiosk database (safe while the kiosk runs)"),
    "restore": ("kiosk.cli.box", "put a backup back as the kiosk database"),
    "config": ("kiosk.cli.box", "the configuration file"),
    "run": ("kiosk.cli.ui", "start the full-screen kiosk"),
    "reception": ("kiosk.cli.ui", "the reception screen on its own (no card reader)"),
    "pin-hash": ("kiosk.cli.ui", "print the hash of a reception PIN for the configuration"),
    "sync": ("kiosk.cli.sync", "exchange with the central database (runs until stopped)"),
    "central": ("kiosk.cli.central", "the central database"),
    "alerts": ("kiosk.cli.alerts", "open alerts; resolve one"),
    "booking": ("kiosk.cli.booking", "cancel, excuse, correct, undo or admit one booking"),
    "enrolment": ("kiosk.cli.booking", "resume a stopped programme or record a team decision"),
}

CONFIG_HELP = (
    "configuration file (default: $KIOSK_CONFIG, /etc/rehab-kiosk/kiosk.toml, "
    "then kiosk.toml in the data directory)"
)


def command_modules() -> dict[str, tuple[str, ...]]:
    """Each command module with the commands it registers, in the table's order."""
    modules: dict[str, tuple[str, ...]] = {}
    for name, (module, _help) in COMMANDS.items():
        modules[module] = (*modules.get(module, ()), name)
    return modules


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line; every sub-command takes ``--config``
    too, so ``kiosk today --config FILE`` works as ``kiosk --config FILE today`` does."""

    def __init__(self, *args: Any, top: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # SUPPRESS: a sub-command without --config leaves the top-level value (or None) alone.
        self.add_argument(
            "--config",
            type=Path,
            metavar="FILE",
            default=None if top else argparse.SUPPRESS,
            help=CONFIG_HELP,
        )

    def error(self, message: str) -> NoReturn:
        from kiosk.core.redaction import redact

        self.exit(2, redact(f"{self.prog}: {message} (see `{self.prog} --help`)") + "\n")


def _say(message: str) -> None:
    """The command's one line on stderr, redacted like a log line: an error may quote what was
    typed, and a national number typed in the wrong place must not come back."""
    from kiosk.core.redaction import redact

    print(redact(f"kiosk: {message}"), file=sys.stderr)


def _os_failure(exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


def command_of(argv: Sequence[str]) -> str | None:
    """The top-level command ``argv`` names, if it names one of the table."""
    # Takes --config (and its value) out wherever it stands; a missing value is one line too.
    pre = _Parser(prog="kiosk", add_help=False, allow_abbrev=False, top=True)
    _, rest = pre.parse_known_args(list(argv))
    command = next((arg for arg in rest if not arg.startswith("-")), None)
    return command if command in COMMANDS else None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command tree for ``argv``: the module of its command registers that command for
    real; every other command is its name and help from the table (the whole tree, every module
    imported, when ``argv`` is None)."""
    parser = _Parser(
        prog="kiosk", description="Check-in kiosk of a rehabilitation centre.", top=True
    )
    parser.add_argument("--version", action="version", version=f"rehab-kiosk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    if argv is None:
        wanted = set(command_modules())
    else:
        command = command_of(argv)
        wanted = {COMMANDS[command][0]} if command else set()
    # A module registers all its commands at once, where its first one stands in the table; the
    # table keeps each module's commands together, so --help reads the same either way.
    registered: set[str] = set()
    for name, (module, help_text) in COMMANDS.items():
        if module not in wanted:
            sub.add_parser(name, help=help_text)
        elif module not in registered:
            importlib.import_module(module).register(sub)
            registered.add(module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if command_of(argv) is not None:
        # Only for a command: --help, --version and a typo run nothing of the kiosk (they exit
        # in parse_args) and must not pay for the configuration's modules the logs import.
        from kiosk.core.logs import setup_early_logging

        setup_early_logging()
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    import logging

    from kiosk.cli.common import CommandError, UsageError
    from kiosk.core.config import ConfigError
    from kiosk.db.files import DatabaseFileError
    from kiosk.programme import ProgrammeError

    try:
        code: int = args.handler(args)
    except (UsageError, ConfigError, ProgrammeError, DatabaseFileError) as exc:
        _say(str(exc))
        return 2
    except CommandError as exc:
        _say(str(exc))
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`kiosk today | head`): not an error worth a traceback.
        sys.stderr.close()
        return 0
    except OSError as exc:
        # The machine refused a file (a full disk, a read-only folder): like a broken file.
        _say(_os_failure(exc))
        return 2
    except Exception as exc:
        # A bug: the person gets one line, the log the traceback (redacted like every record).
        logging.getLogger("kiosk").critical("unexpected failure", exc_info=True)
        _say(f"unexpected failure ({type(exc).__name__}); the log has the details")
        return UNEXPECTED_EXIT
    return code


if __name__ == "__main__":
    sys.exit(main())
