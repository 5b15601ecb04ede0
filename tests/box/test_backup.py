"""Backups while the database is being written, restore, keep N, and the encrypted database."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from kiosk.box.backup import BackupError, backup, list_backups, restore
from kiosk.core.config import load
from kiosk.db.files import SQLITE_HEADER
from tests.commands import run_kiosk


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_backup_taken_during_writes_is_a_consistent_database(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_DATA_DIR", str(demo_dir))
    settings = load()
    live = demo_dir / "kiosk.sqlite"
    stop = threading.Event()
    writing = threading.Event()

    def write() -> None:
        with sqlite3.connect(live, timeout=30) as db:
            db.execute("CREATE TABLE IF NOT EXISTS scratch (n INTEGER)")
            while not stop.is_set():
                db.execute("INSERT INTO scratch VALUES (1)")
                db.commit()
                writing.set()

    writer = threading.Thread(target=write)
    writer.start()
    # Back up only once the writer is really writing (its table exists in every copy).
    assert writing.wait(30)
    try:
        copies = [backup(settings, keep=10) for _ in range(3)]
    finally:
        stop.set()
        writer.join()
    for copy in copies:
        with sqlite3.connect(copy) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.stat().st_mode & 0o077 == 0
    assert _count(copies[0], "scratch") <= _count(copies[-1], "scratch")


def test_keep_n_drops_the_oldest(demo_dir: Path) -> None:
    for _ in range(4):
        assert run_kiosk(demo_dir, "backup", "--keep", "2").returncode == 0
    assert len(list_backups(demo_dir / "backups")) == 2


def test_restore_brings_back_the_backup_and_saves_what_it_replaced(demo_dir: Path) -> None:
    live = demo_dir / "kiosk.sqlite"
    before = _count(live, "bookings")
    made = run_kiosk(demo_dir, "backup")
    assert made.returncode == 0, made.stderr
    saved = list_backups(demo_dir / "backups")[-1]
    with sqlite3.connect(live) as db:
        db.execute("PRAGMA foreign_keys=OFF")
        db.execute("DELETE FROM bookings")
    assert _count(live, "bookings") == 0
    result = run_kiosk(demo_dir, "restore", str(saved))
    assert result.returncode == 0, result.stderr
    assert _count(live, "bookings") == before
    assert "the replaced database was saved as" in result.stdout
    assert len(list_backups(demo_dir / "backups")) == 2


def test_restore_refuses_a_file_that_is_not_a_kiosk_database(demo_dir: Path) -> None:
    junk = demo_dir / "junk.sqlite"
    with sqlite3.connect(junk) as db:
        db.execute("CREATE TABLE t (a)")
    result = run_kiosk(demo_dir, "restore", str(junk))
    assert result.returncode == 2
    assert "not a kiosk database" in result.stderr
    text = demo_dir / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    result = run_kiosk(demo_dir, "restore", str(text))
    assert result.returncode == 2
    assert result.stderr == (
        f"kiosk: {text} is not a SQLite database; restore a backup or move it away\n"
    )


def test_backup_without_a_database_is_one_clear_error(tmp_path: Path) -> None:
    from kiosk.core.config import from_mapping

    settings = from_mapping({"data_dir": str(tmp_path)}, None)
    with pytest.raises(BackupError, match="no database at"):
        backup(settings)
    with pytest.raises(BackupError, match="no backup file"):
        restore(settings, tmp_path / "missing.sqlite")


def test_the_encrypted_database_is_unreadable_without_the_credential(
    encrypted_kiosk: tuple[Path, Path],
) -> None:
    data, credentials = encrypted_kiosk
    env = {"CREDENTIALS_DIRECTORY": str(credentials)}
    made = run_kiosk(data, "demo-data", "--patients", "5", **env)
    assert made.returncode == 0, made.stderr
    database = data / "kiosk.sqlite"
    assert not database.read_bytes().startswith(SQLITE_HEADER)
    with sqlite3.connect(database) as db, pytest.raises(sqlite3.DatabaseError):
        db.execute("SELECT count(*) FROM bookings").fetchone()
    assert run_kiosk(data, "today", **env).returncode == 0
    missing = run_kiosk(data, "today")
    assert missing.returncode == 2
    assert "[database] key_credential" in missing.stderr
    backed = run_kiosk(data, "backup", "--json", **env)
    assert backed.returncode == 0, backed.stderr
    copy = list_backups(data / "backups")[-1]
    assert not copy.read_bytes().startswith(SQLITE_HEADER)
    restored = run_kiosk(data, "restore", str(copy), **env)
    assert restored.returncode == 0, restored.stderr
    doctor = run_kiosk(data, "doctor", "--json", **env)
    assert '"local database"' in doctor.stdout and "revision" in doctor.stdout
