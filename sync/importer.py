"""Import of the scheduling system's export into the central database, idempotent.

Two forms: a FHIR R4 ``Bundle`` of ``Appointment`` resources (see :mod:`sync.fhir`), or a CSV,
UTF-8, one row per booking, with this header::

    national_number,first_name,last_name,birth_date,site_id,programme,enrolment_start,kind,starts_at,ends_at,room,status

``birth_date`` and ``enrolment_start`` are ISO dates, ``starts_at``/``ends_at`` ISO date-times
with offset, ``status`` is ``booked`` or ``cancelled``. Row ids are derived from the row's
natural keys (UUID v5), and an unchanged row is not written again, so importing the same file
twice changes nothing and kiosks pull nothing new.

Every line is checked here, before the database sees it, against what the kiosk and both kinds
of centre can hold: a programme and session kind of the programme files, the column lengths of
:mod:`kiosk.db.models` (SQLite would keep a longer value that PostgreSQL refuses), dates within
the years the rules can count in. A file with any bad line is refused whole with one problem per
bad line (its number and fields, never a person's data), and nothing is written.

Reading and checking need no database (:func:`parse_csv`, :func:`parse_fhir`); :func:`store`
writes what they return, with the programme files' rows, in one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    String,
    Table,
    case,
    exists,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError

from devices.eid.national_number import InvalidNationalNumber, validate
from kiosk.db.models import Base, BookingStatus, EnrolmentStatus
from kiosk.domain.patients import nn_hash
from kiosk.domain.programme_rows import programme_rows
from kiosk.programme import Programme, load_programmes
from sync.fhir import FhirError, bundle_items

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
REQUIRED = frozenset(
    {"national_number", "site_id", "programme", "enrolment_start", "kind", "starts_at", "ends_at"}
)
NAMESPACE = uuid.UUID("6f1c2a52-6a43-4d5e-9a7e-2f0b1c9d8e11")

_TABLES = Base.metadata.tables
STORED_IN: dict[str, tuple[Column[Any], ...]] = {
    # national_number is not listed: it is stored as the 11 digits validate() returns.
    "first_name": (_TABLES["patients"].c.first_name,),
    "last_name": (_TABLES["patients"].c.last_name,),
    "site_id": (_TABLES["sites"].c.id, _TABLES["sites"].c.name),
    "programme": (_TABLES["programmes"].c.code,),
    "kind": (_TABLES["sessions"].c.kind,),
    "room": (_TABLES["sessions"].c.room,),
}
"""The columns each text field of a line is stored in: the shortest one is the field's limit."""


def _shortest(columns: Iterable[Column[Any]]) -> int:
    lengths = [c.type.length for c in columns if isinstance(c.type, String)]
    return min(n for n in lengths if n is not None)


LIMITS = {name: _shortest(columns) for name, columns in STORED_IN.items()}
"""The most characters each text field may have."""

# Enrolments and sessions outside these days are typing errors in the scheduling system; the
# bounds also keep the rules' arithmetic (months after a start, a day's bounds in Brussels) far
# from the ends of the calendar, where it would overflow.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
EARLIEST_BIRTH = dt.date(1900, 1, 1)

# Control characters break a screen line and PostgreSQL refuses NUL; unpaired surrogates (a
# JSON escape can make them) cannot be encoded for either database.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# What a table's row is to the person reading an error, and the field a differing column shows.
_NOUN = {"patients": "patient", "enrolments": "enrolment", "sessions": "session"}
_FIELD_OF_COLUMN = {"programme_code": "programme", "started_on": "enrolment_start"}

Line = tuple[str, Mapping[str, str]]
"""A booking line labelled with where it came from (``line 7``, ``entry 3 (Appointment)``)."""


class ImportFailed(ValueError):
    """The file cannot be imported: one problem per bad line, each naming the line and the field,
    never a person's data. Nothing was written."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class ImportReport:
    """How many bookings the file had, and the warnings to show (nothing was refused)."""

    rows: int
    warnings: tuple[str, ...] = ()


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


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(parts)))


class _Checker:
    """One line's fields, checked; ``problems`` holds what is wrong, by field."""

    def __init__(self, line: Mapping[str, str]) -> None:
        self.line = line
        self.problems: dict[str, str] = {}

    def text(self, name: str) -> str:
        """The field as given, or "" (with a problem) when it cannot be stored."""
        value = self.line.get(name, "")
        if not isinstance(value, str):
            self.problems[name] = "is not text"
        elif _CONTROL.search(value):
            self.problems[name] = "holds a control character"
        elif _SURROGATE.search(value):
            self.problems[name] = "holds an unpaired surrogate (not Unicode text)"
        elif name in REQUIRED and not value.strip():
            self.problems[name] = "is missing"
        elif name in LIMITS and len(value) > LIMITS[name]:
            self.problems[name] = f"is longer than {LIMITS[name]} characters"
        else:
            return value
        return ""

    def day(self, name: str, low: dt.date, high: dt.date) -> dt.date | None:
        """A date from ``low`` to ``high``; None when empty or wrong."""
        text = self.text(name)
        if not text:
            return None
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            self.problems[name] = "is not a date (YYYY-MM-DD)"
            return None
        if not low <= value <= high:
            self.problems[name] = f"is not from {low.isoformat()} to {high.isoformat()}"
            return None
        return value

    def instant(self, name: str) -> dt.datetime | None:
        """A date-time with its UTC offset, in UTC, within the programme days."""
        text = self.text(name)
        if not text:
            return None
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            self.problems[name] = "is not a date-time (YYYY-MM-DDTHH:MM+01:00)"
            return None
        if value.tzinfo is None:
            self.problems[name] = "has no UTC offset"
            return None
        span = f"is not from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
        try:
            utc = value.astimezone(dt.UTC)
        except OverflowError:  # the offset moves year 1 or 9999 off the calendar
            self.problems[name] = span
            return None
        if not FIRST_DAY <= utc.date() <= LAST_DAY:
            self.problems[name] = span
            return None
        return utc


def _line_rows(
    line: Mapping[str, str], lookup_key: bytes, programmes: Mapping[str, Programme]
) -> tuple[dict[str, tuple[str, dict[str, Any]]], dict[str, str]]:
    """The rows (by table: id and values) one line makes, and its problems by field."""
    check = _Checker(line)
    nn = check.text("national_number")
    if nn:
        try:
            # Only ASCII digits are a number (str.isdigit also takes other scripts' digits).
            if not nn.isascii():
                raise InvalidNationalNumber("a national register number has 11 digits")
            nn = validate(nn)
        except InvalidNationalNumber as exc:
            check.problems["national_number"] = str(exc)
    first_name = check.text("first_name")
    last_name = check.text("last_name")
    site = check.text("site_id")
    code = check.text("programme")
    programme = programmes.get(code) if code else None
    if code and programme is None:
        check.problems["programme"] = f"is not a programme of the files ({', '.join(programmes)})"
    started = check.day("enrolment_start", FIRST_DAY, LAST_DAY)
    born = check.day("birth_date", EARLIEST_BIRTH, LAST_DAY)
    if born is not None and started is not None and born > started:
        check.problems["birth_date"] = "is after enrolment_start"
    kind = check.text("kind")
    if kind and programme is not None:
        if kind not in programme.kinds:
            kinds = ", ".join(programme.kinds)
            check.problems["kind"] = f"is not a session kind of {code} ({kinds})"
        elif not any(kind in phase.kinds for phase in programme.phases):
            check.problems["kind"] = f"belongs to no phase of {code}"
    starts = check.instant("starts_at")
    ends = check.instant("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        check.problems["ends_at"] = "is not after starts_at"
    room = check.text("room")
    status_text = check.text("status") or BookingStatus.BOOKED.value
    if "status" not in check.problems and status_text not in {s.value for s in BookingStatus}:
        check.problems["status"] = f"is not {' or '.join(BookingStatus)}"
    if check.problems:
        return {}, {name: check.problems[name] for name in HEADER if name in check.problems}
    assert started is not None and starts is not None and ends is not None  # no problems

    hashed = nn_hash(lookup_key, nn)
    patient_id = _id("patient", hashed)
    enrolment_id = _id("enrolment", patient_id, code, started.isoformat())
    session_id = _id("session", site, kind, starts.isoformat(), room)
    booking_id = _id("booking", session_id, enrolment_id)
    rows: dict[str, tuple[str, dict[str, Any]]] = {
        "sites": (site, {"id": site, "name": site}),
        "patients": (
            patient_id,
            {
                "id": patient_id,
                "nn_hash": hashed,
                "national_number": nn,
                "first_name": first_name,
                "last_name": last_name,
                "birth_date": born,
                "site_id": site,
            },
        ),
        "enrolments": (
            enrolment_id,
            {
                "id": enrolment_id,
                "patient_id": patient_id,
                "programme_code": code,
                "site_id": site,
                "status": EnrolmentStatus.ACTIVE,
                "started_on": started,
                "stop_reason": "",
            },
        ),
        "sessions": (
            session_id,
            {
                "id": session_id,
                "site_id": site,
                "programme_code": code,
                "kind": kind,
                "starts_at": starts,
                "ends_at": ends,
                "room": room,
            },
        ),
        "bookings": (
            booking_id,
            {
                "id": booking_id,
                "session_id": session_id,
                "enrolment_id": enrolment_id,
                "patient_id": patient_id,
                "status": BookingStatus(status_text),
            },
        ),
    }
    return rows, {}


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
        rows, bad = _line_rows(line, self.lookup_key, self.programmes)
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
            raise ImportFailed(f"{source}: empty; the header must be {','.join(HEADER)}")
        if header != HEADER:
            raise ImportFailed(f"{source}: line 1: the header must be {','.join(HEADER)}")
        while True:
            where = f"line {reader.line_num + 1}"  # a quoted field may span lines: the first
            row = next(reader, None)
            if row is None:
                break
            if len(row) == len(HEADER):
                collector.add(where, dict(zip(HEADER, row, strict=True)))
            elif row:  # not a blank line
                collector.refuse(where, [f"{len(row)} fields, the header has {len(HEADER)}"])
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


def _contents(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot be read ({exc.strerror})") from None


def parse_file(path: Path, lookup_key: bytes, programmes: Mapping[str, Programme]) -> ImportRows:
    """Read and check an export file: a FHIR Bundle when it ends in ``.json``, else a CSV."""
    parse = parse_fhir if path.suffix.lower() == ".json" else parse_csv
    return parse(_contents(path), str(path), lookup_key, programmes)


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
    return store(engine, parse_csv(_contents(path), str(path), lookup_key, known), known)


def import_fhir(
    engine: Engine,
    path: Path,
    lookup_key: bytes,
    programmes: Mapping[str, Programme] | None = None,
) -> ImportReport:
    """Import a FHIR R4 Bundle of Appointments in one transaction (``programmes``: as above)."""
    known = _known(programmes)
    return store(engine, parse_fhir(_contents(path), str(path), lookup_key, known), known)
