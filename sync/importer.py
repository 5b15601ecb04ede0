"""Import of the scheduling system's export into the central database, idempotent.

Two forms: a FHIR R4 ``Bundle`` of ``Appointment`` resources (see :mod:`sync.fhir`), or a CSV,
UTF-8, one row per booking, with this header::

    national_number,first_name,last_name,birth_date,site_id,programme,enrolment_start,kind,starts_at,ends_at,room,status

``birth_date`` and ``enrolment_start`` are ISO dates, ``starts_at``/``ends_at`` ISO date-times
with offset, ``status`` is ``booked`` or ``cancelled``. Row ids are derived from the row's
natural keys (UUID v5), and an unchanged row is not written again, so importing the same file
twice changes nothing and kiosks pull nothing new.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, or_
from sqlalchemy.dialects import postgresql, sqlite

from devices.eid.national_number import InvalidNationalNumber, validate
from kiosk.db.models import Base, BookingStatus, EnrolmentStatus
from kiosk.patients import nn_hash
from kiosk.programme import Programme, load_programmes
from sync.fhir import FhirError, bundle_lines

HEADER = [
    "national_number",
    "first_name",
    "last_name",
    "birth_date",
    "site_id",
    "programme",
    "enrolment_start",
    "kind",
    "starts_at",
    "ends_at",
    "room",
    "status",
]
NAMESPACE = uuid.UUID("6f1c2a52-6a43-4d5e-9a7e-2f0b1c9d8e11")


class ImportFailed(ValueError):
    """The file cannot be imported; the message names the line, never its personal data."""


@dataclass(frozen=True)
class ImportReport:
    """How many rows the file had."""

    rows: int


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(parts)))


def _aware(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("no UTC offset")
    return value.astimezone(dt.UTC)


def _rows(
    lines: Iterable[tuple[str, Mapping[str, str]]], key: bytes
) -> dict[str, dict[str, dict[str, Any]]]:
    """The table rows of labelled booking lines (a label says where a line came from)."""
    out: dict[str, dict[str, dict[str, Any]]] = {
        t: {} for t in ("sites", "patients", "enrolments", "sessions", "bookings")
    }
    for where, line in lines:
        try:
            nn = validate(line["national_number"])
            hashed = nn_hash(key, nn)
            patient_id = _id("patient", hashed)
            site = line["site_id"]
            enrolment_id = _id("enrolment", patient_id, line["programme"], line["enrolment_start"])
            starts = _aware(line["starts_at"])
            session_id = _id("session", site, line["kind"], starts.isoformat(), line["room"])
            status = BookingStatus(line["status"] or "booked")
            out["sites"][site] = {"id": site, "name": site}
            out["patients"][patient_id] = {
                "id": patient_id,
                "nn_hash": hashed,
                "national_number": nn,
                "first_name": line["first_name"],
                "last_name": line["last_name"],
                "birth_date": dt.date.fromisoformat(line["birth_date"])
                if line["birth_date"]
                else None,
                "site_id": site,
            }
            out["enrolments"][enrolment_id] = {
                "id": enrolment_id,
                "patient_id": patient_id,
                "programme_code": line["programme"],
                "site_id": site,
                "status": EnrolmentStatus.ACTIVE,
                "started_on": dt.date.fromisoformat(line["enrolment_start"]),
                "stop_reason": "",
            }
            out["sessions"][session_id] = {
                "id": session_id,
                "site_id": site,
                "programme_code": line["programme"],
                "kind": line["kind"],
                "starts_at": starts,
                "ends_at": _aware(line["ends_at"]),
                "room": line["room"],
            }
            booking_id = _id("booking", session_id, enrolment_id)
            out["bookings"][booking_id] = {
                "id": booking_id,
                "session_id": session_id,
                "enrolment_id": enrolment_id,
                "patient_id": patient_id,
                "status": status,
            }
        except (KeyError, ValueError, InvalidNationalNumber) as exc:
            raise ImportFailed(f"{where}: {exc.__class__.__name__}") from None
    return out


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
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={c: stmt.excluded[c] for c in columns},
        where=or_(*[table.c[c].is_distinct_from(stmt.excluded[c]) for c in columns]),
    )
    conn.execute(stmt, rows)


def _programme_rows(programmes: Mapping[str, Programme]) -> list[dict[str, Any]]:
    # The loader guarantees every programme an English title.
    return [{"code": p.code, "name": p.title["en"]} for p in programmes.values()]


def store_programmes(engine: Engine, programmes: Mapping[str, Programme]) -> None:
    """Make the centre's ``programmes`` table match the programme files (insert or update).

    Enrolments and sessions refer to it, so a new programme file is all a centre needs: no SQL.
    A programme whose file is gone keeps its row (old enrolments still refer to it).
    """
    with engine.begin() as conn:
        _upsert(conn, Base.metadata.tables["programmes"], _programme_rows(programmes), (), "code")


def import_lines(
    engine: Engine,
    lines: Sequence[tuple[str, Mapping[str, str]]],
    lookup_key: bytes,
    programmes: Mapping[str, Programme] | None = None,
) -> ImportReport:
    """Import labelled booking lines (the CSV header's keys) in one transaction.

    ``programmes``: the configured programme files (None: the shipped ones); their rows are
    brought up to date in the same transaction, so bookings never refer to an unknown programme.
    """
    known = load_programmes() if programmes is None else programmes
    rows = _rows(lines, lookup_key)
    tables = Base.metadata.tables
    with engine.begin() as conn:
        _upsert(conn, tables["programmes"], _programme_rows(known), keep=(), key="code")
        _upsert(conn, tables["sites"], list(rows["sites"].values()), keep=("name",))
        _upsert(conn, tables["patients"], list(rows["patients"].values()), keep=())
        # Status of an enrolment is the centre's (absences stop it): set on creation only.
        _upsert(conn, tables["enrolments"], list(rows["enrolments"].values()), keep=("status",))
        _upsert(conn, tables["sessions"], list(rows["sessions"].values()), keep=())
        _upsert(conn, tables["bookings"], list(rows["bookings"].values()), keep=())
    return ImportReport(rows=len(lines))


def import_csv(
    engine: Engine,
    path: Path,
    lookup_key: bytes,
    programmes: Mapping[str, Programme] | None = None,
) -> ImportReport:
    """Import a CSV export in one transaction (``programmes``: as for :func:`import_lines`)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or list(reader.fieldnames) != HEADER:
            raise ImportFailed(f"{path}: the header must be {','.join(HEADER)}")
        lines = [(f"line {n}", line) for n, line in enumerate(reader, start=2)]
    return import_lines(engine, lines, lookup_key, programmes)


def import_fhir(
    engine: Engine,
    path: Path,
    lookup_key: bytes,
    programmes: Mapping[str, Programme] | None = None,
) -> ImportReport:
    """Import a FHIR R4 Bundle of Appointments in one transaction (``programmes``: as above)."""
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFailed(f"{path}: not a JSON document ({exc.__class__.__name__})") from None
    try:
        lines = bundle_lines(bundle)
    except FhirError as exc:
        raise ImportFailed(f"{path}: {exc}") from None
    return import_lines(engine, lines, lookup_key, programmes)
