"""What every command shares: errors, the parsed context, argument types and JSON output."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from kiosk.core import config as config_module
from kiosk.core.clock import BRUSSELS, DayOutOfRange, to_utc, within_range
from kiosk.core.logs import setup_logging


class UsageError(ValueError):
    """Bad input: one clear sentence, exit code 2."""


class CommandError(RuntimeError):
    """The command ran but could not do its job (no card, unreachable database): exit 1."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def settings(args: argparse.Namespace) -> config_module.Settings:
    """The validated settings for this invocation; logging is set up from them (redacted JSON)."""
    loaded = config_module.load(getattr(args, "config", None))
    setup_logging(loaded)
    return loaded


def parse_date(text: str) -> dt.date:
    """An ISO date (``2026-11-23``) or ``today``, within the kiosk's days; argparse type."""
    if text == "today":
        return dt.datetime.now(BRUSSELS).date()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None
    try:
        return within_range(day)
    except DayOutOfRange as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def parse_time(text: str) -> dt.datetime:
    """An ISO date and time within the kiosk's days; without an offset it is Brussels local
    time. argparse type."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time (use YYYY-MM-DDTHH:MM, local time)"
        ) from None
    try:
        # Checked before the conversion to UTC, which overflows at the calendar's ends.
        within_range(moment.date())
    except DayOutOfRange as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    return to_utc(moment)


def print_json(value: Any) -> None:
    """One JSON document on stdout."""
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
