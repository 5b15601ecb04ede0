"""The insurer's register, from a centre built from an imported schedule (not the demo): one line
per patient, programme and day, the code only on the sessions that qualify, the place of each
session in its phase, and the national number and full name from the centre only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from kiosk.domain.register import COLUMNS, billed_starts
from kiosk.programme.loader import SHIPPED
from kiosk.programme.model import Billing
from sync.importer import HEADER
from tests.commands import run_kiosk
from tests.sync.importing import csv_text, write_config

NN = "85073003328"
OTHER = "93051822361"


def row(
    kind: str, start: str, end: str, *, nn: str = NN, programme: str = "rugrevalidatie"
) -> Mapping[str, str]:
    first, last = ("Zoë", "Peeters") if nn == NN else ("Ömer", "Van den Broeck")
    return dict(
        zip(
            HEADER,
            (nn, first, last, "1985-07-30", "GENK", programme, "2026-02-02", kind,
             f"{start}+01:00", f"{end}+01:00", "Zaal 1", "booked"),
            strict=True,
        )
    )  # fmt: skip


# A consultation, two individual sessions on one day, a group session of 2 hours and one of 1 hour
# on another, and an information session the day after; a back-and-neck patient the same day.
ROWS = (
    row("consultation", "2026-03-02T08:30:00", "2026-03-02T09:00:00"),
    row("individual", "2026-03-02T09:00:00", "2026-03-02T10:00:00"),
    row("individual", "2026-03-02T13:00:00", "2026-03-02T14:00:00"),
    row("group", "2026-03-04T08:30:00", "2026-03-04T10:30:00"),
    row("group", "2026-03-04T13:00:00", "2026-03-04T14:00:00"),
    row("info_psy", "2026-03-05T13:00:00", "2026-03-05T15:00:00"),
    row("core1", "2026-03-04T09:00:00", "2026-03-04T10:00:00", nn=OTHER, programme="back-and-neck"),
)


def make_centre(tmp_path: Path, rows: tuple[Mapping[str, str], ...], **config: Path) -> Path:
    """A centre imported from ``rows`` whose every session was attended (checked in at its
    start through ``kiosk checkin`` on the centre's own file)."""
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    write_config(tmp_path, url, **config)
    config = tmp_path / "kiosk.toml"
    # The kiosk's own database is the centre's file: `kiosk checkin` records there directly.
    config.write_text(
        f'site_id = "GENK"\nlocal_url = "{url}"\n' + config.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    assert run_kiosk(tmp_path, "central", "init").returncode == 0
    export = tmp_path / "export.csv"
    export.write_text(csv_text(rows), encoding="utf-8")
    done = run_kiosk(tmp_path, "central", "import", str(export))
    assert done.returncode == 0, done.stderr
    for r in rows:
        attend(tmp_path, r)
    return tmp_path


@pytest.fixture
def centre(tmp_path: Path) -> Path:
    """The centre of :data:`ROWS`."""
    return make_centre(tmp_path, ROWS)


def attend(data_dir: Path, r: Mapping[str, str]) -> None:
    """Check in at the session's start; a refusal (a rule the register does not care about) is
    admitted by reception, as on a real day."""
    nn, at = r["national_number"], r["starts_at"]
    done = run_kiosk(data_dir, "checkin", "--national-number", nn, "--at", at)
    if done.returncode == 1:
        day = json.loads(run_kiosk(data_dir, "today", "--date", at[:10], "--json").stdout)
        (booking,) = [
            p["booking_id"]
            for s in day
            if s["start"] == dt.datetime.fromisoformat(at).astimezone(dt.UTC).isoformat()
            for p in s["patients"]
            if p["national_number"] == nn
        ]
        done = run_kiosk(data_dir, "booking", "admit", booking, "--reason", "booked and here")
    assert done.returncode == 0, (r["kind"], done.stdout, done.stderr)


def register(centre: Path, day: str, *options: str) -> list[dict[str, str]]:
    done = run_kiosk(centre, "register", "--date", day, "--csv", *options)
    assert done.returncode == 0, done.stderr
    reader = csv.DictReader(io.StringIO(done.stdout))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def test_one_line_per_patient_and_day_with_first_start_and_last_end(centre: Path) -> None:
    (line,) = register(centre, "2026-03-02", "--central")
    assert line["first_start"] == "2026-03-02T08:30:00+01:00"
    assert line["last_end"] == "2026-03-02T14:00:00+01:00"
    # A consultation and the individual pre-programme are not 558994 sessions.
    assert (line["nomenclature_code"], line["billed_sessions"]) == ("", "0")
    # Each session says its phase: two "#1" of different phases can no longer be confused.
    # The consultations are open-ended (the first, the interim and the final one).
    assert line["sessions"] == "consultation 1; pre 1/6; pre 2/6"
    assert line["identity_method"] == "command"


def test_the_code_goes_only_on_sessions_of_at_least_120_minutes(centre: Path) -> None:
    lines = register(centre, "2026-03-04", "--central")
    (zoe,) = [line for line in lines if line["national_number"] == NN]
    assert zoe["nomenclature_code"] == "558994"
    assert zoe["billed_sessions"] == "1"  # the 1-hour "group" session does not qualify
    assert zoe["sessions"] == "group 1/36; group 2/36"
    (other,) = [line for line in lines if line["national_number"] == OTHER]
    assert other["programme"] == "back-and-neck"
    assert other["nomenclature_code"] == ""  # back and neck has no billing table
    (info,) = register(centre, "2026-03-05", "--central")
    assert (info["nomenclature_code"], info["billed_sessions"]) == ("558994", "1")


def test_the_centre_has_the_national_number_and_full_name_the_kiosk_does_not(
    centre: Path,
) -> None:
    (line,) = register(centre, "2026-03-05", "--central")
    assert (line["national_number"], line["last_name"]) == (NN, "Peeters")
    text = run_kiosk(centre, "register", "--date", "2026-03-05", "--central")
    assert text.returncode == 0, text.stderr
    assert "Peeters, Zoë  rugrevalidatie: group 3/36" in text.stdout
    assert "code 558994" in text.stdout


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 1, 1, hour, tzinfo=dt.UTC) + dt.timedelta(days=day)


def test_at_most_36_in_6_months_counted_from_the_first() -> None:
    billing = Billing("558994", ("group",), 120, at_most=36, per_months=6)
    two_hours = dt.timedelta(hours=2)
    sessions = [("group", at(3 * i), at(3 * i) + two_hours) for i in range(40)]
    billed = billed_starts(sessions, billing)
    assert len(billed) == 36 and max(billed) == at(3 * 35)
    # Six months after the first billed session, nothing more carries the code.
    late = [("group", at(0), at(0) + two_hours), ("group", at(181), at(181) + two_hours)]
    assert billed_starts(late, billing) == {at(0)}
    assert billed_starts([("group", at(0), at(0) + dt.timedelta(minutes=119))], billing) == set()
    assert billed_starts([("individual", at(0), at(0) + two_hours)], billing) == set()


def test_an_attendance_no_programme_file_follows_stays_in_the_register(tmp_path: Path) -> None:
    programmes = tmp_path / "programmes"
    programmes.mkdir()
    neck = (SHIPPED / "back-and-neck.toml").read_text(encoding="utf-8")
    own = programmes / "nek-kort.toml"
    own.write_text(neck.replace('code = "back-and-neck"', 'code = "nek-kort"'), "utf-8")
    rows = (
        row("core1", "2026-03-02T09:00:00", "2026-03-02T10:00:00", nn=OTHER, programme="nek-kort"),
    )
    centre = make_centre(tmp_path, rows, programmes_dir=programmes)
    own.unlink()  # the centre drops the file; the attendance happened all the same
    (line,) = register(centre, "2026-03-02", "--central")
    assert (line["programme"], line["sessions"], line["nomenclature_code"]) == (
        "nek-kort",
        "core1 ?",
        "",
    )
