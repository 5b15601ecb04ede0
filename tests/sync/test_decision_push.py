"""A team decision recorded at a kiosk reaches the centre (``enrolment_decided``, then
``enrolment_stopped`` for an alternative plan)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.commands import run_kiosk


def test_a_team_decision_reaches_the_centre(tmp_path: Path) -> None:
    filled = run_kiosk(tmp_path, "demo-data", "--central", "--patients", "20", "--json")
    assert filled.returncode == 0, filled.stderr
    assert run_kiosk(tmp_path, "sync", "--once").returncode == 0
    with sqlite3.connect(tmp_path / "kiosk.sqlite") as db:
        row = db.execute(
            "SELECT id FROM enrolments WHERE programme_code = 'rugrevalidatie' "
            "AND status = 'ACTIVE' LIMIT 1"
        ).fetchone()
    assert row is not None
    enrolment = row[0]
    done = run_kiosk(
        tmp_path, "enrolment", "decide", enrolment, "--gate", "pre", "--alternative",
        "--reason", "physiotherapy at home", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["decision"] == "alternative"
    pushed = run_kiosk(tmp_path, "sync", "--once")
    assert pushed.returncode == 0, pushed.stderr
    with sqlite3.connect(tmp_path / "central.sqlite") as db:
        centre = db.execute(
            "SELECT status, decisions, stop_reason FROM enrolments WHERE id = ?", (enrolment,)
        ).fetchone()
    assert centre == (
        "STOPPED",
        "pre:alternative",
        "team decision: alternative plan: physiotherapy at home",
    )
    # The next pull keeps the kiosk's row as the centre has it now.
    assert run_kiosk(tmp_path, "sync", "--once").returncode == 0
    with sqlite3.connect(tmp_path / "kiosk.sqlite") as db:
        kiosk = db.execute(
            "SELECT status, decisions FROM enrolments WHERE id = ?", (enrolment,)
        ).fetchone()
    assert kiosk == ("STOPPED", "pre:alternative")
