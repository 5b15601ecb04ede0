"""Membership in a list of ids sent as one JSON parameter.

``column IN (:p1, :p2, ...)`` with a thousand ids costs a thousand bound parameters: SQLAlchemy
renders a new statement for every list length and the driver parses every placeholder again, and
SQLite caps the number of parameters. One JSON array in one text parameter, unpacked by the
database (``json_each`` on SQLite, ``json_array_elements_text`` on PostgreSQL), keeps the
statement the same whatever the list's length, and both ends handle it in C.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Text, cast, column, func, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import InstrumentedAttribute


def one_of(
    conn: Connection,
    target: ColumnElement[Any] | InstrumentedAttribute[Any],
    ids: Iterable[str],
) -> ColumnElement[bool]:
    """``target IN ids`` for the dialect of ``conn``, with the ids as one parameter."""
    document = literal(json.dumps(list(ids)), Text)
    if conn.dialect.name == "postgresql":
        values = select(func.json_array_elements_text(cast(document, postgresql.JSON)))
    else:
        values = select(column("value", Text)).select_from(func.json_each(document))
    return target.in_(values)
