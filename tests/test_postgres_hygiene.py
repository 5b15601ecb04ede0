"""The suite leaves the shared PostgreSQL as it found it, and never restarts it."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from kiosk.db.engine import make_engine
from sync import central
from tests.postgres import (
    RUN,
    RUN_VARIABLE,
    PostgresServer,
    admin_connection,
    drop_leftovers,
    drop_role,
    leftovers,
    temporary_database,
    unique_name,
)

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[1]


def _roles(pattern: str) -> list[str]:
    with admin_connection() as admin:
        rows = admin.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", [pattern])
        return [str(row[0]) for row in rows]


def test_names_carry_the_run_and_never_repeat() -> None:
    names = {unique_name("kiosk_genk") for _ in range(100)}
    assert len(names) == 100
    assert all(re.fullmatch(rf"kiosk_genk_{RUN}_[0-9a-f]{{8}}", name) for name in names)
    assert all(central.ROLE_NAME.fullmatch(name) for name in names)


def test_a_kiosk_role_goes_with_what_it_owns_and_was_granted() -> None:
    with temporary_database("hygiene") as url:
        admin = make_engine(url)
        central.init(admin)
        with admin.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, name) VALUES ('GENK', 'Campus Genk')"))
        role = unique_name("kiosk_genk")
        central.add_kiosk(admin, role, site_id="GENK", kiosk_id="GENK-1", kiosk_number=1)
        with admin.begin() as conn:
            # What a role can hold in a database: objects it owns, privileges granted to it.
            conn.execute(text("CREATE TABLE owned_by_kiosk (n int)"))
            conn.execute(text(f'ALTER TABLE owned_by_kiosk OWNER TO "{role}"'))
            conn.execute(text(f'GRANT SELECT ON sites TO "{role}"'))
        # A session of the role still open when the test ends, as after a failed test.
        session = psycopg.connect(
            f"host=127.0.0.1 port=5432 user={role} dbname={url.rsplit('/', 1)[1]}"
        )
        drop_role(role)
        session.close()
        assert _roles(role) == []
        with admin.connect() as conn:
            owner = conn.scalar(
                text("SELECT tableowner FROM pg_tables WHERE tablename = 'owned_by_kiosk'")
            )
            assert owner == "postgres"
        admin.dispose()


def test_the_kiosk_role_fixture_drops_its_roles(kiosk_role: Callable[[str], str]) -> None:
    # The fixture's own teardown is checked by the run's end check; here: a name it hands out
    # is free to create, and two are never the same.
    first, second = kiosk_role("kiosk_genk"), kiosk_role("kiosk_genk")
    assert first != second
    with admin_connection() as admin:
        admin.execute(f'CREATE ROLE "{first}" LOGIN')
    assert _roles(first) == [first]


LEAKING_TEST = textwrap.dedent(
    """
    from tests.postgres import admin_connection, create_database, unique_name

    def test_leaks():
        create_database("leak_test")
        with admin_connection() as admin:
            admin.execute(f'CREATE ROLE "{unique_name("leak_role")}"')
    """
)


def test_a_run_that_leaves_a_database_or_role_behind_fails(tmp_path: Path) -> None:
    (tmp_path / "test_leaking.py").write_text(LEAKING_TEST, encoding="utf-8")
    inner = unique_name("run")[-8:]  # the inner run's token: what it leaves is found by it
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "tests.conftest",
                f"--basetemp={tmp_path / 'inner'}",
                f"--rootdir={tmp_path}",
                str(tmp_path / "test_leaking.py"),
            ],
            cwd=ROOT,
            env={
                **os.environ,
                RUN_VARIABLE: inner,
                "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        output = run.stdout + run.stderr
        left = leftovers(inner)
        assert [entry.split("_")[0] for entry in left] == ["database leak", "role leak"], output
        assert run.returncode != 0, output
        assert f"the run left on the shared PostgreSQL: {', '.join(left)}" in output
    finally:
        drop_leftovers(inner)
    assert leftovers(inner) == []


def test_a_server_of_the_tests_own_restarts_and_stops(own_postgres: PostgresServer) -> None:
    assert own_postgres.port != 5432
    with psycopg.connect(own_postgres.dsn) as conn:
        data = conn.execute("SHOW data_directory").fetchone()
    assert data is not None and Path(str(data[0])).is_relative_to(own_postgres.folder)
    # On the run's clock (under faketime too), so tests can compare its now() with theirs.
    with psycopg.connect(own_postgres.dsn) as conn:
        server_now = conn.execute("SELECT now()").fetchone()
    assert server_now is not None and isinstance(server_now[0], dt.datetime)
    assert abs((server_now[0] - dt.datetime.now(dt.UTC)).total_seconds()) < 60
    # Its unix socket is in its folder too, never in the machine's /run/postgresql.
    by_socket = f"host={own_postgres.folder} port={own_postgres.port} user=postgres"
    with psycopg.connect(by_socket) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    started = own_postgres.started_at()
    own_postgres.restart()
    assert own_postgres.started_at() > started
    own_postgres.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(own_postgres.dsn, connect_timeout=2)
