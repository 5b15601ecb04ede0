"""Ways a database file gets damaged, applied to a real file: empty, garbage, cut short, pages
overwritten, a folder in its place. Each leaves the file (or folder) where the database was."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

PAGE = 4096  # the kiosk's databases use SQLite's default page size


def _noise(size: int) -> bytes:
    """Deterministic bytes that are no SQLite structure."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _garbage(path: Path) -> None:
    path.write_bytes(_noise(path.stat().st_size))


def _text(path: Path) -> None:
    path.write_text("these are not the bookings you are looking for\n", encoding="utf-8")


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 // PAGE * PAGE])


def _cut_mid_page(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 100])


def _pages_overwritten(path: Path) -> None:
    # The header page stays whole, so only SQLite itself can tell, when it reads the rest.
    data = path.read_bytes()
    path.write_bytes(data[:PAGE] + _noise(len(data) - PAGE))


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


DAMAGES: dict[str, Callable[[Path], None]] = {
    "empty": _empty,
    "garbage": _garbage,
    "text": _text,
    "truncated": _truncated,
    "cut mid-page": _cut_mid_page,
    "pages overwritten": _pages_overwritten,
    "folder": _folder,
}
"""Each damage by name, for ``pytest.mark.parametrize``."""


def snapshot(folder: Path, *, ignore: tuple[str, ...] = ("logs",)) -> dict[str, bytes | None]:
    """Every file under ``folder`` with its content (None for a folder), to prove nothing changed.

    Folders named in ``ignore`` are left out (by default the logs: a command may log that it
    refused the file), and so are SQLite's shared-memory index and an empty write-ahead log,
    which come and go with every connection and hold no data.
    """
    return {
        str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if not set(ignore) & set(p.relative_to(folder).parts)
        and not p.name.endswith("-shm")
        and not (p.name.endswith("-wal") and p.stat().st_size == 0)
    }
