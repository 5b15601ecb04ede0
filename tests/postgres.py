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

ADMIN_DSN = os.environ.get(
    "KIOSK_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
HOST_URL = os.environ.get("KIOSK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


def admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to the maintenance database, or fail/skip as described above."""
    try:
        return psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and unreachable: {exc}")
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432 ({exc.__class__.__name__})")


@contextmanager
def temporary_database(prefix: str = "kiosk_test") -> Iterator[str]:
    """Create a uniquely named database and yield its SQLAlchemy URL; drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{HOST_URL}/{name}"
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
