"""What reception or a kiosk recorded survives a re-import of the schedule: an export made before
the patient phoned does not book a cancelled session again, and one that calls off a session the
patient attended does not undo the attendance."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from kiosk.db.engine import make_engine
from tests.commands import run_kiosk
from tests.sync.importing import VALID_ROWS, csv_text, write_config

BOOKED = VALID_ROWS[0]  # Zoë, individual, 2026-03-02 09:00 (08:00 UTC), booked
DAY = "2026-03-02"


def centre(tmp_path: Path, central_url: str) -> Path:
    """A centre whose own database is also the "kiosk" the commands act on."""
    write_config(tmp_path, central_url)
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'site_id = "GENK"\nlocal_url = "{central_url}"\n' + config.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    assert run_kiosk(tmp_path, "central", "init").returncode == 0
    return tmp_path


def import_rows(data_dir: Path, *rows: dict[str, str]) -> None:
    export = data_dir / "export.csv"
    export.write_text(csv_text(rows), encoding="utf-8")
    done = run_kiosk(data_dir, "central", "import", str(export))
    assert done.returncode == 0, done.stderr


def zoe(data_dir: Path) -> dict[str, str]:
    day = json.loads(run_kiosk(data_dir, "today", "--date", DAY, "--json").stdout)
    (patient,) = [
        p for s in day for p in s["patients"] if p["national_number"] == BOOKED["national_number"]
    ]
    return patient


def test_a_reimport_keeps_receptions_cancellation(tmp_path: Path, central_url: str) -> None:
    data_dir = centre(tmp_path, central_url)
    import_rows(data_dir, dict(BOOKED))
    booking = zoe(data_dir)["booking_id"]
    done = run_kiosk(
        data_dir, "booking", "cancel", booking, "--called-at", "2026-02-27T10:00", "--reason", "ill"
    )
    assert done.returncode == 0, done.stderr
    import_rows(data_dir, dict(BOOKED))  # the scheduling system still says "booked"
    assert zoe(data_dir)["status"] == "cancelled"
    # Reception's undo books it again; the export then has its say as before.
    assert run_kiosk(data_dir, "booking", "undo", booking, "--reason", "typo").returncode == 0
    assert zoe(data_dir)["status"] in ("expected", "absent")  # booked again (a past day)
    import_rows(data_dir, {**BOOKED, "status": "cancelled"})
    assert zoe(data_dir)["status"] == "cancelled"


def test_only_the_recorded_booking_is_held(tmp_path: Path, central_url: str) -> None:
    # Another patient's booking on the same centre still follows the export.
    data_dir = centre(tmp_path, central_url)
    other = {**VALID_ROWS[2], "starts_at": "2026-03-02T11:00:00+01:00",
             "ends_at": "2026-03-02T12:00:00+01:00"}  # fmt: skip
    import_rows(data_dir, dict(BOOKED), other)
    booking = zoe(data_dir)["booking_id"]
    assert run_kiosk(data_dir, "booking", "cancel", booking, "--reason", "ill").returncode == 0
    import_rows(data_dir, dict(BOOKED), {**other, "status": "cancelled"})
    day = json.loads(run_kiosk(data_dir, "today", "--date", DAY, "--json").stdout)
    statuses = {p["national_number"]: p["status"] for s in day for p in s["patients"]}
    assert statuses == {
        BOOKED["national_number"]: "cancelled",
        other["national_number"]: "cancelled",
    }
    import_rows(data_dir, dict(BOOKED), other)
    day = json.loads(run_kiosk(data_dir, "today", "--date", DAY, "--json").stdout)
    statuses = {p["national_number"]: p["status"] for s in day for p in s["patients"]}
    assert statuses[BOOKED["national_number"]] == "cancelled"
    assert statuses[other["national_number"]] != "cancelled"


def test_a_reimport_does_not_cancel_an_attended_session(tmp_path: Path, central_url: str) -> None:
    data_dir = centre(tmp_path, central_url)
    import_rows(data_dir, dict(BOOKED))
    done = run_kiosk(
        data_dir, "checkin", "--national-number", BOOKED["national_number"],
        "--at", BOOKED["starts_at"],
    )  # fmt: skip
    assert done.returncode == 0, done.stdout
    import_rows(data_dir, {**BOOKED, "status": "cancelled"})
    assert zoe(data_dir)["status"] in ("arrived", "late")


def test_a_reimport_keeps_why_a_programme_stopped(tmp_path: Path, central_url: str) -> None:
    data_dir = centre(tmp_path, central_url)
    import_rows(data_dir, dict(BOOKED))
    enrolment = zoe(data_dir)["enrolment_id"]
    done = run_kiosk(
        data_dir, "enrolment", "decide", enrolment, "--gate", "pre", "--alternative",
        "--reason", "home exercises",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    import_rows(data_dir, dict(BOOKED))
    engine = make_engine(central_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT status, stop_reason, decisions FROM enrolments WHERE id = :id"),
                {"id": enrolment},
            ).one()
    finally:
        engine.dispose()
    assert tuple(row) == (
        "STOPPED",
        "team decision: alternative plan: home exercises",
        "pre:alternative",
    )
