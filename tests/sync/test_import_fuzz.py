"""Fuzzing both importers from valid exports: every case is imported or refused with ImportFailed
(one-line problems, no person's data), never another exception; a refused file writes nothing.

The parsing and checking run without a database (thousands of cases); fewer cases go end to end
into a real SQLite centre, a handful through the `kiosk` command into PostgreSQL.
``--fuzz-examples N`` (``make fuzz``) gives each parser test N cases and the end-to-end
tests a share of them.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import String

from kiosk.core.i18n import LANGUAGES
from kiosk.db.engine import make_engine
from kiosk.db.models import Base
from kiosk.programme import Programme, load_programmes
from sync import central
from sync.importer import (
    COLUMNS,
    FIRST_DAY,
    HEADER,
    LAST_DAY,
    LIMITS,
    ImportFailed,
    ImportRows,
    import_csv,
    import_fhir,
    parse_csv,
    parse_fhir,
    store_programmes,
)
from tests import run_options
from tests.commands import run_kiosk
from tests.sync.conftest import LOOKUP_KEY
from tests.sync.importing import (
    LANGUAGE_ROWS,
    bundle_of,
    csv_text,
    dump,
    personal_values,
    write_config,
)

_LONG_RUN = run_options.fuzz_examples
Parse = Callable[[bytes, str, bytes, Mapping[str, Programme]], ImportRows]


def _settings(examples: int, *, share: int = 1) -> settings:
    """``examples`` cases, or a ``share``-th of a long run's (never fewer)."""
    return settings(
        max_examples=max(examples, _LONG_RUN // share),
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


@cache
def _programmes() -> dict[str, Programme]:
    return load_programmes(None)


VALID_CSV = csv_text(LANGUAGE_ROWS, columns=COLUMNS).encode()
VALID_BUNDLE = bundle_of(LANGUAGE_ROWS)
PERSONAL = personal_values(LANGUAGE_ROWS)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


# --- what a mutation puts in ---------------------------------------------------------------

_ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "Group",
        "bogus_kind",
        "core1",
        "advanced",
        "group",
        "rugrevalidatie",
        "back-and-neck",
        "neck",
        "booked",
        "cancelled",
        "Booked",
        "fr",
        "de",
        "FR",
        "fr-BE",
        "nl_BE",
        "Nederlands",
        "tr",
        "0001-01-01",
        "9999-12-31",
        "1899-12-31",
        "2026-02-30",
        "2026-13-01",
        "20260201",
        "2026-W05-1",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:59:59+00:00",
        "2099-12-31T23:30:00-01:00",
        "2026-03-02T24:00:00+01:00",
        "2026-03-02T09:00:00",
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:00:00+25:00",
        "2026-03-02T09:00:60+01:00",
        "85073003328",
        "85.07.30-033.28",
        "85073003329",
        "00000000000",
        "٨٥٠٧٣٠٠٣٣٢٨",
        "8507300332８",
        "\x00",
        "a\nb",
        "\u202e",
        "😀",
        "e\u0301",
    ]
)
# As long as a column allows, and one more: SQLite keeps both, PostgreSQL refuses the second.
_AT_LIMITS = st.sampled_from(sorted({n + more for n in LIMITS.values() for more in (0, 1)}))
TEXT = st.one_of(_ODD_TEXT, _AT_LIMITS.map(lambda n: "é" * n), st.text(max_size=30))
_ODD_BYTES = st.sampled_from(
    [b",", b'"', b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"\xe9"]
)


def _byte_edits(data: bytes) -> st.SearchStrategy[bytes]:
    """``data`` with bytes flipped, cut, inserted or removed."""
    edits = st.lists(
        st.tuples(
            st.sampled_from(["flip", "cut", "insert", "delete"]),
            st.integers(0, len(data)),
            st.one_of(st.binary(min_size=1, max_size=1), _ODD_BYTES),
        ),
        min_size=1,
        max_size=4,
    )

    def apply(changes: list[tuple[str, int, bytes]]) -> bytes:
        out = bytearray(data)
        for kind, where, value in changes:
            where = min(where, len(out))
            if kind == "flip" and where < len(out):
                out[where : where + 1] = value[:1]
            elif kind == "cut":
                del out[where:]
            elif kind == "insert":
                out[where:where] = value
            elif where < len(out):
                del out[where]
        return bytes(out)

    return edits.map(apply)


@st.composite
def _edited_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    """The valid rows with fields replaced, rows doubled or dropped."""
    rows = [dict(row) for row in LANGUAGE_ROWS]
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["field", "field", "field", "double", "drop"]))
        if not rows:
            break
        at = draw(st.integers(0, len(rows) - 1))
        if edit == "field":
            rows[at][draw(st.sampled_from(COLUMNS))] = draw(TEXT)
        elif edit == "double":
            rows.insert(draw(st.integers(0, len(rows))), dict(rows[at]))
        else:
            del rows[at]
    return rows


@st.composite
def _csv_edits(draw: st.DrawFn) -> bytes:
    """Edited rows as a CSV with or without the language column, some rows cut short or
    lengthened, in UTF-8 or not."""
    columns = draw(st.sampled_from([HEADER, COLUMNS]))
    lines = csv_text(draw(_edited_rows()), columns=columns).split("\r\n")
    for at in draw(st.sets(st.integers(1, len(lines) - 1), max_size=2)):
        fields = draw(st.lists(TEXT, max_size=2))
        lines[at] = ",".join([lines[at], *fields]) if fields else lines[at].rsplit(",", 1)[0]
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "latin-1"]))
    return "\r\n".join(lines).encode(encoding, errors="replace")


CSV_CASES = st.one_of(_csv_edits(), _byte_edits(VALID_CSV))

JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([10**30, -(10**30), 0, -1]),
        st.floats(allow_nan=False),
        TEXT,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict | list):
        for key, child in node.items() if isinstance(node, dict) else enumerate(node):
            yield from _paths(child, (*path, key))


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


@st.composite
def _json_edits(draw: st.DrawFn) -> Any:
    """The valid bundle with a text replaced by odd text, a value replaced by any JSON or by
    another value of the bundle (a reference, an id, a whole resource), keys and list items
    removed or doubled."""
    document: Any = copy.deepcopy(VALID_BUNDLE)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(document))
        texts = [path for path in paths if isinstance(_at(document, path), str)]
        edit = draw(st.sampled_from(["text", "text", "any", "any", "other", "remove", "double"]))
        path = draw(st.sampled_from(texts if edit == "text" and texts else paths))
        if edit == "text":
            value: Any = draw(TEXT)
        elif edit == "any":
            value = draw(JSON_VALUES)
        elif edit == "other":
            value = copy.deepcopy(_at(document, draw(st.sampled_from(paths))))
        if not path:
            if edit in ("text", "any", "other"):
                document = value
            continue
        parent, key = _at(document, path[:-1]), path[-1]
        if edit in ("text", "any", "other"):
            parent[key] = value
        elif edit == "remove":
            del parent[key]
        elif isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        else:
            parent[f"{key}_"] = copy.deepcopy(parent[key])
    return document


def _serialised(document: Any) -> bytes:
    # Python writes surrogates and infinities as JSON escapes and words, as a sloppy sender may.
    return json.dumps(document, ensure_ascii=True).encode()


FHIR_CASES = st.one_of(
    _edited_rows().map(lambda rows: _serialised(bundle_of(rows))),
    _json_edits().map(_serialised),
    _byte_edits(_serialised(VALID_BUNDLE)),
)


# --- the property -----------------------------------------------------------------------


def outcome(parse: Parse, data: bytes) -> ImportRows | ImportFailed:
    """Parse ``data``: its rows, or the ImportFailed; any other exception fails the test."""
    try:
        rows = parse(data, "fuzz", LOOKUP_KEY, _programmes())
    except ImportFailed as failed:
        assert failed.problems
        for problem in failed.problems:
            # One line each (the command prints them one per line), no person's data.
            assert problem.startswith("fuzz: ") and len(problem) > len("fuzz: ")
            assert not _CONTROL.search(problem), problem
            assert not any(value in problem for value in PERSONAL), problem
        return failed
    assert_storable(rows)
    return rows


def assert_storable(rows: ImportRows) -> None:
    """What the checks let through fits the columns of both centres and the kiosk's rules."""
    tables = Base.metadata.tables
    for name, table_rows in rows.tables.items():
        for row in table_rows.values():
            for column, value in row.items():
                kind = tables[name].c[column].type
                if isinstance(value, str):
                    assert not re.search("[\x00-\x1f\x7f-\x9f\ud800-\udfff]", value)
                    if isinstance(kind, String) and kind.length is not None:
                        assert len(value) <= kind.length, (name, column)
                if isinstance(value, dt.datetime):
                    assert value.tzinfo is not None and FIRST_DAY <= value.date() <= LAST_DAY
    for patient in rows.tables["patients"].values():
        assert patient["language"] in (*LANGUAGES, None)
    for session in rows.tables["sessions"].values():
        programme = _programmes()[session["programme_code"]]
        assert programme.phase_of(session["kind"]) is not None
        assert session["ends_at"] > session["starts_at"]
    assert rows.bookings > 0


def test_the_fuzz_starts_from_the_same_bookings_in_both_forms() -> None:
    from_csv = outcome(parse_csv, VALID_CSV)
    from_fhir = outcome(parse_fhir, _serialised(VALID_BUNDLE))
    assert isinstance(from_csv, ImportRows) and isinstance(from_fhir, ImportRows)
    assert from_csv.tables == from_fhir.tables
    assert from_csv.bookings == len(LANGUAGE_ROWS)


@_settings(3000)
@given(CSV_CASES)
def test_mutated_csv_is_imported_or_refused(data: bytes) -> None:
    outcome(parse_csv, data)


@_settings(3000)
@given(FHIR_CASES)
def test_mutated_bundles_are_imported_or_refused(data: bytes) -> None:
    outcome(parse_fhir, data)


# --- end to end ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A migrated SQLite centre with its programmes: each case imports into a copy of it."""
    path = tmp_path_factory.mktemp("fuzz-centre") / "central.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    central.init(engine)
    store_programmes(engine, _programmes())
    engine.dispose()
    yield path


ANY_CASE = st.one_of(CSV_CASES.map(lambda d: (d, ".csv")), FHIR_CASES.map(lambda d: (d, ".json")))


@_settings(120, share=50)
@given(ANY_CASE)
@example((VALID_CSV, ".csv"))
@example((_serialised(VALID_BUNDLE), ".json"))
def test_end_to_end_a_refused_file_writes_nothing(
    sqlite_centre: Path, case: tuple[bytes, str]
) -> None:
    data, suffix = case
    expected = outcome(parse_csv if suffix == ".csv" else parse_fhir, data)
    with tempfile.TemporaryDirectory() as tmp:
        centre = Path(tmp) / "central.sqlite"
        shutil.copyfile(sqlite_centre, centre)
        export = Path(tmp) / f"export{suffix}"
        export.write_bytes(data)
        engine = make_engine(f"sqlite:///{centre}")
        before = dump(engine)
        read = import_csv if suffix == ".csv" else import_fhir
        try:
            report = read(engine, export, LOOKUP_KEY, _programmes())
        except ImportFailed as failed:
            # Refused by the checks, never by the database, and nothing written.
            assert isinstance(expected, ImportFailed)
            assert [p.split(": ", 1)[1] for p in failed.problems] == [
                p.split(": ", 1)[1] for p in expected.problems
            ]
            assert dump(engine) == before
            return
        finally:
            engine.dispose()
        assert isinstance(expected, ImportRows)
        assert report.rows == expected.bookings
        engine = make_engine(f"sqlite:///{centre}")
        stored = dump(engine)
        assert len(stored["bookings"]) == expected.bookings
        # The same file again changes nothing: the import is idempotent whatever it held.
        read(engine, export, LOOKUP_KEY, _programmes())
        assert dump(engine) == stored
        engine.dispose()


@pytest.mark.postgres
@_settings(6, share=2000)
@given(ANY_CASE)
@example((VALID_CSV, ".csv"))
@example((_serialised(VALID_BUNDLE), ".json"))
def test_through_the_command_into_postgresql(
    pg_url: str, tmp_path: Path, case: tuple[bytes, str]
) -> None:
    data, suffix = case
    # One centre for every case (the cases pile up in it, as imports do in a real one).
    if not (tmp_path / "kiosk.toml").exists():
        write_config(tmp_path, pg_url)
        assert run_kiosk(tmp_path, "central", "init").returncode == 0
    export = tmp_path / f"export{suffix}"
    export.write_bytes(data)
    expected = outcome(parse_csv if suffix == ".csv" else parse_fhir, data)
    engine = make_engine(pg_url)
    before = dump(engine)
    done = run_kiosk(tmp_path, "central", "import", str(export))
    after = dump(engine)
    engine.dispose()
    lines = done.stderr.splitlines()
    assert all(line.startswith("kiosk: ") for line in lines), done.stderr
    if isinstance(expected, ImportFailed):
        assert done.returncode == 2, done.stderr
        assert len(lines) == len(expected.problems)
        assert after == before
    else:
        assert (done.returncode, done.stderr) == (0, ""), done.stderr
        assert done.stdout == f"imported {expected.bookings} bookings\n"
