"""The central database: schema, and on PostgreSQL one role per kiosk held to its own site.

Every kiosk role belongs to the group role ``kiosk``, which holds no privilege on any table,
sequence or schema object and may make no temporary table. The table ``sync_kiosk_roles`` (which
no kiosk can read) maps each login role to its site and kiosk id. A kiosk can only call a few
``SECURITY DEFINER`` functions: push a batch (:mod:`sync.push_function`), pull its site's changes
(:mod:`sync.pull_function`), its site and kiosk id, the change horizon and its wake channel's
name; each takes the site from the role map by ``session_user``. The owner (the role running
``kiosk central init``) is the scheduling import and the administrators.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from kiosk.db import migrate
from kiosk.db.engine import make_engine
from kiosk.db.files import sqlite_path
from kiosk.db.models import REPLICATED
from kiosk.programme import Programme
from sync import exit_function, notify, pull_function, push_function
from sync.exit_function import EXIT_GROUP
from sync.importer import ImportReport, ImportRows, store, store_programmes

GROUP_ROLE = "kiosk"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Tables that carried row-level-security policies for kiosk roles before kiosks lost every table
# privilege: an older centre's policies are dropped at init.
_POLICED = (*REPLICATED, "alerts", "audit", "sync_events")
# All a kiosk role may call: its site and kiosk id, the change horizon, push, pull and its wake
# channel's name.
KIOSK_FUNCTIONS = (
    "kiosk_site()",
    "kiosk_kiosk_id()",
    "sync_horizon()",
    push_function.SIGNATURE,
    pull_function.SIGNATURE,
    notify.KIOSK_CHANNEL,
)


def init(engine: Engine) -> None:
    """Create or upgrade the schema; on PostgreSQL also the kiosk group role and its functions."""
    migrate.upgrade(engine)
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        _security(conn)


# What an owner that is no superuser needs for sync_horizon() to end a transaction that holds
# every site's pulls back (migration 0010): to see other roles' sessions and to end them.
STALL_ROLES = ("pg_read_all_stats", "pg_signal_backend")


class OwnerLacks(PermissionError):
    """The owner may not be given what the centre needs of it (the message says what)."""


def _may_end_stalled(conn: Connection) -> None:
    if conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
        return
    for role in STALL_ROLES:
        if conn.scalar(text("SELECT pg_has_role(current_user, :r, 'USAGE')"), {"r": role}):
            continue
        try:
            with conn.begin_nested():
                conn.execute(text(f"GRANT {role} TO CURRENT_USER"))
        except DBAPIError:
            raise OwnerLacks(
                f"the owner role needs {' and '.join(STALL_ROLES)} to end a kiosk's transaction "
                "that holds every site's sync back: as a superuser, GRANT "
                f"{', '.join(STALL_ROLES)} TO the owner, then run kiosk central init again"
            ) from None


def _security(conn: Connection) -> None:
    _may_end_stalled(conn)
    for group in (GROUP_ROLE, EXIT_GROUP):
        exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": group})
        if not exists:
            conn.execute(text(f"CREATE ROLE {group} NOLOGIN"))
    schema = conn.scalar(text("SELECT quote_ident(current_schema())"))
    _role_map(conn, schema)
    # The only doors: functions running as the owner, each with the schema then pg_temp as its
    # whole search path and every name qualified inside.
    push_function.install(conn, schema=schema)
    pull_function.install(conn, schema=schema)
    notify.install(conn, group_role=GROUP_ROLE)
    exit_function.install(conn, schema=schema)
    _no_privileges(conn, schema)
    for group, functions in ((GROUP_ROLE, KIOSK_FUNCTIONS), (EXIT_GROUP, exit_function.SIGNATURES)):
        for function in functions:
            conn.execute(text(f"GRANT EXECUTE ON FUNCTION {schema}.{function} TO {group}"))


def _role_map(conn: Connection, schema: str) -> None:
    conn.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {schema}.sync_kiosk_roles ("
            "role_name text PRIMARY KEY, site_id varchar(16) NOT NULL, "
            "kiosk_id varchar(40) NOT NULL)"
        )
    )
    # Kiosk numbers came later: a centre made before gets the column, the rows keep NULL until
    # their role is added again; PostgreSQL's unique index lets several NULLs be.
    conn.execute(
        text(f"ALTER TABLE {schema}.sync_kiosk_roles ADD COLUMN IF NOT EXISTS kiosk_number integer")
    )
    conn.execute(
        text(
            "CREATE UNIQUE INDEX IF NOT EXISTS sync_kiosk_roles_site_number "
            f"ON {schema}.sync_kiosk_roles (site_id, kiosk_number)"
        )
    )
    conn.execute(
        text(
            "CREATE UNIQUE INDEX IF NOT EXISTS sync_kiosk_roles_site_kiosk "
            f"ON {schema}.sync_kiosk_roles (site_id, kiosk_id)"
        )
    )
    # Inside these functions current_user is the owner; the login role (session_user) is the
    # kiosk, and only a superuser can change it within a session.
    for function, column in (("kiosk_site", "site_id"), ("kiosk_kiosk_id", "kiosk_id")):
        # The server quoted the schema; the rest are this module's own names.
        body = f"SELECT {column} FROM {schema}.sync_kiosk_roles WHERE role_name = session_user"  # noqa: S608
        conn.execute(
            text(
                f"CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS text LANGUAGE sql "
                f"STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$ {body} $$"
            )
        )


def _no_privileges(conn: Connection, schema: str) -> None:
    """Kiosk and exit roles (and PUBLIC) hold nothing: no table, sequence or function of the
    schema, no temporary table, no CREATE; the owner keeps what it needs, explicitly."""
    database = conn.scalar(text("SELECT quote_ident(current_database())"))
    groups = f"{GROUP_ROLE}, {EXIT_GROUP}"
    conn.execute(text(f"REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC, {groups}"))
    conn.execute(text(f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO CURRENT_USER"))
    conn.execute(text(f"GRANT CONNECT ON DATABASE {database} TO {groups}"))
    conn.execute(text(f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC, {groups}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {groups}"))
    for objects in ("TABLES", "SEQUENCES"):
        conn.execute(text(f"REVOKE ALL ON ALL {objects} IN SCHEMA {schema} FROM PUBLIC, {groups}"))
    for table in _POLICED:
        conn.execute(text(f"DROP POLICY IF EXISTS kiosk_site ON {schema}.{table}"))
        conn.execute(text(f"ALTER TABLE {schema}.{table} DISABLE ROW LEVEL SECURITY"))
    # Functions are executable by PUBLIC when made: every one of the owner's in the schema is
    # taken back, and the kiosk's few are granted again by name.
    owned = conn.scalars(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "WHERE p.pronamespace = CAST(:s AS regnamespace) AND p.proowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ),
        {"s": schema},
    )
    for function in owned:
        conn.execute(text(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC, {groups}"))


KIOSK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
# The most connections a kiosk or exit role may hold at once: a kiosk's sync service takes up to
# five (its pool and its listener), a technician's command beside it as many; a stolen credential
# cannot take every connection the centre has.
ROLE_CONNECTIONS = 10
SITE_ID = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,15}")


class RoleRefused(ValueError):
    """``add-kiosk`` or ``add-exit`` will not make or change this role (the message says why)."""


def _check_names(engine: Engine, role: str, site_id: str, kind: str) -> None:
    """Refuse a centre without roles, or a role name or site id out of their forms."""
    if engine.dialect.name != "postgresql":
        raise RoleRefused(f"{kind} roles exist only on a PostgreSQL centre")
    if not ROLE_NAME.fullmatch(role):
        raise RoleRefused("a role name is lower-case letters, digits and _ (at most 63)")
    if not SITE_ID.fullmatch(site_id):
        raise RoleRefused("a site id is 1 to 16 of A-Z, 0-9, _ and -")


def _may_take(conn: Connection, role: str, site_id: str, role_map: str, whose: str) -> bool:
    """Whether ``role`` exists already; refused when the site is unknown or the role exists
    without a row in ``role_map`` (this module's constant names): made by someone else."""
    if not conn.scalar(text("SELECT 1 FROM sites WHERE id = :s"), {"s": site_id}):
        raise RoleRefused(f"the centre has no site {site_id}")
    exists = bool(conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}))
    ours = conn.scalar(text(f"SELECT 1 FROM {role_map} WHERE role_name = :r"), {"r": role})  # noqa: S608
    if exists and not ours:
        raise RoleRefused(f"role {role} exists and is not {whose}: choose another name")
    return exists


def _login_role(conn: Connection, role: str, *, exists: bool) -> None:
    """Make ``role`` (a name checked by :func:`_check_names`), or bound the one there."""
    verb = "ALTER" if exists else "CREATE"
    conn.execute(text(f"{verb} ROLE {role} LOGIN CONNECTION LIMIT {ROLE_CONNECTIONS:d}"))


def add_kiosk(engine: Engine, role: str, *, site_id: str, kiosk_id: str, kiosk_number: int) -> None:
    """Create (or re-point) the login role of one kiosk, held to ``site_id``.

    A role that exists but was not made by this function (the owner, a superuser, a person's
    role) is refused: re-pointing it would hand a kiosk's powers, or take a person's. Within a
    site, kiosk ids and kiosk numbers (the first digits of the kiosk's ticket numbers) are unique.
    The role gets no password here: set one with ``ALTER ROLE ... PASSWORD`` or use client
    certificates (``sslmode=verify-full``), and keep it in the kiosk's configuration only.
    """
    _check_names(engine, role, site_id, "kiosk")
    if not KIOSK_ID.fullmatch(kiosk_id):
        raise RoleRefused("a kiosk id is 1 to 40 letters, digits, _, . and -")
    if not 1 <= kiosk_number <= 99:
        raise RoleRefused("a kiosk number is 1 to 99")
    with engine.begin() as conn:
        exists = _may_take(conn, role, site_id, "sync_kiosk_roles", "a kiosk's")
        clash = conn.execute(
            text(
                "SELECT role_name, kiosk_id, kiosk_number FROM sync_kiosk_roles "
                "WHERE site_id = :s AND role_name <> :r AND (kiosk_id = :k OR kiosk_number = :n)"
            ),
            {"s": site_id, "r": role, "k": kiosk_id, "n": kiosk_number},
        ).first()
        if clash is not None:
            what = (
                f"kiosk id {kiosk_id}" if clash[1] == kiosk_id else f"kiosk number {kiosk_number}"
            )
            raise RoleRefused(f"{what} is already role {clash[0]}'s at site {site_id}")
        _login_role(conn, role, exists=exists)
        conn.execute(text(f"GRANT {GROUP_ROLE} TO {role}"))
        conn.execute(
            text(
                "INSERT INTO sync_kiosk_roles (role_name, site_id, kiosk_id, kiosk_number) "
                "VALUES (:r, :s, :k, :n) ON CONFLICT (role_name) DO UPDATE "
                "SET site_id = EXCLUDED.site_id, kiosk_id = EXCLUDED.kiosk_id, "
                "kiosk_number = EXCLUDED.kiosk_number"
            ),
            {"r": role, "s": site_id, "k": kiosk_id, "n": kiosk_number},
        )


def add_exit(engine: Engine, role: str, *, site_id: str) -> None:
    """Create (or re-point) the login role of a car park exit of ``site_id``: it may only verify
    and redeem that site's tickets (:mod:`sync.exit_function`). A role that exists but was not
    made by this function (a kiosk's, the owner, a person's) is refused."""
    _check_names(engine, role, site_id, "exit")
    with engine.begin() as conn:
        exists = _may_take(conn, role, site_id, "sync_exit_roles", "an exit's")
        _login_role(conn, role, exists=exists)
        conn.execute(text(f"GRANT {EXIT_GROUP} TO {role}"))
        conn.execute(
            text(
                "INSERT INTO sync_exit_roles (role_name, site_id) VALUES (:r, :s) "
                "ON CONFLICT (role_name) DO UPDATE SET site_id = EXCLUDED.site_id"
            ),
            {"r": role, "s": site_id},
        )


# -- by URL, for the command line (which holds no engine and no SQLAlchemy) -------------------


class CentreUnreachable(RuntimeError):
    """The central database did not answer (the message names only the kind of failure)."""


class NoCentre(ValueError):
    """There is no central database, or it has no schema yet: `kiosk central init` first."""


@contextmanager
def _centre(url: str) -> Iterator[Engine]:
    """An engine on the centre at ``url``, disposed after; a refused connection is
    :class:`CentreUnreachable` (the driver's message may quote the URL: only its kind is kept)."""
    engine = make_engine(url)
    try:
        yield engine
    except OperationalError as exc:
        reason = exc.orig.__class__.__name__ if exc.orig is not None else type(exc).__name__
        raise CentreUnreachable(f"the central database cannot be reached ({reason})") from None
    finally:
        engine.dispose()


def init_at(url: str, programmes: Mapping[str, Programme]) -> None:
    """``kiosk central init``: the schema, the security (PostgreSQL) and the programmes table
    from ``programmes`` (the programme files), so that the first import finds them."""
    with _centre(url) as engine:
        init(engine)
        store_programmes(engine, programmes)


def add_kiosk_at(url: str, role: str, *, site_id: str, kiosk_id: str, kiosk_number: int) -> None:
    """:func:`add_kiosk` on the centre at ``url``."""
    with _centre(url) as engine:
        add_kiosk(engine, role, site_id=site_id, kiosk_id=kiosk_id, kiosk_number=kiosk_number)


def add_exit_at(url: str, role: str, *, site_id: str) -> None:
    """:func:`add_exit` on the centre at ``url``."""
    with _centre(url) as engine:
        add_exit(engine, role, site_id=site_id)


def import_at(url: str, rows: ImportRows, programmes: Mapping[str, Programme]) -> ImportReport:
    """Store checked import rows (with the programme files' rows) in the centre at ``url``;
    raises :class:`NoCentre` when it was never made, creating nothing."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise NoCentre(f"no central database at {path} (run `kiosk central init`)")
    with _centre(url) as engine:
        if migrate.current_revision(engine) is None:
            raise NoCentre("the central database has no schema (run `kiosk central init`)")
        return store(engine, rows, programmes)
