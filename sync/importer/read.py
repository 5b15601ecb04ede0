"""Reading an export (CSV or FHIR) into checked rows, one problem per bad line; no database."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.programme import Programme
from sync.fhir import FhirError, bundle_items
from sync.importer.lines import COLUMNS, HEADER, HEADER_TEXT, ImportFailed, Line, line_rows

# What a table's row is to the person reading an error, and the field a differing column shows.
_NOUN = {"patients": "patient", "enrolments": "enrolment", "sessions": "session"}
_FIELD_OF_COLUMN = {"programme_code": "programme", "started_on": "enrolment_start"}


@dataclass
class ImportRows:
    """A file's bookings, checked: the rows of each table the import writes, by id."""

    tables: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {
            t: {} for t in ("sites", "patients", "enrolments", "sessions", "bookings")
        }
    )
    lines_of: dict[str, list[str]] = field(default_factory=dict)
    """The lines of each enrolment (by id), for :func:`lifetime_warnings`."""

    @property
    def bookings(self) -> int:
        """How many bookings."""
        return len(self.tables["bookings"])


class _Collector:
    """Rows of checked lines, and one problem per bad line, in the order of the file."""

    def __init__(self, lookup_key: bytes, programmes: Mapping[str, Programme], source: str):
        self.lookup_key, self.programmes, self.source = lookup_key, programmes, source
        self.prefix = f"{source}: " if source else ""
        self.rows = ImportRows()
        self.first_seen: dict[tuple[str, str], str] = {}
        self.problems: list[str] = []

    def refuse(self, where: str, reasons: Iterable[str]) -> None:
        self.problems.append(f"{self.prefix}{where}: {'; '.join(reasons)}")

    def add(self, where: str, line: Mapping[str, str]) -> None:
        rows, bad = line_rows(line, self.lookup_key, self.programmes)
        reasons = [f"{name}: {why}" for name, why in bad.items()]
        tables = self.rows.tables
        for table, (row_id, row) in rows.items():
            earlier = tables[table].get(row_id)
            if earlier is None:
                continue
            origin = self.first_seen[table, row_id]
            if table == "bookings":
                reasons.append(f"the same booking as {origin}")
                continue
            differ = [_FIELD_OF_COLUMN.get(c, c) for c in row if row[c] != earlier[c]]
            if differ:
                noun = _NOUN[table]
                reasons.append(f"{', '.join(differ)}: differs from {origin} for the same {noun}")
        if reasons:
            self.refuse(where, reasons)
            return
        for table, (row_id, row) in rows.items():
            tables[table].setdefault(row_id, row)
            self.first_seen.setdefault((table, row_id), where)
        self.rows.lines_of.setdefault(rows["enrolments"][0], []).append(f"{self.prefix}{where}")

    def result(self) -> ImportRows:
        if self.problems:
            raise ImportFailed(self.problems)
        if not self.rows.bookings:
            # An export that lost its rows must not look like a quiet day.
            raise ImportFailed(f"{self.source or 'the import'}: holds no booking")
        return self.rows


def check_lines(
    lines: Iterable[Line],
    lookup_key: bytes,
    programmes: Mapping[str, Programme],
    source: str = "",
) -> ImportRows:
    """Check labelled booking lines (the CSV header's keys) and build their rows.

    Raises :class:`ImportFailed` with one problem per bad line (prefixed with ``source``): a
    field that cannot be stored or names no programme or session kind of the files, a booking
    given twice, or a patient, enrolment or session an earlier line describes otherwise; or
    when there is no booking at all.
    """
    collector = _Collector(lookup_key, programmes, source)
    for where, line in lines:
        collector.add(where, line)
    return collector.result()


def _text(data: bytes, source: str) -> str:
    try:
        # A BOM is how spreadsheets mark UTF-8: accepted, and not part of the first field.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFailed(
            f"{source}: line {line}: not UTF-8 text (save the export as UTF-8)"
        ) from None


def parse_csv(
    data: bytes, source: str, lookup_key: bytes, programmes: Mapping[str, Programme]
) -> ImportRows:
    """Read and check a CSV export (``source`` names it in the problems); no database needed.

    Raises :class:`ImportFailed` as :func:`check_lines` does, and for a file that is not UTF-8
    CSV with the header; a row with too few or too many fields is a bad line; blank lines are
    skipped.
    """
    reader = csv.reader(io.StringIO(_text(data, source), newline=""))
    collector = _Collector(lookup_key, programmes, source)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFailed(f"{source}: empty; the header must be {HEADER_TEXT}")
        if header not in (HEADER, COLUMNS):
            raise ImportFailed(f"{source}: line 1: the header must be {HEADER_TEXT}")
        while True:
            where = f"line {reader.line_num + 1}"  # a quoted field may span lines: the first
            row = next(reader, None)
            if row is None:
                break
            if len(row) == len(header):
                collector.add(where, dict(zip(header, row, strict=True)))
            elif row:  # not a blank line
                collector.refuse(where, [f"{len(row)} fields, the header has {len(header)}"])
    except csv.Error as exc:
        raise ImportFailed(f"{source}: line {reader.line_num}: not CSV ({exc})") from None
    return collector.result()


def parse_fhir(
    data: bytes, source: str, lookup_key: bytes, programmes: Mapping[str, Programme]
) -> ImportRows:
    """Read and check a FHIR R4 Bundle of Appointments (as :func:`parse_csv`)."""
    text = _text(data, source)
    try:
        bundle = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed(
            f"{source}: not a JSON document (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except (ValueError, RecursionError):
        # Python refuses integers of more than 4300 digits and nesting deeper than its stack.
        raise ImportFailed(f"{source}: a number too long or nesting too deep for JSON") from None
    collector = _Collector(lookup_key, programmes, source)
    try:
        for item in bundle_items(bundle):
            if isinstance(item, str):
                collector.problems.append(f"{source}: {item}")
            else:
                collector.add(*item)
    except FhirError as exc:
        raise ImportFailed([f"{source}: {problem}" for problem in exc.problems]) from None
    return collector.result()


def contents(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot be read ({exc.strerror})") from None


def parse_file(path: Path, lookup_key: bytes, programmes: Mapping[str, Programme]) -> ImportRows:
    """Read and check an export file: a FHIR Bundle when it ends in ``.json``, else a CSV."""
    parse = parse_fhir if path.suffix.lower() == ".json" else parse_csv
    return parse(contents(path), str(path), lookup_key, programmes)
