"""``kiosk sync``: the exchange with the central database (service, one round, status)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from kiosk.box.backup import BackupError, backup
from kiosk.cli.common import CommandError, UsageError, print_json, settings
from kiosk.core.clock import SystemClock, local
from kiosk.core.config import Settings
from kiosk.db.files import sqlite_path
from kiosk.domain import demo_database
from kiosk.domain.context import KioskContext, open_context
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


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Only errors of logger ``name`` meanwhile."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _set_aside_a_standalone_demo(cfg: Settings, context: KioskContext) -> None:
    """Make a demo of the kiosk's own (``kiosk demo-data``) room for the centre's replica.

    Its rows were generated apart from the centre's (the same demo patients under other ids),
    so the first pull would collide with them: they are backed up (``kiosk restore`` brings
    them back) and removed, and the round fills the database from the centre instead.
    """
    with context.sessions() as db:
        if not demo_database.is_standalone_demo(db):
            return
    try:
        copy = backup(cfg)
    except BackupError as exc:
        raise UsageError(f"the kiosk's own demo cannot be backed up: {exc}") from None
    with context.sessions() as db, db.begin():
        demo_database.clear(db)
    print(
        f"the kiosk's own demo (kiosk demo-data) is backed up as {copy} and makes room for "
        "the centre's replica"
    )


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
        _set_aside_a_standalone_demo(cfg, context)
        service = SyncService(
            context.sessions,
            cfg.central_url,
            site_id=cfg.site_id,
            kiosk_id=cfg.kiosk_id,
            clock=SystemClock(),
        )
        try:
            if args.once:
                # The command says what went wrong in its own one line: on a terminal the
                # service's warnings about the same round would be a second (JSON) line.
                with _quiet("sync") if cfg.log_target == "stderr" else contextlib.nullcontext():
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
