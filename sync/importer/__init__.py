"""Import of the scheduling system's export into the central database, idempotent.

Two forms: a FHIR R4 ``Bundle`` of ``Appointment`` resources (see :mod:`sync.fhir`), or a CSV,
UTF-8, one row per booking, with this header::

    national_number,first_name,last_name,birth_date,site_id,programme,enrolment_start,kind,starts_at,ends_at,room,status,language

``birth_date`` and ``enrolment_start`` are ISO dates, ``starts_at``/``ends_at`` ISO date-times
with offset, ``status`` is ``booked`` or ``cancelled``; ``language`` (``nl``, ``fr``, ``de``,
``en`` or empty: not known) may be left out of the header. Row ids are derived from the row's
natural keys (UUID v5), and an unchanged row is not written again, so importing the same file
twice changes nothing and kiosks pull nothing new.

Every line is checked here, before the database sees it, against what the kiosk and both kinds
of centre can hold: a programme and session kind of the programme files, the column lengths of
:mod:`kiosk.db.models` (SQLite would keep a longer value that PostgreSQL refuses), dates within
the years the rules can count in. A file with any bad line is refused whole with one problem per
bad line (its number and fields, never a person's data), and nothing is written.

Reading and checking need no database (:func:`parse_csv`, :func:`parse_fhir`); :func:`store`
writes what they return, with the programme files' rows, in one transaction. The package holds
``lines`` (one line checked, its rows), ``read`` (a file's lines, collected) and ``store``
(writing); this module is what the rest of the application calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import Engine

from kiosk.programme import Programme, load_programmes
from sync.importer.lines import (
    COLUMNS,
    FIRST_DAY,
    HEADER,
    HEADER_TEXT,
    LAST_DAY,
    LIMITS,
    REQUIRED,
    ImportFailed,
    Line,
)
from sync.importer.read import (
    ImportRows,
    check_lines,
    contents,
    parse_csv,
    parse_fhir,
    parse_file,
)
from sync.importer.store import ImportReport, lifetime_warnings, store, store_programmes

__all__ = [
    "COLUMNS",
    "FIRST_DAY",
    "HEADER",
    "HEADER_TEXT",
    "LAST_DAY",
    "LIMITS",
    "REQUIRED",
    "ImportFailed",
    "ImportReport",
    "ImportRows",
    "Line",
    "check_lines",
    "import_csv",
    "import_fhir",
    "import_lines",
    "lifetime_warnings",
    "parse_csv",
    "parse_fhir",
    "parse_file",
    "store",
    "store_programmes",
]


def _known(programmes: Mapping[str, Programme] | None) -> Mapping[str, Programme]:
    return load_programmes() if programmes is None else programmes


def import_lines(
    engine: Engine,
    lines: Sequence[Line],
    lookup_key: bytes,
    programmes: Mapping[str, Programme] | None = None,
) -> ImportReport:
    """Check and import labelled booking lines in one transaction.

    ``programmes``: the configured programme files (None: the shipped ones); their rows are
    brought up to date in the same transaction, so bookings never refer to an unknown programme.
    """
    known = _known(programmes)
    return store(engine, check_lines(lines, lookup_key, known), known)


def import_csv(
    engine: Engine,
    path: Path,
    lookup_key: bytes,
    programmes: Mapping[str, Programme] | None = None,
) -> ImportReport:
    """Import a CSV export in one transaction (``programmes``: as for :func:`import_lines`)."""
    known = _known(programmes)
    return store(engine, parse_csv(contents(path), str(path), lookup_key, known), known)


def import_fhir(
    engine: Engine,
    path: Path,
    lookup_key: bytes,
    programmes: Mapping[str, Programme] | None = None,
) -> ImportReport:
    """Import a FHIR R4 Bundle of Appointments in one transaction (``programmes``: as above)."""
    known = _known(programmes)
    return store(engine, parse_fhir(contents(path), str(path), lookup_key, known), known)
