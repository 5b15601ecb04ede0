"""``kiosk sync``: the exchange with the central database (service, one round, status)."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import threading
from types import FrameType

from kiosk.cli.common import CommandError, UsageError, print_json, settings
from kiosk.core.clock import SystemClock, local
from kiosk.db.files import sqlite_path
from kiosk.domain.context import open_context
from sync.api import SyncService, requeue_set_aside, sync_status


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``kiosk sync``."""
    p = sub.add_parser("sync", help="exchange with the central database (runs until stopped)")
    p.add_argument(
        "action",
        nargs="?",
        choices=["status", "retry"],
        help="status: the exchange's health; retry: queue the events the centre refused again",
    )
    p.add_argument("--once", action="store_true", help="one round (push, then pull), then exit")
    p.add_argument("--json", action="store_true", help="with status: JSON on stdout")
    p.set_defaults(handler=cmd_sync)


def _when(moment: dt.datetime | None) -> str:
    return f"{local(moment):%Y-%m-%d %H:%M:%S}" if moment else "never"


def cmd_sync(args: argparse.Namespace) -> int:
    """Run the service, one round, or print the status."""
    cfg = settings(args)
    # The local database is the replica: a new kiosk's first round creates it.
    context = open_context(cfg, create=True)
    try:
        if args.action == "status":
            with context.sessions() as db:
                status = sync_status(db, context.clock.now())
            if args.json:
                print_json(status.as_json())
                return 0
            age = status.replica_age_seconds
            print(f"queue: {status.queue} events waiting, {status.set_aside} set aside")
            print(f"last success: {_when(status.last_success_at)}")
            print(f"last error: {_when(status.last_error_at)} {status.last_error}".rstrip())
            print(f"replica age: {'never pulled' if age is None else f'{age} s'}")
            return 0
        if args.action == "retry":
            with context.sessions() as db, db.begin():
                again = requeue_set_aside(db)
            print(f"{again} set-aside events queued again; the next round sends them")
            return 0
        central_file = sqlite_path(cfg.central_url)
        if central_file is not None and not central_file.exists():
            # Connecting would create an empty centre: every booking would seem cancelled.
            raise UsageError(
                f"no central database at {central_file} "
                "(run `kiosk central init`, or `kiosk demo-data --central` for a demo)"
            )
        service = SyncService(
            context.sessions,
            cfg.central_url,
            site_id=cfg.site_id,
            kiosk_id=cfg.kiosk_id,
            clock=SystemClock(),
        )
        try:
            if args.once:
                report = service.run_round()
                if report.error:
                    raise CommandError(f"sync failed: {report.error}")
                pushed = report.push.sent if report.push else 0
                pulled = report.pull.rows if report.pull else 0
                print(f"pushed {pushed} events, pulled {pulled} rows")
                refused = report.push.refused if report.push else {}
                if refused:
                    # Loud: a refused event never reaches the centre until it is queued again.
                    first = next(iter(refused.values()))
                    raise CommandError(
                        f"the centre refused {len(refused)} events, set aside ({first}); "
                        "fix the cause, then kiosk sync retry"
                    )
                return 0
            stop = threading.Event()

            def on_signal(_signum: int, _frame: FrameType | None) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
            service.run_forever(stop)
            return 0
        finally:
            service.close()
    finally:
        context.close()
