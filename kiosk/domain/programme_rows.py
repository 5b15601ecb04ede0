"""The ``programmes`` table from the programme files: the rows the centre stores (``kiosk
central init``, every import) and the demo fills in, so that enrolments and sessions always
refer to a programme the database knows and a new file needs no SQL."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import String

from kiosk.db.models import ProgrammeRow
from kiosk.programme import Programme, ProgrammeError

# PostgreSQL refuses NUL, and a control character breaks a screen line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def programme_rows(programmes: Mapping[str, Programme]) -> list[dict[str, str]]:
    """The ``programmes`` table's rows of the programme files.

    Raises :class:`ProgrammeError` naming the file when its code or English title cannot be
    stored (too long for the column, or holding a control character).
    """
    columns = ProgrammeRow.__table__.c
    rows = []
    for programme in programmes.values():
        # The loader guarantees every programme an English title.
        row = {"code": programme.code, "name": programme.title["en"]}
        for column, path in (("code", "programme.code"), ("name", "programme.title.en")):
            kind = columns[column].type
            length = kind.length if isinstance(kind, String) else None
            if _CONTROL.search(row[column]):
                raise ProgrammeError(f"{programme.source}: {path}: holds a control character")
            if length is not None and len(row[column]) > length:
                raise ProgrammeError(
                    f"{programme.source}: {path}: is longer than the centre's {length} characters"
                )
        rows.append(row)
    return rows
