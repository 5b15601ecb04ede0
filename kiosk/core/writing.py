"""Writing a file whole or not at all: a full disk or a crash never leaves half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_whole(path: Path, data: str | bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file in the same folder.

    ``path`` is replaced only once every byte is on disk; on any failure (``OSError`` for a full
    disk) the temporary file is removed and ``path`` is as it was, a previous version intact.
    The file has ``mode`` before its first byte is written (exports and configurations hold
    names and secrets).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(raw)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        # A failed write() names no file: name the one that could not be written.
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
