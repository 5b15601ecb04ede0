"""Writing checked rows to the central database in one transaction, idempotent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    case,
    exists,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError

from kiosk.db.models import Base
from kiosk.domain.programme_rows import programme_rows
from kiosk.programme import Programme
from sync.importer.lines import ImportFailed
from sync.importer.read import ImportRows

_TABLES = Base.metadata.tables


@dataclass(frozen=True)
class ImportReport:
    """How many bookings the file had, and the warnings to show (nothing was refused)."""

    rows: int
    warnings: tuple[str, ...] = ()


def _upsert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    keep: tuple[str, ...],
    key: str = "id",
) -> None:
    """Insert new rows; update only rows whose values differ (no needless change numbers)."""
    if not rows:
        return
    module: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(table)
    columns = [c for c in rows[0] if c != key and c not in keep]
    if not columns:
        conn.execute(stmt.on_conflict_do_nothing(index_elements=[key]), rows)
        return
    values: dict[str, ColumnElement[Any]] = {c: stmt.excluded[c] for c in columns}
    if table is _TABLES["bookings"]:
        values["status"] = _imported_status(table, stmt.excluded["status"])
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_=values,
        where=or_(*[table.c[c].is_distinct_from(values[c]) for c in columns]),
    )
    conn.execute(stmt, rows)


def _imported_status(bookings: Table, exported: ColumnElement[Any]) -> ColumnElement[Any]:
    """A booking's status after a re-import: what reception or a kiosk recorded survives it.

    A booking cancelled at reception (it has a cancellation row) or attended (a check-in) keeps
    its status whatever a lagging export says; reception undoes its own cancellation.
    """
    # The row in conflict, written out: an INSERT has no FROM to correlate with, so a column
    # object would put a second `bookings` in the subquery and range over every booking.
    row_id: ColumnElement[str] = literal_column(f"{bookings.name}.id")
    recorded = or_(
        exists().where(_TABLES["cancellations"].c.booking_id == row_id),
        exists().where(_TABLES["checkins"].c.booking_id == row_id),
    )
    return case((recorded, bookings.c.status), else_=exported)


def store_programmes(engine: Engine, programmes: Mapping[str, Programme]) -> None:
    """Make the centre's ``programmes`` table match the programme files (insert or update).

    Enrolments and sessions refer to it, so a new programme file is all a centre needs: no SQL.
    A programme whose file is gone keeps its row (old enrolments still refer to it).
    """
    rows = programme_rows(programmes)
    with engine.begin() as conn:
        _upsert(conn, _TABLES["programmes"], rows, keep=(), key="code")


def store(engine: Engine, rows: ImportRows, programmes: Mapping[str, Programme]) -> ImportReport:
    """Write checked rows and the programme files' rows in one transaction.

    A refusal by the database (a patient the centre holds under another id, say) rolls all of
    it back and raises :class:`ImportFailed` naming only the kind of refusal.
    """
    programme_table = programme_rows(programmes)
    tables = rows.tables
    try:
        with engine.begin() as conn:
            _upsert(conn, _TABLES["programmes"], programme_table, keep=(), key="code")
            _upsert(conn, _TABLES["sites"], list(tables["sites"].values()), keep=("name",))
            _upsert(conn, _TABLES["patients"], list(tables["patients"].values()), keep=())
            warnings = lifetime_warnings(conn, rows, programmes)
            # Status of an enrolment and why it stopped are the centre's (absences, the physician,
            # the team stop it): set on creation only.
            _upsert(
                conn,
                _TABLES["enrolments"],
                list(tables["enrolments"].values()),
                keep=("status", "stop_reason"),
            )
            _upsert(conn, _TABLES["sessions"], list(tables["sessions"].values()), keep=())
            _upsert(conn, _TABLES["bookings"], list(tables["bookings"].values()), keep=())
    except (IntegrityError, DataError) as exc:
        # The driver's message may quote a row's values: only its kind is shown.
        reason = exc.orig.__class__.__name__ if exc.orig is not None else exc.__class__.__name__
        raise ImportFailed(
            f"the central database refused the bookings ({reason}); nothing was written"
        ) from None
    return ImportReport(rows=rows.bookings, warnings=warnings)


def lifetime_warnings(
    conn: Connection, rows: ImportRows, programmes: Mapping[str, Programme]
) -> tuple[str, ...]:
    """One line per booking line of an enrolment in a once-in-a-lifetime programme whose patient
    has an earlier enrolment in it (in the file or the centre): imported, and said."""
    enrolments = _TABLES["enrolments"]
    known = {
        (r.patient_id, r.programme_code, r.id): r.started_on
        for r in conn.execute(
            select(
                enrolments.c.patient_id,
                enrolments.c.programme_code,
                enrolments.c.id,
                enrolments.c.started_on,
            ).where(
                enrolments.c.patient_id.in_(
                    {e["patient_id"] for e in rows.tables["enrolments"].values()}
                )
            )
        )
    }
    known |= {
        (e["patient_id"], e["programme_code"], i): e["started_on"]
        for i, e in rows.tables["enrolments"].items()
    }
    warnings: list[str] = []
    for enrolment_id, row in rows.tables["enrolments"].items():
        code = row["programme_code"]
        if not programmes[code].once_in_a_lifetime:
            continue
        if any(
            patient == row["patient_id"]
            and other_code == code
            and other != enrolment_id
            and started < row["started_on"]
            for (patient, other_code, other), started in known.items()
        ):
            warnings += [
                f"{where}: the patient has an earlier enrolment in {code}, a programme followed "
                "once in a lifetime: check with the physician"
                for where in rows.lines_of.get(enrolment_id, [])
            ]
    return tuple(warnings)
