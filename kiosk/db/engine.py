"""Engines for the kiosk's SQLite and the central database, with the settings that keep data safe.

SQLite: WAL with ``synchronous=FULL`` on every connection (a printed parking code must survive a
power cut), foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` so two processes (kiosk, sync,
reception) never dead-lock upgrading a read to a write. All engines hide bound parameters from
error messages, so a national register number never ends up in a log through an exception.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

from kiosk.db.cipher import sqlcipher_driver
from kiosk.db.files import check_database_file, is_encrypted, sqlite_path, translate_sqlite_error
from kiosk.db.models import Base

BUSY_TIMEOUT_MS = 5000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``).

    An existing SQLite file must pass :func:`~kiosk.db.files.check_database_file` (else
    :class:`~kiosk.db.files.DatabaseFileError`), and the engine raises that same error when
    SQLite later finds the file damaged, the disk full or the file read-only.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            if path.exists():
                check_database_file(path, encrypted=is_encrypted(url))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
        if is_encrypted(url):
            kwargs.setdefault("module", sqlcipher_driver())
        engine = create_engine(
            url,
            hide_parameters=True,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        if path is not None:
            event.listen(engine, "handle_error", partial(_sqlite_on_error, path))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, hide_parameters=True, **kwargs)


def _sqlite_on_error(path: Path, context: ExceptionContext) -> None:
    translated = translate_sqlite_error(context.original_exception, path)
    if translated is not None:
        raise translated from None


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit BEGIN is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (outcomes are built from them)."""
    return sessionmaker(engine, expire_on_commit=False)


def create_schema(engine: Engine) -> None:
    """Create every table directly (tests that do not exercise migrations)."""
    Base.metadata.create_all(engine)
