"""PostgreSQL for the tests: throw-away databases and roles on the shared server, and servers of
a test's own.

The shared server is the one at 127.0.0.1:5432 (trust auth, user postgres). Under CI
(``CI=true``) it is required: an unreachable server fails the test. On a laptop without it, the
PostgreSQL tests skip with a clear message and the SQLite ones still run.

Other runs of the suite use the same server at the same time, so every database and role a test
makes there is named with this run's token (:data:`RUN`) and a random part: names never collide,
and what a run leaves behind can be told apart from everyone else's (the root conftest fails the
run if anything of it remains).

A test that restarts or stops PostgreSQL takes the ``own_postgres`` fixture instead: a server
made for it with ``initdb`` from the installed binaries, gone when the test ends. The machine's
server is never restarted.
"""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest

SHARED = "host=127.0.0.1 port=5432 user=postgres"
ADMIN_DSN = f"{SHARED} dbname=postgres"
HOST_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"

RUN_VARIABLE = "TESTS_POSTGRES_RUN"
RUN = os.environ.get(RUN_VARIABLE) or uuid.uuid4().hex[:8]
"""This run's token, part of the name of every database and role it makes on the shared server
(a test that starts a run of its own chooses that run's token through ``RUN_VARIABLE``)."""

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


def leftovers(run: str | None = None) -> list[str]:
    """The databases and roles of this run (or of ``run``) still on the shared server, as
    ``database NAME`` and ``role NAME``; empty if this run made none."""
    if run is None and not _touched:
        return []
    pattern = f"%\\_{run or RUN}\\_%"
    with admin_connection() as admin:
        rows = admin.execute(
            "SELECT 'database ' || datname FROM pg_database WHERE datname LIKE %s "
            "UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname LIKE %s "
            "ORDER BY 1",
            [pattern, pattern],
        ).fetchall()
    return [str(row[0]) for row in rows]


def drop_leftovers(run: str) -> None:
    """Drop whatever the run ``run`` left on the shared server."""
    for entry in leftovers(run):
        kind, name = entry.split(" ", 1)
        if kind == "database":
            drop_database(f"{HOST_URL}/{name}")
    for entry in leftovers(run):
        drop_role(entry.split(" ", 1)[1])


# -- a server of the test's own -------------------------------------------------------------


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL server's ``bin`` folder (Debian keeps one per version
    under /usr/lib/postgresql; elsewhere ``initdb`` is on the PATH), or None."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: [int(part) for part in path.parts[-3].split(".") if part.isdigit()],
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A PostgreSQL server in a temporary folder: data, unix socket and log all inside it.

    Trust authentication for ``postgres``, TCP on 127.0.0.1 on a free port. ``initdb`` and the
    server refuse to run as root: then they run as the ``postgres`` system user (or ``nobody``),
    which is given the folder. The server keeps the test run's clock: under ``faketime`` it
    inherits the same offset, so its now() agrees with the tests' (the machine's server cannot).
    """

    def __init__(self, bindir: Path, folder: Path) -> None:
        self.bindir = bindir
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.port = 0
        self._owner = _unprivileged_user() if os.geteuid() == 0 else None
        if self._owner is not None:
            os.chown(folder, self._owner.pw_uid, self._owner.pw_gid)

    @property
    def dsn(self) -> str:
        """libpq connection string of the maintenance database."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def url(self, database: str) -> str:
        """SQLAlchemy URL of one of this server's databases."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / tool), *args]
        owner = self._owner
        result = subprocess.run(
            command,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            user=owner.pw_uid if owner else None,
            group=owner.pw_gid if owner else None,
            extra_groups=[] if owner else None,
        )
        return result

    def init(self) -> None:
        """``initdb``: a new cluster, trust authentication, the encoding of the machine's."""
        done = self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--no-sync",
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()}")

    def _configure(self, port: int) -> None:
        # A throw-away cluster: no durability needed, so nothing waits for the disk.
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            "unix_socket_directories": f"'{self.folder}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "40",
            "shared_buffers": "32MB",
        }
        # Settings later in the file win: each start appends its port after initdb's defaults.
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self.port = port

    def start(self) -> None:
        """Start the server and wait until it accepts connections; retries on a taken port."""
        for _ in range(5):
            self._configure(_free_port())
            done = self._run(
                "pg_ctl",
                "--pgdata",
                str(self.data),
                "--log",
                str(self.log),
                "--wait",
                "--timeout",
                "60",
                "start",
            )
            if done.returncode == 0:
                return
            log = self.log.read_text(encoding="utf-8", errors="replace")
            if "could not bind" not in log and "already in use" not in log:
                raise RuntimeError(f"the test's PostgreSQL did not start:\n{log[-2000:]}")
        raise RuntimeError("no free port for the test's PostgreSQL after 5 tries")

    def restart(self) -> None:
        """Stop (``-m fast``: sessions are cut, as a real restart does) and start again."""
        done = self._run(
            "pg_ctl",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--wait",
            "--mode",
            "fast",
            "restart",
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl restart failed: {done.stderr.strip()}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (no-op when it is not running)."""
        if not (self.data / "postmaster.pid").exists():
            return
        done = self._run("pg_ctl", "--pgdata", str(self.data), "--wait", "--mode", mode, "stop")
        if done.returncode != 0 and (self.data / "postmaster.pid").exists():
            # pg_ctl could not stop it: end the postmaster itself, it is ours.
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.05)

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.dsn, autocommit=True, connect_timeout=5)

    def create_database(self, prefix: str = "kiosk_test") -> str:
        """A new database on this server; its SQLAlchemy URL."""
        name = unique_name(prefix)
        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def started_at(self) -> dt.datetime:
        """When the running server started (a restart moves it on)."""
        with self._admin() as admin:
            row = admin.execute("SELECT pg_postmaster_start_time()").fetchone()
        assert row is not None and isinstance(row[0], dt.datetime)
        return row[0]


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this test alone, which it may restart or stop; removed after."""
    bindir = server_binaries()
    if bindir is None:
        _unavailable("no PostgreSQL server binaries (initdb) installed")
    # /tmp, not $TMPDIR: the server's user must reach the folder and the socket path stays short.
    folder = Path(tempfile.mkdtemp(prefix="kiosk-pg-", dir="/tmp"))
    server = PostgresServer(bindir, folder)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
