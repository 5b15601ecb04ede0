"""The embedded set-up as a technician runs it: a demo centre in the central database, a kiosk
that pulls its replica, checks a patient in, pushes, and an exit that redeems the ticket."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.commands import first_expected, run_kiosk


def test_demo_centre_sync_checkin_and_redeem_at_the_exit(tmp_path: Path) -> None:
    filled = run_kiosk(tmp_path, "demo-data", "--central", "--patients", "40", "--json")
    assert filled.returncode == 0, filled.stderr
    assert json.loads(filled.stdout)["database"].endswith("central.sqlite")
    assert not (tmp_path / "kiosk.sqlite").exists()

    first = run_kiosk(tmp_path, "sync", "--once")
    assert first.returncode == 0, first.stderr
    nn, start, day = first_expected(tmp_path, "--central")
    centre_day = json.loads(
        run_kiosk(tmp_path, "today", "--central", "--date", day, "--json").stdout
    )
    kiosk_day = json.loads(run_kiosk(tmp_path, "today", "--date", day, "--json").stdout)
    assert [s["start"] for s in kiosk_day] == [s["start"] for s in centre_day]
    # The replica holds what check-in needs, never the national register number.
    assert {p["national_number"] for s in kiosk_day for p in s["patients"]} == {""}

    checked = run_kiosk(
        tmp_path, "checkin", "--national-number", nn, "--at", f"{start}+00:00", "--json"
    )
    assert checked.returncode == 0, checked.stderr
    payload = json.loads(checked.stdout)["parking"]["payload"]
    assert run_kiosk(tmp_path, "sync", "--once").returncode == 0

    centre_day = json.loads(
        run_kiosk(tmp_path, "today", "--central", "--date", day, "--json").stdout
    )
    statuses = {p["national_number"]: p["status"] for s in centre_day for p in s["patients"]}
    assert statuses[nn] == "arrived"

    redeemed = run_kiosk(tmp_path, "parking", "redeem", payload, "--at", start)
    assert redeemed.returncode == 0, redeemed.stdout + redeemed.stderr
    again = run_kiosk(tmp_path, "parking", "redeem", payload, "--at", start)
    assert again.returncode == 1
    assert again.stdout.startswith("invalid: already used")


def test_refused_events_are_loud_and_can_be_queued_again(tmp_path: Path) -> None:
    assert run_kiosk(tmp_path, "demo-data", "--central", "--patients", "10").returncode == 0
    assert run_kiosk(tmp_path, "sync", "--once").returncode == 0
    with sqlite3.connect(tmp_path / "kiosk.sqlite") as db:
        db.execute(
            "INSERT INTO outbox (id, seq, created_at, kind, schema_version, payload, attempts, "
            "last_error, set_aside) VALUES ('00000000-0000-4000-8000-000000000009', "
            "(SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox), '2026-03-02 07:00:00', 'teleport', "
            "1, '{}', 0, '', 0)"
        )
    refused = run_kiosk(tmp_path, "sync", "--once")
    assert refused.returncode == 1
    assert "refused 1 events" in refused.stderr and "kiosk sync retry" in refused.stderr
    assert "Traceback" not in refused.stderr
    doctor = run_kiosk(tmp_path, "doctor", "--json")
    (outbox,) = [c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "outbox"]
    assert outbox["status"] == "failure" and "teleport" in outbox["detail"]
    again = run_kiosk(tmp_path, "sync", "retry")
    assert again.returncode == 0 and again.stdout.startswith("1 set-aside events queued again")
    status = json.loads(run_kiosk(tmp_path, "sync", "status", "--json").stdout)
    assert (status["queue"], status["set_aside"]) == (1, 0)


def test_sync_without_a_central_database_is_one_line_and_creates_none(tmp_path: Path) -> None:
    central = tmp_path / "nowhere" / "central.sqlite"
    (tmp_path / "kiosk.toml").write_text(
        f'site_id = "GENK"\ncentral_url = "sqlite:///{central}"\n', encoding="utf-8"
    )
    done = run_kiosk(tmp_path, "sync", "--once")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no central database at" in done.stderr
    assert not central.exists()


def test_a_kiosk_demo_of_its_own_makes_room_for_the_centres_replica(tmp_path: Path) -> None:
    # `make run` fills the kiosk's own demo; the README's central demo comes after it (or
    # before): the same demo patients under other ids, which the first pull would collide with.
    assert run_kiosk(tmp_path, "demo-data", "--patients", "20").returncode == 0
    assert run_kiosk(tmp_path, "demo-data", "--central", "--patients", "20").returncode == 0
    first = run_kiosk(tmp_path, "sync", "--once")
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    (copy,) = (tmp_path / "backups").glob("kiosk-*.sqlite")
    assert f"backed up as {copy}" in first.stdout
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT count(*) FROM patients").fetchone() == (20,)
    _, _, day = first_expected(tmp_path, "--central")
    centre_day = run_kiosk(tmp_path, "today", "--central", "--date", day, "--json").stdout
    kiosk_day = run_kiosk(tmp_path, "today", "--date", day, "--json").stdout
    assert [s["start"] for s in json.loads(kiosk_day)] == [
        s["start"] for s in json.loads(centre_day)
    ]
    again = run_kiosk(tmp_path, "sync", "--once")
    assert again.returncode == 0 and "backed up" not in again.stdout
    assert len(list((tmp_path / "backups").glob("kiosk-*.sqlite"))) == 1


def test_a_failed_round_is_one_line_on_the_terminal(tmp_path: Path) -> None:
    assert run_kiosk(tmp_path, "demo-data", "--central", "--patients", "5").returncode == 0
    done = run_kiosk(
        tmp_path, "sync", "--once", KIOSK_CENTRAL_URL="postgresql+psycopg://postgres@127.0.0.1:1/x"
    )
    assert done.returncode == 1
    assert done.stderr.startswith("kiosk: sync failed: ") and done.stderr.count("\n") == 1
