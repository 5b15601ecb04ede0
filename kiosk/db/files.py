"""The database files: which URL names one, and whether the file there is a whole database.

SQLite takes a 0-byte file for an empty database and would create the schema in it, and notices
a file cut short (a full disk, a bad copy) only when it reads a missing page: either way every
patient would be "unknown" while everything looked fine. So an engine opens an existing file
only once :func:`check_database_file` passed it, and SQLite's own verdicts on a damaged, full or
read-only file are turned into the same error by :func:`translate_sqlite_error`. Both give one
sentence naming the file.
"""

from __future__ import annotations

from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every (unencrypted) SQLite database file."""
_HEADER_SIZE = 100
_MIN_PAGE = 512
_RESTORE_HINT = "restore a backup or move it away"

# SQLite's primary result codes (the low byte of an extended code), by what they mean here:
# CORRUPT and NOTADB; FULL; PERM, READONLY, IOERR and CANTOPEN.
_DAMAGED = frozenset({11, 26})
_FULL = 13
_UNWRITABLE = frozenset({3, 8, 10, 14})


class DatabaseFileError(Exception):
    """A database file cannot be used (empty, damaged, not SQLite, disk full, read-only).

    Not a ``ConfigError``: the file may be fixed or restored while the program runs, so the
    kiosk's screen waits and retries, where a command stops with exit code 2.
    """


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite (or SQLCipher) URL; None for other databases and ``:memory:``."""
    # SQLAlchemy here, not above: the command line imports this module for its error alone.
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def is_encrypted(url: str) -> bool:
    """True for a SQLCipher URL: its file has no plain SQLite header to check."""
    from sqlalchemy.engine import make_url

    return make_url(url).get_driver_name() == "pysqlcipher"


def check_database_file(path: Path, *, encrypted: bool = False) -> None:
    """Raise :class:`DatabaseFileError` unless the file at ``path`` is a whole SQLite database.

    Reads the 100-byte header only, so it costs nothing on a large file: the file must be a
    regular file, not empty, start with SQLite's header (unless ``encrypted``), have a valid
    page size, and be as long as the header says (a file cut short fails this).
    """
    if not path.exists():
        raise DatabaseFileError(f"no database at {path}")
    if not path.is_file():
        raise DatabaseFileError(f"{path} is not a file, so it cannot be a database")
    size = path.stat().st_size
    if size == 0:
        raise DatabaseFileError(f"{path} is empty (0 bytes), not a database; {_RESTORE_HINT}")
    if encrypted:
        # SQLCipher encrypts the header too; its pages are still whole multiples of 512 bytes.
        if size % _MIN_PAGE:
            raise DatabaseFileError(f"{path} is cut short (not whole pages); {_RESTORE_HINT}")
        return
    with path.open("rb") as file:
        header = file.read(_HEADER_SIZE)
    if not header.startswith(SQLITE_HEADER):
        raise DatabaseFileError(f"{path} is not a SQLite database; {_RESTORE_HINT}")
    raw_page = int.from_bytes(header[16:18], "big")
    page = 65536 if raw_page == 1 else raw_page
    if len(header) < _HEADER_SIZE or page < _MIN_PAGE or page & (page - 1):
        raise DatabaseFileError(f"{path} has a damaged SQLite header; {_RESTORE_HINT}")
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid only when the change counter matches the "valid-for" number; a
    # write-ahead log may hold pages a crash kept from the main file: it is replayed on open.
    trusted = header[24:28] == header[92:96] and not _has_wal(path)
    if size % page or (trusted and pages * page > size):
        raise DatabaseFileError(f"{path} is cut short (truncated); {_RESTORE_HINT}")


def database_files(path: Path) -> tuple[Path, Path, Path]:
    """The database file and the two SQLite keeps beside it in WAL mode (``-wal``, ``-shm``):
    what makes or removes a database makes or removes all three."""
    return (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))


def _has_wal(path: Path) -> bool:
    wal = database_files(path)[1]
    return wal.is_file() and wal.stat().st_size > 0


def translate_sqlite_error(error: BaseException, path: Path) -> DatabaseFileError | None:
    """The one-sentence error for a SQLite failure that is the file's fault, else None.

    A damaged page, a file that is not a database (or, encrypted, has another key), a full disk
    and a file that cannot be written all end a command the same way as a file refused by
    :func:`check_database_file`; nothing was written (SQLite rolled the transaction back).
    """
    code = getattr(error, "sqlite_errorcode", None)
    text = str(error)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _DAMAGED or "malformed" in text or "not a database" in text:
        return DatabaseFileError(
            f"{path} is damaged or not a kiosk database (SQLite: {text}); {_RESTORE_HINT}"
        )
    if primary == _FULL or "disk is full" in text:
        return DatabaseFileError(f"{path}: the disk is full, nothing was written")
    if primary in _UNWRITABLE or "readonly" in text or "unable to open" in text:
        # A full disk often shows as an I/O error: SQLite must grow its shared-memory file.
        return DatabaseFileError(
            f"{path} cannot be used (SQLite: {text}); is the disk full or the file read-only?"
        )
    return None
