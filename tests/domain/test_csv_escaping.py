"""Cells a spreadsheet would run as a formula are escaped in the day export and the register."""

from __future__ import annotations

import csv
import io

import pytest

from kiosk.domain.day_csv import attendance_csv, spreadsheet_safe
from kiosk.domain.today import day_view
from tests.domain.conftest import MONDAY, Centre, local_time

HYPERLINK = '=HYPERLINK("http://evil.example/?x","Klik")'


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+32 1", "'+32 1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("Peeters", "Peeters"),
        ("De-Smet", "De-Smet"),
        ("", ""),
        (36, 36),
    ],
)
def test_a_cell_that_would_run_is_escaped_and_others_pass(cell: object, shown: object) -> None:
    assert spreadsheet_safe(cell) == shown


def test_the_day_export_escapes_names_and_rooms(centre: Centre) -> None:
    _, enrolment = centre.patient(first_name="@SUM(A1)", last_name=HYPERLINK)
    _, plain = centre.patient(first_name="Jan", last_name="Peeters")
    centre.book(enrolment, local_time(MONDAY, "13:00"))
    centre.book(plain, local_time(MONDAY, "13:00"))
    with centre.context.sessions() as db:
        sessions = day_view(
            db,
            site_id="GENK",
            day=MONDAY,
            now=centre.clock.now(),
            programmes=centre.context.programmes,
            window=centre.context.settings.checkin,
        )
    rows = {
        r["first_name"]: r
        for r in csv.DictReader(io.StringIO(attendance_csv(sessions, language="nl")))
    }
    assert rows["'@SUM(A1)"]["last_name"] == "'" + HYPERLINK
    assert rows["Jan"]["last_name"] == "Peeters"
    assert rows["Jan"]["start"] == "13:00"
