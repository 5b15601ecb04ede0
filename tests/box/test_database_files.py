"""A database file that exists but is empty or damaged is refused, naming the file: never taken
for an empty database, migrated or recreated; doctor fails on it, backup keeps no copy of it,
restore puts a good one back over it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk.box.backup import list_backups
from kiosk.db.engine import make_engine
from kiosk.db.files import DatabaseFileError, check_database_file
from tests.commands import run_kiosk
from tests.damaged import DAMAGES, snapshot

# Damages the header check sees; "pages overwritten" keeps a whole header: SQLite finds it.
HEADER_DAMAGES = [name for name in DAMAGES if name != "pages overwritten"]


def _one_line(result_stderr: str) -> str:
    lines = result_stderr.splitlines()
    assert len(lines) == 1, result_stderr
    assert "Traceback" not in result_stderr
    return lines[0]


def test_a_whole_database_passes(demo_dir: Path) -> None:
    check_database_file(demo_dir / "kiosk.sqlite")


@pytest.mark.parametrize("damage", HEADER_DAMAGES)
def test_the_header_check_names_the_file_and_the_damage(demo_dir: Path, damage: str) -> None:
    database = demo_dir / "kiosk.sqlite"
    DAMAGES[damage](database)
    with pytest.raises(DatabaseFileError) as caught:
        check_database_file(database)
    assert str(caught.value).startswith(str(database))
    with pytest.raises(DatabaseFileError):
        make_engine(f"sqlite:///{database}")


def test_damaged_pages_behind_a_whole_header_end_in_the_same_error(demo_dir: Path) -> None:
    database = demo_dir / "kiosk.sqlite"
    DAMAGES["pages overwritten"](database)
    check_database_file(database)  # the header cannot tell
    engine = make_engine(f"sqlite:///{database}")
    try:
        with pytest.raises(DatabaseFileError, match="is damaged"), engine.connect() as db:
            db.execute(text("SELECT count(*) FROM bookings"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", [("today",), ("sync", "--once"), ("demo-data", "--if-empty")])
def test_an_empty_file_is_never_made_into_a_database(demo_dir: Path, command: tuple[str]) -> None:
    # sync creates a missing replica and demo-data --if-empty keeps an existing one: neither
    # may take an empty file for either.
    database = demo_dir / "kiosk.sqlite"
    database.write_bytes(b"")
    before = snapshot(demo_dir)
    result = run_kiosk(demo_dir, *command)
    assert result.returncode == 2, result.stderr
    assert _one_line(result.stderr) == (
        f"kiosk: {database} is empty (0 bytes), not a database; restore a backup or move it away"
    )
    assert snapshot(demo_dir) == before


@pytest.mark.parametrize("damage", DAMAGES)
def test_doctor_fails_on_a_damaged_database_and_changes_nothing(
    demo_dir: Path, damage: str
) -> None:
    database = demo_dir / "kiosk.sqlite"
    DAMAGES[damage](database)
    # The simulated printer's status check makes its tickets folder: not the database's doing.
    before = snapshot(demo_dir, ignore=("logs", "tickets"))
    result = run_kiosk(demo_dir, "doctor", "--json")
    assert result.returncode == 2
    check = {c["name"]: c for c in json.loads(result.stdout)["checks"]}["local database"]
    assert check["status"] == "failure"
    assert check["detail"].startswith(str(database))
    assert snapshot(demo_dir, ignore=("logs", "tickets")) == before


@pytest.mark.parametrize("damage", DAMAGES)
def test_backup_refuses_a_damaged_database_and_keeps_no_copy(demo_dir: Path, damage: str) -> None:
    database = demo_dir / "kiosk.sqlite"
    DAMAGES[damage](database)
    result = run_kiosk(demo_dir, "backup")
    assert result.returncode == 2
    assert str(database) in _one_line(result.stderr)
    backups = demo_dir / "backups"
    assert not backups.exists() or list(backups.iterdir()) == []


def test_doctor_warns_when_the_newest_backup_is_no_good(demo_dir: Path) -> None:
    assert run_kiosk(demo_dir, "backup").returncode == 0
    newest = list_backups(demo_dir / "backups")[-1]
    newest.write_bytes(b"")
    result = run_kiosk(demo_dir, "doctor", "--json")
    check = {c["name"]: c for c in json.loads(result.stdout)["checks"]}["backups"]
    assert check["status"] == "warning"
    assert f"the newest backup is no good: {newest} is empty" in check["detail"]


@pytest.mark.parametrize("damage", DAMAGES)
def test_restore_puts_a_good_backup_back_over_a_damaged_database(
    demo_dir: Path, damage: str
) -> None:
    database = demo_dir / "kiosk.sqlite"
    made = run_kiosk(demo_dir, "backup")
    assert made.returncode == 0, made.stderr
    good = list_backups(demo_dir / "backups")[-1]
    DAMAGES[damage](database)
    result = run_kiosk(demo_dir, "restore", str(good))
    assert result.returncode == 0, result.stderr
    (aside,) = (demo_dir / "backups").glob("*.damaged")
    assert f"the replaced database was saved as {aside}" in result.stdout
    if aside.is_file():
        assert aside.read_bytes() != good.read_bytes()  # the damaged file itself, kept
    check_database_file(database)
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert run_kiosk(demo_dir, "today").returncode == 0
