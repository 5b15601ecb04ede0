"""Backups of the kiosk's SQLite database while the kiosk runs, restore, and keeping the last N.

The copy is made with SQLite's online backup API: it reads a consistent snapshot page by page
under SQLite's own locking, so a check-in being written at the same moment is either wholly in
the copy or wholly not. Each copy is checked (``PRAGMA quick_check``) before the oldest ones are
removed. An encrypted (SQLCipher) database is copied encrypted with the same key.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from kiosk.core.config import ConfigError, Settings
from kiosk.db.cipher import sqlcipher_driver
from kiosk.db.files import DatabaseFileError, check_database_file, is_encrypted, sqlite_path

PREFIX = "kiosk-"
SUFFIX = ".sqlite"


class BackupError(RuntimeError):
    """A backup or restore could not be made (a missing or damaged file, a full disk): one
    sentence, no personal data; the command exits with code 2 and keeps nothing."""


@dataclass(frozen=True)
class Database:
    """The kiosk database file and, for SQLCipher, its raw key pragma value."""

    path: Path
    key: str | None = None


def database_of(settings: Settings) -> Database:
    """The local database named by the settings (it must be a SQLite or SQLCipher file)."""
    path = sqlite_path(settings.local_url)
    if path is None:
        raise ConfigError(f"{settings.source or 'configuration'}: local_url: not a SQLite file")
    url = make_url(settings.local_url)
    key = url.password if is_encrypted(settings.local_url) else None
    # Only the raw-key form kiosk.core.config writes: it goes into a PRAGMA, so nothing else passes.
    if key and not re.fullmatch(r"x'[0-9a-f]{64}'", str(key)):
        raise ConfigError(
            f"{settings.source or 'configuration'}: local_url: a SQLCipher key must come from "
            "[database] key_credential"
        )
    return Database(path, str(key) if key else None)


def backup_dir(settings: Settings) -> Path:
    """Where backups go: ``[backup] dir`` or ``backups/`` in the data directory."""
    return settings.backup_dir or settings.data_dir / "backups"


@contextmanager
def _connect(path: Path, key: str | None) -> Iterator[Any]:
    """A DB-API connection (sqlcipher3 when keyed), closed at the end."""
    module: Any = sqlcipher_driver() if key is not None else sqlite3
    connection = module.connect(str(path), timeout=30)
    try:
        if key is not None:
            # The key is hex inside x'...': nothing to escape.
            connection.execute(f'PRAGMA key="{key}"')
        yield connection
    finally:
        connection.close()


def _whole(path: Path, key: str | None) -> None:
    """The header check every database file passes (an empty copy is no backup)."""
    try:
        check_database_file(path, encrypted=key is not None)
    except DatabaseFileError as exc:
        raise BackupError(str(exc)) from None


def _check(path: Path, key: str | None, *, copy_of: Path | None = None) -> None:
    """A whole, undamaged kiosk database; a fresh copy's problems are its source's (``copy_of``):
    the backup API copies pages as they are."""
    _whole(path, key)
    shown = copy_of or path
    try:
        with _connect(path, key) as connection:
            result = connection.execute("PRAGMA quick_check").fetchone()
            has_schema = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
            ).fetchone()
    except Exception as exc:  # the driver's own error class differs per module
        raise BackupError(f"{shown} is not a readable kiosk database ({exc})") from None
    if result is None or result[0] != "ok":
        raise BackupError(f"{shown} failed SQLite's integrity check")
    if not has_schema or has_schema[0] != 1:
        raise BackupError(f"{shown} is not a kiosk database (no migration table)")


def _copy(source: Path, target: Path, key: str | None) -> None:
    try:
        with _connect(source, key) as src, _connect(target, key) as dst:
            src.backup(dst)
    except BackupError:
        raise
    except Exception as exc:  # sqlite3's and sqlcipher3's error classes differ
        # A full disk lands here ("database or disk is full"): say so, name both files.
        raise BackupError(f"cannot copy {source} to {target} (SQLite: {exc})") from None


def list_backups(folder: Path) -> list[Path]:
    """Backups in ``folder``, oldest first (the names sort by time)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())


def backup(settings: Settings, *, keep: int | None = None, now: dt.datetime | None = None) -> Path:
    """Copy the live database into the backup folder, check it, keep the newest ``keep``."""
    database = database_of(settings)
    _whole(database.path, database.key)
    folder = backup_dir(settings)
    new_folder = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BackupError(f"cannot make the backup folder {folder} ({exc.strerror})") from None
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    target = folder / f"{PREFIX}{moment:%Y%m%dT%H%M%S.%fZ}{SUFFIX}"
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(database.path, partial, database.key)
        partial.chmod(0o600)
        _check(partial, database.key, copy_of=database.path)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        if new_folder:
            folder.rmdir()  # a failed first backup leaves no trace either
        raise
    prune(folder, keep if keep is not None else settings.backup_keep)
    return target


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups; returns what was removed."""
    if keep < 1:
        raise BackupError("keep must be at least 1")
    backups = list_backups(folder)
    removed = backups[: max(0, len(backups) - keep)]
    for path in removed:
        path.unlink()
    return removed


def restore(settings: Settings, source: Path) -> Path | None:
    """Put a backup back as the live database; returns the safety copy of what it replaced.

    The backup is checked first. The current database is itself backed up (so a wrong restore
    can be undone), then overwritten through the backup API under SQLite's locks; still, stop
    the kiosk and sync first (``systemctl stop rehab-kiosk rehab-kiosk-sync``) so no process
    keeps working on rows that just vanished.
    """
    database = database_of(settings)
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    _check(source, database.key)
    safety: Path | None = None
    if database.path.exists():
        try:
            _check(database.path, database.key)
        except BackupError:
            # The live file is damaged, the usual reason to restore: no copy can be made of it,
            # so it is kept as it is. (A full disk fails the safety copy below instead, and the
            # restore stops with the live file untouched.)
            safety = _set_aside(database.path, backup_dir(settings))
        else:
            # The safety copy does not count against [backup] keep: it must not push out a good
            # backup.
            safety = backup(settings, keep=len(list_backups(backup_dir(settings))) + 1)
    database.path.parent.mkdir(parents=True, exist_ok=True)
    _copy(source, database.path, database.key)
    return safety


def _set_aside(path: Path, folder: Path) -> Path:
    """Move a damaged database (and its -wal and -shm) into ``folder`` as ``*.damaged``.

    Its write-ahead log must go too: left beside the restored file, SQLite would replay it there.
    """
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = folder / f"{PREFIX}{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S.%fZ}.damaged"
    for suffix in ("-wal", "-shm", ""):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.replace(target.with_name(target.name + suffix))
    return target
