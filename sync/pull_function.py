# ruff: noqa: S608 (the queries are compiled from the models; the schema is quoted by the server)
"""The centre's pull on PostgreSQL: the ``sync_pull`` function, made at ``kiosk central init``
from the queries of :mod:`sync.changes`, and the decoding of what it returns.

``sync_pull(checkpoint, hi, window_start, window_end, fresh_from)`` returns one ``json``
object: per replicated table the site's rows (only the replica's columns), the bookings and
sessions of pulled attendance outside the window (``more_bookings``, ``more_sessions``), and
``tombstones``.
The site is the role map's for ``session_user``; only the owner (no kiosk role) names one. The
caller asks ``sync_horizon()`` for ``hi`` first and then calls this in a ``REPEATABLE READ``
transaction, as before (:func:`sync.pull.pull`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    DateTime,
    Enum,
    Select,
    String,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql

from kiosk.db.models import Base, Booking, SessionRow
from sync.changes import (
    CHILDREN,
    Asked,
    Window,
    change_queries,
    fresh_from,
    replica_columns,
    table_of,
    tombstones_query,
)
from sync.push_sql import KIOSK_MEMBER

SIGNATURE = "sync_pull(bigint, bigint, timestamptz, timestamptz, timestamptz, text)"
_DIALECT: Any = postgresql.dialect()  # type: ignore[no-untyped-call]
_ASKED = Asked(
    site=literal_column("v_site", String),
    checkpoint=literal_column("p_checkpoint", BigInteger),
    hi=literal_column("p_hi", BigInteger),
    start=literal_column("p_start", DateTime(timezone=True)),
    end=literal_column("p_end", DateTime(timezone=True)),
    fresh_from=literal_column("p_fresh_from", DateTime(timezone=True)),
)
_ORDER = tuple(change_queries(_ASKED))


_TABLES = re.compile(
    r"\b(FROM|JOIN) (" + "|".join(sorted(Base.metadata.tables, key=len, reverse=True)) + r")\b"
)


def _sql(query: Select[Any], schema: str) -> str:
    """A query as SQL with its constants in place and every table of the schema qualified
    (the column references keep the bare table name, which the qualified table still has)."""
    compiled = str(query.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))
    return _TABLES.sub(lambda m: f"{m[1]} {schema}.{m[2]}", compiled).replace("\n", " ")


def _rows(query: str) -> str:
    # json, not jsonb: an aggregate of text, without jsonb's binary form and sorted keys.
    return f"(SELECT coalesce(json_agg(q), '[]'::json) FROM ({query}) q)"


def body(schema: str) -> str:
    """The function's PL/pgSQL body: one variable per table, one object at the end."""
    queries = change_queries(_ASKED)
    names = [*queries, "more_bookings", "more_sessions", "tombstones"]
    declared = "\n".join(f"    v_{name} json;" for name in names)
    reads = "\n".join(
        f"    v_{name} := {_rows(_sql(query, schema))};" for name, query in queries.items()
    )
    children = " UNION ALL ".join(
        f"SELECT r->>'booking_id' FROM json_array_elements(v_{table_of(m).name}) r"
        for m in CHILDREN
    )
    bookings = _sql(select_of(Booking), schema)
    sessions = _sql(select_of(SessionRow), schema)
    tombstones = _sql(tombstones_query(_ASKED), schema)
    built = ", ".join(f"'{name}', v_{name}" for name in names)
    return f"""
DECLARE
    v_site text;
{declared}
BEGIN
    SELECT m.site_id INTO v_site FROM {schema}.sync_kiosk_roles m
        WHERE m.role_name = session_user;
    IF v_site IS NULL THEN
        IF {KIOSK_MEMBER} THEN
            RAISE EXCEPTION 'this kiosk role has no site in the role map'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        v_site := p_site;
    END IF;
{reads}
    -- Bookings and sessions of pulled attendance outside the window come along with it.
    v_more_bookings := {
        _rows(
            f"{bookings} WHERE bookings.id IN ({children}) AND bookings.id NOT IN "
            "(SELECT r->>'id' FROM json_array_elements(v_bookings) r) AND EXISTS (SELECT 1 FROM "
            f"{schema}.sessions s WHERE s.id = bookings.session_id AND s.site_id = v_site)"
        )
    };
    v_more_sessions := {
        _rows(
            f"{sessions} WHERE sessions.site_id = v_site AND sessions.id IN "
            "(SELECT r->>'session_id' FROM json_array_elements(v_bookings) r UNION ALL "
            "SELECT r->>'session_id' FROM json_array_elements(v_more_bookings) r) "
            "AND sessions.id NOT IN (SELECT r->>'id' FROM json_array_elements(v_sessions) r)"
        )
    };
    v_tombstones := (SELECT coalesce(json_agg(json_build_array(q.table_name, q.row_id)),
        '[]'::json) FROM ({tombstones}) q);
    RETURN json_build_object({built});
END"""


def select_of(model: type[Base]) -> Select[Any]:
    """Every replica column of ``model``'s table, no condition."""
    return select(*replica_columns(model))


def install(conn: Connection, *, schema: str) -> None:
    """Create or replace ``sync_pull`` (granted to the kiosks by :mod:`sync.central`)."""
    conn.execute(text(f"DROP FUNCTION IF EXISTS {schema}.{SIGNATURE}"))
    conn.exec_driver_sql(
        f"CREATE FUNCTION {schema}.sync_pull(p_checkpoint bigint, p_hi bigint, "
        "p_start timestamptz, p_end timestamptz, p_fresh_from timestamptz, "
        "p_site text DEFAULT NULL) RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER "
        f"SET search_path = {schema}, pg_temp AS $fn$" + body(schema) + " $fn$"
    )


def _decoder(column: Any) -> Callable[[Any], Any] | None:
    """How a JSON value of ``column`` becomes the value the kiosk's database takes."""
    kind = column.type
    if isinstance(kind, Enum) and kind.enum_class is not None:
        members = kind.enum_class
        return lambda name: members[name]
    if isinstance(kind, Date):
        return dt.date.fromisoformat
    if isinstance(kind, DateTime) or isinstance(getattr(kind, "impl", None), DateTime):
        return lambda text: dt.datetime.fromisoformat(text).astimezone(dt.UTC)
    return None


def _decoders(table_name: str) -> dict[str, Callable[[Any], Any]]:
    table = Base.metadata.tables[table_name]
    found = {c.name: _decoder(c) for c in table.columns}
    return {name: decode for name, decode in found.items() if decode is not None}


def read_by_function(
    conn: Connection,
    *,
    site_id: str,
    checkpoint: int,
    hi: int,
    window: Window,
    previous: Window | None,
) -> tuple[dict[str, list[dict[str, Any]]], list[tuple[str, str]]]:
    """What :func:`sync.changes.read_changes` reads, through ``sync_pull``, typed."""
    start, end = window.bounds()
    found = conn.exec_driver_sql(
        "SELECT sync_pull(%s, %s, %s, %s, %s, %s)",
        (checkpoint, hi, start, end, fresh_from(checkpoint, window, previous), site_id),
    ).scalar_one()
    tombstones = [(str(t), str(r)) for t, r in found["tombstones"]]
    found["bookings"] += found["more_bookings"]
    found["sessions"] += found["more_sessions"]
    rows: dict[str, list[dict[str, Any]]] = {}
    for name in _ORDER:  # parents first, as the kiosk's database writes them
        pulled, decoders = found[name], _decoders(name)
        rows[name] = [
            {
                key: decoders[key](value) if value is not None and key in decoders else value
                for key, value in row.items()
            }
            for row in pulled
        ]
    return rows, tombstones
