"""PostgreSQL for the tests: throw-away databases and roles on the shared server.

The shared server is the one at 127.0.0.1:5432 (trust auth, user postgres). Under CI
(``CI=true``) it is required: an unreachable server fails the test. On a laptop without it, the
PostgreSQL tests skip with a clear message and the SQLite ones still run.

Other runs of the suite use the same server at the same time, so every database and role a test
makes there is named with this run's token (:data:`RUN`) and a random part: names never collide,
and what a run leaves behind can be told apart from everyone else's (the root conftest fails the
run if anything of it remains).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import psycopg
import pytest

SHARED = "host=127.0.0.1 port=5432 user=postgres"
ADMIN_DSN = f"{SHARED} dbname=postgres"
HOST_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"

RUN = uuid.uuid4().hex[:8]
"""This run's token, part of the name of every database and role it makes on the shared server."""

_touched = False
"""Whether this run made anything on the shared server (only then is it checked at the end)."""


def unique_name(prefix: str) -> str:
    """A database or role name of this run: ``prefix``, the run's token and a random part."""
    return f"{prefix}_{RUN}_{uuid.uuid4().hex[:8]}"


def _unavailable(what: str, exc: Exception | None = None) -> NoReturn:
    reason = f"{what} ({exc.__class__.__name__})" if exc else what
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI: {reason}")
    pytest.skip(f"{reason}; install or start PostgreSQL to run")


def admin_connection(dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to a database of the shared server, or fail/skip as above."""
    try:
        return psycopg.connect(f"{SHARED} dbname={dbname}", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unavailable("no PostgreSQL at 127.0.0.1:5432", exc)


def create_database(prefix: str = "kiosk_test", *, template: str | None = None) -> str:
    """A new uniquely named database (a copy of ``template``'s URL when given); its URL."""
    global _touched
    name = unique_name(prefix)
    copy = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
    with admin_connection() as admin:
        _touched = True
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


def drop_role(role: str) -> None:
    """Drop a login role of the shared server and whatever it owns or was granted, everywhere.

    Ownership and grants are per database (``pg_shdepend`` says which): each of them is
    cleared there first, then the role's grants on shared objects, then the role.
    """
    with admin_connection() as admin:
        # A test that failed may still hold connections as the role.
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role]
        )
        databases = [
            str(row[0])
            for row in admin.execute(
                "SELECT DISTINCT d.datname FROM pg_shdepend s "
                "JOIN pg_database d ON d.oid = s.dbid "
                "JOIN pg_roles r ON r.oid = s.refobjid WHERE r.rolname = %s",
                [role],
            )
        ]
    for database in databases:
        with admin_connection(database) as conn:
            conn.execute(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER')
            conn.execute(f'DROP OWNED BY "{role}"')
    with admin_connection() as admin:
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        if exists:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def kiosk_role() -> Iterator[Callable[[str], str]]:
    """Names for the kiosk login roles a test makes on the shared server (``kiosk_role("kiosk_
    genk")``): unique to the test, dropped with everything granted to them when it ends."""
    made: list[str] = []

    def name(prefix: str = "kiosk") -> str:
        global _touched
        _touched = True
        role = unique_name(prefix)
        made.append(role)
        return role

    yield name
    for role in made:
        drop_role(role)


def leftovers() -> list[str]:
    """The databases and roles of this run still on the shared server (empty if it made none)."""
    if not _touched:
        return []
    pattern = f"%\\_{RUN}\\_%"
    with admin_connection() as admin:
        rows = admin.execute(
            "SELECT 'database ' || datname FROM pg_database WHERE datname LIKE %s "
            "UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname LIKE %s "
            "ORDER BY 1",
            [pattern, pattern],
        ).fetchall()
    return [str(row[0]) for row in rows]
