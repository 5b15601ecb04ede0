# ruff: noqa: S608 (table and column names come from the models, values go through COPY)
"""Bulk ``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL through a COPY into a staging table.

A batch of rows goes up in one ``COPY`` into a temporary table of the same columns, then one
set-based ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` moves them into the real table, in the
caller's transaction. Compared with a multi-row ``VALUES`` statement this sends no SQL text that
grows with the batch and converts values in psycopg's C code, which is what let a push keep up
with a plain COPY. The owner's per-event reference path (:func:`sync.apply.apply_each`) uses it; a
kiosk role makes no temporary table. The staging table is described from the SQLAlchemy table; it
lives as long as the connection and is emptied at every commit (``ON COMMIT DELETE ROWS``), and
whatever a rolled-back transaction put in it goes with the rollback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table
from sqlalchemy.dialects import postgresql

STAGE_PREFIX = "sync_stage_"


class RawJSON(str):
    """A value for a JSON column that is already JSON text (sent as it is, not encoded again)."""


def _stage_name(table: Table) -> str:
    return STAGE_PREFIX + table.name


def _empty_stage(cursor: Any, table: Table) -> None:
    """Create the stage on first use, else empty it (an earlier statement of this transaction
    may have filled it); one round trip, as two statements without parameters."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    columns = ", ".join(f'"{c.name}" {c.type.compile(dialect)}' for c in table.columns)
    stage = _stage_name(table)
    # Every name here comes from the model's own table definition, never from a request.
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DELETE ROWS; "
        f"DELETE FROM {stage}"
    )


def copy_insert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str] = (),
    returning: str | None = None,
) -> list[Any]:
    """Insert ``rows`` (all with the same keys) into ``table``, skipping conflicting ones.

    ``conflict`` names the unique columns to skip on (any unique constraint when empty);
    ``returning`` names a column whose values come back for the rows actually inserted.
    """
    if not rows:
        return []
    names = list(rows[0])
    json_columns = {n for n in names if isinstance(table.c[n].type, JSON)}
    quoted = ", ".join(f'"{n}"' for n in names)
    stage = _stage_name(table)
    target = f" ({', '.join(conflict)})" if conflict else ""
    tail = f' RETURNING "{returning}"' if returning else ""
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        _empty_stage(cursor, table)
        with cursor.copy(f"COPY {stage} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                values = [row[n] for n in names]
                if json_columns:
                    values = [
                        json.dumps(v)
                        if n in json_columns and v is not None and not isinstance(v, RawJSON)
                        else v
                        for n, v in zip(names, values, strict=True)
                    ]
                copy.write_row(values)
        cursor.execute(
            f"INSERT INTO {table.name} ({quoted}) SELECT {quoted} FROM {stage} "
            f"ON CONFLICT{target} DO NOTHING{tail}"
        )
        return [r[0] for r in cursor.fetchall()] if returning else []
