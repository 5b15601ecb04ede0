"""``kiosk doctor``: is this box fit to check patients in? One row per part, and an exit code.

Exit codes, for monitoring (Nagios/Icinga plugin convention): 0 every check is ok, 1 at least
one warning (the kiosk works, something needs attention: central database unreachable, clock
drifting, disk filling, simulated devices), 2 at least one failure (patients cannot be checked
in, or will not be soon: bad configuration, database missing, no reader, printer fault, disk
full). Every check has a time limit, so a hung reader or database cannot hang the doctor.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import enum
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from kiosk.box.backup import backup_dir, list_backups
from kiosk.box.permissions import config_file_problems
from kiosk.core.config import ConfigError, Settings, load
from kiosk.db import migrate
from kiosk.db.engine import make_engine, session_factory
from kiosk.db.files import DatabaseFileError, check_database_file, is_encrypted, sqlite_path
from kiosk.db.models import OutboxEvent
from sync.api import role_identity, sync_status

CHECK_TIMEOUT_SECONDS = 8.0
CLOCK_WARN_SECONDS = 5.0
CLOCK_FAIL_SECONDS = 120.0
"""Parking tickets carry an expiry time: a clock this far off prints wrong tickets."""
DISK_WARN_BYTES = 1 << 30
DISK_FAIL_BYTES = 200 << 20
BACKUP_WARN_AGE = dt.timedelta(hours=50)


class Status(enum.IntEnum):
    """A check's verdict; its value is the exit code it asks for."""

    OK = 0
    WARNING = 1
    FAILURE = 2


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table."""

    name: str
    status: Status
    detail: str


def _ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def _warn(name: str, detail: str) -> Check:
    return Check(name, Status.WARNING, detail)


def _fail(name: str, detail: str) -> Check:
    return Check(name, Status.FAILURE, detail)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def with_timeout(name: str, check: Callable[[], Check], seconds: float) -> Check:
    """Run a check in a worker thread; a check that hangs becomes a failure after ``seconds``."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    future = pool.submit(check)
    try:
        return future.result(timeout=seconds)
    except concurrent.futures.TimeoutError:
        return _fail(name, f"no answer within {seconds:g} s")
    except Exception as exc:
        return _fail(name, _first_line(exc))
    finally:
        # Do not wait for a hung driver call: the thread is abandoned, the process exits anyway.
        pool.shutdown(wait=False, cancel_futures=True)


def check_config(explicit: Path | None) -> tuple[Check, Settings | None]:
    """The configuration loads, has its keys, and its file is private."""
    try:
        settings = load(explicit)
    except ConfigError as exc:
        return _fail("configuration", str(exc)), None
    where = str(settings.source or "built-in defaults")
    problems = config_file_problems(settings.source) if settings.source else []
    if problems:
        return _fail("configuration", f"{where}: {problems[0]}"), settings
    if not settings.lookup_key:
        return _fail("configuration", f"{where}: [privacy] lookup_key is not set"), settings
    if not settings.parking.keys:
        return _warn("configuration", f"{where}: [parking.keys] is empty: no tickets"), settings
    return _ok("configuration", where), settings


def check_local_database(settings: Settings) -> Check:
    """The kiosk's database is a whole, undamaged file at the migration level this code expects.

    Besides the header check every engine makes, SQLite's ``quick_check`` reads every page, so
    a file damaged where no command has looked yet fails here too.
    """
    name = "local database"
    path = sqlite_path(settings.local_url)
    if path is not None and not path.exists():
        return _fail(name, f"no database at {path}")
    try:
        engine = make_engine(settings.local_url)
        try:
            current = migrate.current_revision(engine)
            head = migrate.head_revision(engine)
            with engine.connect() as connection:
                verdict = (
                    connection.exec_driver_sql("PRAGMA quick_check").scalar()
                    if path is not None
                    else "ok"
                )
        finally:
            engine.dispose()
    except DatabaseFileError as exc:
        return _fail(name, str(exc))
    where = str(path or make_url(settings.local_url).render_as_string(hide_password=True))
    if verdict != "ok":
        return _fail(name, f"{where} is damaged (SQLite's check: {verdict})")
    if current is None:
        return _fail(name, f"{where}: empty (no schema)")
    if current != head:
        return _warn(name, f"{where}: at revision {current}, code expects {head}")
    return _ok(name, f"{where}: revision {current} (newest)")


def check_reader(settings: Settings) -> Check:
    """pcscd answers and the configured reader is plugged in."""
    name = "card reader"
    if settings.reader == "simulated":
        return _warn(name, "simulated reader (not for patients)")
    from smartcard.System import readers  # pyscard: only needed on a box with a real reader

    try:
        found = [str(r) for r in readers()]
    except Exception as exc:
        return _fail(name, f"pcscd does not answer ({_first_line(exc)})")
    if not found:
        return _fail(name, "pcscd runs but reports no reader (plugged in?)")
    if settings.reader_name and not any(settings.reader_name in r for r in found):
        return _fail(name, f"no reader named {settings.reader_name!r}; found {', '.join(found)}")
    if settings.trusted_roots is None:
        return _warn(
            name,
            f"{', '.join(found)}; [devices] trusted_roots is not set: "
            "a forged card would not be recognised",
        )
    return _ok(name, ", ".join(found))


def check_printer(settings: Settings) -> Check:
    """The ticket printer answers and reports no fault."""
    from kiosk.domain.parking.printing import printer_from_settings

    name = "printer"
    printer = printer_from_settings(settings)
    if printer is None:
        return _warn(name, "no printer configured: codes on screen only")
    status = printer.status()
    kind = "simulated file printer" if settings.printer == "file" else settings.printer_target
    if status.fault is not None:
        return _fail(
            name, f"{kind}: {status.fault}" + (f" ({status.detail})" if status.detail else "")
        )
    if settings.printer == "file":
        return _warn(name, f"{kind} (not for patients)")
    if not status.known:
        return _ok(name, f"{kind}: connected, status not reported by this model")
    return _ok(name, f"{kind}: ready")


def check_central(settings: Settings, now: Callable[[], dt.datetime]) -> Check:
    """The central database answers, and its clock agrees with this box's."""
    name = "central database"
    url = make_url(settings.central_url)
    shown = url.render_as_string(hide_password=True)
    central_file = sqlite_path(settings.central_url)
    if central_file is not None and not central_file.exists():
        # Opening it would create an empty file that sync then takes for an empty centre.
        return _warn(name, f"no central database at {central_file} (demo set-up)")
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": int(CHECK_TIMEOUT_SECONDS) - 2}
    engine = make_engine(settings.central_url, **kwargs)
    try:
        with engine.connect() as connection:
            if url.get_backend_name() != "postgresql":
                connection.execute(text("SELECT 1"))
                return _warn(name, f"{shown}: reachable, but not PostgreSQL (demo set-up)")
            before = now()
            theirs = connection.execute(text("SELECT now()")).scalar_one()
            after = now()
            known = role_identity(connection)
    except Exception as exc:
        return _warn(name, f"{shown}: unreachable, the kiosk works offline ({_first_line(exc)})")
    finally:
        engine.dispose()
    if known is not None and known != (settings.site_id, settings.kiosk_id):
        return _fail(
            name,
            f"{shown}: this kiosk's role belongs to site {known[0]}, kiosk {known[1]}, not "
            f"{settings.site_id}, {settings.kiosk_id} as kiosk.toml says: every event is refused",
        )
    offset = (theirs - (before + (after - before) / 2)).total_seconds()
    detail = f"{shown}: reachable, clock offset {offset:+.1f} s"
    if abs(offset) >= CLOCK_FAIL_SECONDS:
        return _fail(name, detail + " (check NTP: ticket times are wrong)")
    if abs(offset) >= CLOCK_WARN_SECONDS:
        return _warn(name, detail + " (check NTP)")
    return _ok(name, detail)


def check_outbox(settings: Settings) -> Check:
    """No event the centre refused lies set aside (it would never reach the centre)."""
    name = "outbox"
    path = sqlite_path(settings.local_url)
    if path is not None and not path.exists():
        return _warn(name, "no local database yet")
    engine = make_engine(settings.local_url)
    try:
        with session_factory(engine)() as db:
            status = sync_status(db, _utc_now())
            reason = db.scalar(
                select(OutboxEvent.last_error).where(OutboxEvent.set_aside.is_(True)).limit(1)
            )
    finally:
        engine.dispose()
    if status.set_aside:
        return _fail(
            name,
            f"{status.set_aside} events refused by the centre and set aside ({reason}); "
            "fix the cause, then kiosk sync retry",
        )
    return _ok(name, f"{status.queue} events waiting")


def check_disk(settings: Settings) -> Check:
    """Free space where the database and backups live."""
    name = "disk space"
    folder = settings.data_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    detail = f"{free / (1 << 30):.1f} GiB free in {folder}"
    if free < DISK_FAIL_BYTES:
        return _fail(name, detail)
    if free < DISK_WARN_BYTES:
        return _warn(name, detail)
    return _ok(name, detail)


def check_backups(settings: Settings, now: Callable[[], dt.datetime]) -> Check:
    """The daily backup ran lately."""
    name = "backups"
    backups = list_backups(backup_dir(settings))
    if not backups:
        return _warn(name, f"none yet in {backup_dir(settings)}")
    newest = backups[-1]
    try:
        check_database_file(newest, encrypted=is_encrypted(settings.local_url))
    except DatabaseFileError as exc:
        return _warn(name, f"the newest backup is no good: {exc}")
    age = now() - dt.datetime.fromtimestamp(newest.stat().st_mtime, dt.UTC)
    detail = f"{len(backups)} kept, newest {age.total_seconds() / 3600:.0f} h old"
    return (
        _warn(name, detail + " (is the daily timer on?)")
        if age > BACKUP_WARN_AGE
        else _ok(name, detail)
    )


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def diagnose(
    explicit: Path | None = None,
    *,
    now: Callable[[], dt.datetime] = _utc_now,
    timeout: float = CHECK_TIMEOUT_SECONDS,
) -> list[Check]:
    """Run every check in order; without a valid configuration only that row is returned."""
    config, settings = check_config(explicit)
    if settings is None:
        return [config]
    checks: list[tuple[str, Callable[[], Check]]] = [
        ("local database", lambda: check_local_database(settings)),
        ("card reader", lambda: check_reader(settings)),
        ("printer", lambda: check_printer(settings)),
        ("central database", lambda: check_central(settings, now)),
        ("outbox", lambda: check_outbox(settings)),
        ("disk space", lambda: check_disk(settings)),
        ("backups", lambda: check_backups(settings, now)),
    ]
    return [config, *(with_timeout(name, run, timeout) for name, run in checks)]


def exit_code(checks: list[Check]) -> int:
    """0 all ok, 1 some warning, 2 some failure."""
    return max((int(c.status) for c in checks), default=0)


def table(checks: list[Check]) -> str:
    """The checks as an aligned plain-text table."""
    width = max(len(c.name) for c in checks)
    rows = [f"{'CHECK':<{width}}  STATUS   DETAIL"]
    rows += [f"{c.name:<{width}}  {c.status.name.lower():<7}  {c.detail}" for c in checks]
    return "\n".join(rows)
