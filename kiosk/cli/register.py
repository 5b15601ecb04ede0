"""``kiosk register``: the day's attendance register for the insurer."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys

from kiosk.cli.common import parse_date, settings
from kiosk.core.clock import BRUSSELS, local
from kiosk.domain.context import open_context
from kiosk.domain.day_csv import safe_row
from kiosk.domain.register import COLUMNS, RegisterLine, read_register


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``kiosk register``."""
    p = sub.add_parser("register", help="the day's attendance register for the insurer")
    p.add_argument("--date", type=parse_date, help="the day (YYYY-MM-DD, default today)")
    p.add_argument("--csv", action="store_true", help="CSV on stdout")
    p.add_argument(
        "--central",
        action="store_true",
        help="from the central database: every site, with national number and full name",
    )
    p.set_defaults(handler=cmd_register)


def cmd_register(args: argparse.Namespace) -> int:
    """Print the day's register: one line per patient, programme and day (CSV with --csv)."""
    cfg = settings(args)
    day = args.date if args.date is not None else _today()
    context = open_context(cfg, url=cfg.central_url if args.central else None)
    try:
        lines = read_register(
            context.sessions,
            day=day,
            site_id=None if args.central else cfg.site_id,
            programmes=context.programmes,
        )
    finally:
        context.close()
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(COLUMNS)
        writer.writerows(safe_row(line.row()) for line in lines)
        return 0
    if not lines:
        print(f"no attendance on {day.isoformat()}")
    for line in lines:
        print(_text(line))
    return 0


def _today() -> dt.date:
    return dt.datetime.now(BRUSSELS).date()


def _text(line: RegisterLine) -> str:
    sessions = ", ".join(
        s.place_in_phase + ("" if s.billed else " (not billed)") for s in line.sessions
    )
    methods = "+".join(dict.fromkeys(s.identity_method for s in line.sessions))
    return (
        f"{local(line.first_start):%H:%M}-{local(line.last_end):%H:%M} "
        f"{line.last_name}, {line.first_name}  {line.programme}: {sessions}  "
        f"code {line.code or '-'}  {line.place}  ({methods})"
    )
