"""The CSV import refuses every bad input the same way on both centres: one line per bad row (its
number and field, no person's data), exit code 2, and nothing written."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from kiosk.db.engine import make_engine
from kiosk.db.models import Booking, Patient, SessionRow, Site
from kiosk.domain.patients import nn_hash
from kiosk.programme import Programme, load_programmes
from kiosk.programme.loader import SHIPPED
from sync import central
from sync.importer import HEADER, HEADER_TEXT, LIMITS, ImportFailed, parse_csv, store
from tests.commands import run_kiosk
from tests.sync.conftest import LOOKUP_KEY
from tests.sync.importing import VALID_ROWS, csv_text, dump, personal_values, write_config

GOOD = VALID_ROWS[0]
KINDS = "consultation, individual, group, info_ergo, info_psy"


def row(**changes: str) -> dict[str, str]:
    """The first valid row, changed."""
    return {**GOOD, **changes}


def refusal(data: bytes, programmes: Mapping[str, Programme]) -> tuple[str, ...]:
    with pytest.raises(ImportFailed) as caught:
        parse_csv(data, "export.csv", LOOKUP_KEY, programmes)
    return caught.value.problems


BAD_FIELDS = [
    ({"kind": "Group"}, f"kind: is not a session kind of rugrevalidatie ({KINDS})"),
    ({"kind": "bogus_kind"}, f"kind: is not a session kind of rugrevalidatie ({KINDS})"),
    ({"kind": "core1"}, f"kind: is not a session kind of rugrevalidatie ({KINDS})"),
    (
        {"programme": "neck"},
        "programme: is not a programme of the files (back-and-neck, rugrevalidatie)",
    ),
    (
        {"national_number": "85073003329"},
        "national_number: the check digits of the national register number are wrong",
    ),
    (
        {"national_number": "٨٥٠٧٣٠٠٣٣٢٨"},  # the same digits, in Arabic-Indic script
        "national_number: a national register number has 11 digits",
    ),
    ({"national_number": ""}, "national_number: is missing"),
    ({"birth_date": "1985-02-30"}, "birth_date: is not a date (YYYY-MM-DD)"),
    ({"birth_date": "0001-01-01"}, "birth_date: is not from 1900-01-01 to 2099-12-31"),
    ({"birth_date": "2026-02-02"}, "birth_date: is after enrolment_start"),
    ({"enrolment_start": "9999-12-31"}, "enrolment_start: is not from 2000-01-01 to 2099-12-31"),
    ({"enrolment_start": "1/2/2026"}, "enrolment_start: is not a date (YYYY-MM-DD)"),
    ({"enrolment_start": " "}, "enrolment_start: is missing"),
    (
        {"starts_at": "2026-03-02T25:00:00+01:00"},
        "starts_at: is not a date-time (YYYY-MM-DDTHH:MM+01:00)",
    ),
    ({"starts_at": "2026-03-02T09:00:00"}, "starts_at: has no UTC offset"),
    (
        {"starts_at": "0001-01-01T00:00:00+01:00"},
        "starts_at: is not from 2000-01-01 to 2099-12-31",
    ),
    ({"ends_at": "9999-12-31T23:59:59-01:00"}, "ends_at: is not from 2000-01-01 to 2099-12-31"),
    ({"ends_at": "2026-03-02T09:00:00+01:00"}, "ends_at: is not after starts_at"),
    ({"status": "Booked"}, "status: is not booked or cancelled"),
    ({"room": "Zaal\t1"}, "room: holds a control character"),
    ({"first_name": "Zo\x00ë"}, "first_name: holds a control character"),
    ({"site_id": ""}, "site_id: is missing"),
    # Every problem of a row, on its one line.
    (
        {"first_name": "Z" * (LIMITS["first_name"] + 1), "kind": "Group"},
        f"first_name: is longer than {LIMITS['first_name']} characters; "
        f"kind: is not a session kind of rugrevalidatie ({KINDS})",
    ),
] + [
    ({name: "X" * (limit + 1)}, f"{name}: is longer than {limit} characters")
    for name, limit in LIMITS.items()
]


@pytest.mark.parametrize(("changes", "reason"), BAD_FIELDS, ids=[r[:50] for _, r in BAD_FIELDS])
def test_a_bad_field_is_one_line_naming_the_row_and_the_field(
    changes: dict[str, str], reason: str, programmes: dict[str, Programme]
) -> None:
    # A week after the good row's session, so that only the change is wrong with it.
    later = {"starts_at": "2026-03-09T09:00:00+01:00", "ends_at": "2026-03-09T10:00:00+01:00"}
    bad = {**GOOD, **later, **changes}
    data = csv_text([GOOD, bad]).encode()
    problems = refusal(data, programmes)
    assert problems == (f"export.csv: line 3: {reason}",)
    assert not any(value in problems[0] for value in personal_values([GOOD, bad]))


def test_rows_of_the_wrong_shape_or_said_twice(programmes: dict[str, Programme]) -> None:
    later = {"starts_at": "2026-03-09T09:00:00+01:00", "ends_at": "2026-03-09T10:00:00+01:00"}
    # Another patient in the first row's session, which ends at another time in this row.
    other_in_the_same_session = dict(
        VALID_ROWS[3],
        programme="rugrevalidatie",
        kind="individual",
        site_id="GENK",
        starts_at=GOOD["starts_at"],
        ends_at="2026-03-02T10:30:00+01:00",
        room=GOOD["room"],
    )
    lines = csv_text([GOOD]).splitlines()
    lines += [
        ",".join(list(GOOD.values())[:-1]),  # line 3: a field short
        ",".join([*GOOD.values(), "extra"]),  # line 4: a field too many
        lines[1],  # line 5: the same booking again
        csv_text([row(last_name="Peters", **later)]).splitlines()[1],  # line 6
        csv_text([other_in_the_same_session]).splitlines()[1],  # line 7
        '"93051822361","Ömer","Van den Broeck",,GENK,back-and-neck,2026-01-12,core1,'
        '2026-03-02T09:00:00+01:00,2026-03-02T10:00:00+01:00,"Zaal\n3",booked',  # lines 8-9
        "",  # line 10: blank lines are skipped
        ",".join(row(status="maybe").values()),  # line 11
    ]  # fmt: skip
    assert refusal("\n".join(lines).encode(), programmes) == (
        "export.csv: line 3: 11 fields, the header has 12",
        "export.csv: line 4: 13 fields, the header has 12",
        "export.csv: line 5: the same booking as line 2",
        "export.csv: line 6: last_name: differs from line 2 for the same patient",
        "export.csv: line 7: ends_at: differs from line 2 for the same session",
        "export.csv: line 8: room: holds a control character",
        "export.csv: line 11: status: is not booked or cancelled",
    )


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "export.csv: empty; the header must be " + HEADER_TEXT),
        ((",".join(HEADER) + "\r\n").encode(), "export.csv: holds no booking"),
        (
            csv_text(VALID_ROWS).encode("latin-1"),
            "export.csv: line 2: not UTF-8 text (save the export as UTF-8)",
        ),
        (bytes(range(256)) * 4, "export.csv: line 2: not UTF-8 text (save the export as UTF-8)"),
        (
            csv_text(VALID_ROWS, header=[*HEADER, "note"]).encode(),
            "export.csv: line 1: the header must be " + HEADER_TEXT,
        ),
        (
            csv_text(VALID_ROWS, header=[h.upper() for h in HEADER]).encode(),
            "export.csv: line 1: the header must be " + HEADER_TEXT,
        ),
        (
            csv_text([row(room="x" * 200_000)]).encode(),
            "export.csv: line 2: not CSV (field larger than field limit (131072))",
        ),
        (b"\x00" * 64, "export.csv: line 1: the header must be " + HEADER_TEXT),
    ],
    ids=["empty", "header only", "latin-1", "binary", "extra column", "upper-case header",
         "huge field", "NUL bytes"],
)  # fmt: skip
def test_a_damaged_file_is_one_line(
    data: bytes, problem: str, programmes: dict[str, Programme]
) -> None:
    assert refusal(data, programmes) == (problem,)


def test_spreadsheet_exports_read_the_same(programmes: dict[str, Programme]) -> None:
    plain = parse_csv(csv_text(VALID_ROWS).encode(), "a.csv", LOOKUP_KEY, programmes)
    # A BOM, CR LF line ends and blank lines, as spreadsheets save a file.
    text = csv_text(VALID_ROWS).replace("\r\n", "\r\n\r\n")
    excel = parse_csv(b"\xef\xbb\xbf" + text.encode(), "b.csv", LOOKUP_KEY, programmes)
    assert excel.tables == plain.tables
    assert plain.bookings == len(VALID_ROWS)


def test_bad_rows_through_the_command_write_nothing(central_url: str, tmp_path: Path) -> None:
    write_config(tmp_path, central_url)
    assert run_kiosk(tmp_path, "central", "init").returncode == 0
    export = tmp_path / "export.csv"
    export.write_text(csv_text(VALID_ROWS), encoding="utf-8")
    assert run_kiosk(tmp_path, "central", "import", str(export)).returncode == 0
    engine = make_engine(central_url)
    before = dump(engine)

    bad_rows = [
        row(kind="Group"),
        row(kind="bogus_kind", room="Zaal 9"),
        row(last_name="P" * (LIMITS["last_name"] + 1), room="Zaal 8"),
        row(room="R" * (LIMITS["room"] + 1)),
        row(starts_at="0001-01-01T00:00:00+01:00", room="Zaal 7"),
        row(ends_at="9999-12-31T23:59:59+01:00", room="Zaal 6"),
    ]
    # A good row and a changed one: refused with the rest, so neither is written.
    changed = row(status="cancelled")
    export.write_text(csv_text([VALID_ROWS[3], *bad_rows, changed]), encoding="utf-8")
    done = run_kiosk(tmp_path, "central", "import", str(export))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert [line.split(": ")[2] for line in lines] == [f"line {n}" for n in range(3, 9)]
    assert all(line.startswith(f"kiosk: {export}: line ") for line in lines)
    assert not any(v in done.stderr for v in personal_values(VALID_ROWS))

    for content in (
        b"",
        csv_text(VALID_ROWS).encode("latin-1"),
        (",".join(HEADER) + "\n").encode(),
        bytes(range(256)),
    ):
        export.write_bytes(content)
        done = run_kiosk(tmp_path, "central", "import", str(export))
        assert (done.returncode, len(done.stderr.splitlines())) == (2, 1), done.stderr
    assert dump(engine) == before
    engine.dispose()


def test_fields_at_their_limits_fit_both_centres(central_url: str, tmp_path: Path) -> None:
    # A programme file whose code and session kind are as long as the columns allow.
    code, kind = "p" * LIMITS["programme"], "k" * LIMITS["kind"]
    text = (SHIPPED / "back-and-neck.toml").read_text(encoding="utf-8")
    text = text.replace('code = "back-and-neck"', f'code = "{code}"')
    text = text.replace("core1", kind)
    (tmp_path / "long.toml").write_text(text, encoding="utf-8")
    programmes = load_programmes(tmp_path)
    longest = row(
        first_name="É" * LIMITS["first_name"],
        last_name="Ø" * LIMITS["last_name"],
        site_id="S" * LIMITS["site_id"],
        programme=code,
        kind=kind,
        room="ž" * LIMITS["room"],
    )
    rows = parse_csv(csv_text([longest]).encode(), "long.csv", LOOKUP_KEY, programmes)
    engine = make_engine(central_url)
    central.init(engine)
    assert store(engine, rows, programmes).rows == 1
    with engine.connect() as conn:
        stored = conn.execute(
            select(Patient.first_name, Patient.last_name, SessionRow.kind, SessionRow.room)
            .join(Booking, Booking.patient_id == Patient.id)
            .join(SessionRow, SessionRow.id == Booking.session_id)
        ).one()
    engine.dispose()
    assert tuple(stored) == tuple(longest[k] for k in ("first_name", "last_name", "kind", "room"))

    # One character more in the file is the file's error, before any database.
    (tmp_path / "long.toml").write_text(text.replace(kind, kind + "k"), encoding="utf-8")
    assert refusal(csv_text([longest]).encode(), load_programmes(tmp_path)) == (
        f"export.csv: line 2: kind: is not a session kind of {code} "
        f"(consultation, intake, class, physio, {kind}k, core2, advanced)",
    )


def test_a_programme_title_too_long_for_the_centre_names_the_file(tmp_path: Path) -> None:
    programmes_dir = tmp_path / "programmes"
    programmes_dir.mkdir()
    text = (SHIPPED / "back-and-neck.toml").read_text(encoding="utf-8")
    long_title = "Back and neck " * 20
    (programmes_dir / "neck.toml").write_text(
        text.replace('code = "back-and-neck"', 'code = "neck"').replace(
            'en = "Back and neck programme"', f'en = "{long_title}"'
        ),
        encoding="utf-8",
    )
    write_config(tmp_path, f"sqlite:///{tmp_path / 'central.sqlite'}", programmes_dir)
    refusal = (
        f"kiosk: {programmes_dir / 'neck.toml'}: programme.title.en: "
        "is longer than the centre's 200 characters\n"
    )
    done = run_kiosk(tmp_path, "central", "init")
    assert (done.returncode, done.stderr) == (2, refusal)
    # The demo fills the same table by the same rule.
    done = run_kiosk(tmp_path, "demo-data", "--patients", "2")
    assert (done.returncode, done.stderr) == (2, refusal)


def test_a_refusal_by_the_centre_rolls_the_whole_import_back(
    central_url: str, programmes: dict[str, Programme]
) -> None:
    engine = make_engine(central_url)
    central.init(engine)
    # A patient the centre holds under an id of its own (as demo data makes them).
    last = VALID_ROWS[3]
    with engine.begin() as conn:
        conn.execute(insert(Site), [{"id": "HASSELT", "name": "Campus Hasselt"}])
        conn.execute(
            insert(Patient),
            [
                {
                    "id": "00000000-0000-4000-8000-000000000001",
                    "nn_hash": nn_hash(LOOKUP_KEY, last["national_number"]),
                    "first_name": "F",
                    "site_id": "HASSELT",
                }
            ],
        )
    before = dump(engine)
    rows = parse_csv(csv_text(VALID_ROWS).encode(), "export.csv", LOOKUP_KEY, programmes)
    with pytest.raises(ImportFailed) as caught:
        store(engine, rows, programmes)
    (problem,) = caught.value.problems
    assert re.fullmatch(
        r"the central database refused the bookings \((IntegrityError|UniqueViolation)\); "
        "nothing was written",
        problem,
    )
    # Not even the programmes, the first thing the import writes.
    assert dump(engine) == before
    assert before["programmes"] == []
    engine.dispose()


def test_an_import_before_central_init_is_one_line_and_makes_no_database(
    tmp_path: Path, pg_url: str
) -> None:
    export = tmp_path / "export.csv"
    export.write_text(csv_text(VALID_ROWS), encoding="utf-8")
    centre = tmp_path / "central.sqlite"
    write_config(tmp_path, f"sqlite:///{centre}")
    done = run_kiosk(tmp_path, "central", "import", str(export))
    assert (done.returncode, done.stderr) == (
        2,
        f"kiosk: no central database at {centre} (run `kiosk central init`)\n",
    )
    assert not centre.exists()
    # A PostgreSQL database that exists but was never set up.
    write_config(tmp_path, pg_url)
    done = run_kiosk(tmp_path, "central", "import", str(export))
    assert (done.returncode, done.stderr) == (
        2,
        "kiosk: the central database has no schema (run `kiosk central init`)\n",
    )
    # A bad file is refused before the centre is even looked for.
    export.write_bytes(b"")
    write_config(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    done = run_kiosk(tmp_path, "central", "import", str(export))
    assert done.returncode == 2 and done.stderr.startswith(f"kiosk: {export}: empty;")
