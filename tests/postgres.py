"""Throw-away PostgreSQL databases on the server at 127.0.0.1:5432 (trust auth, user postgres).

Under CI (``CI=true``) PostgreSQL is required: an unreachable server fails the test. On a laptop
without it, the PostgreSQL tests skip with a clear message and the SQLite ones still run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
HOST_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"


def admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to the maintenance database, or fail/skip as described above."""
    try:
        return psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and is unreachable: {exc}")
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432 ({exc.__class__.__name__}); start it to run")


def create_database(prefix: str = "kiosk_test", *, template: str | None = None) -> str:
    """A new uniquely named database (a copy of ``template``'s URL when given); its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"{copy}')
    return f"{HOST_URL}/{name}"


def drop_database(url: str) -> None:
    """Drop a test database, closing whatever still holds it."""
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@contextmanager
def temporary_database(prefix: str = "kiosk_test") -> Iterator[str]:
    """A new database for the ``with`` block; yields its SQLAlchemy URL."""
    url = create_database(prefix)
    try:
        yield url
    finally:
        drop_database(url)
