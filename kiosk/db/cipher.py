"""SQLCipher's driver, loaded so that SQLCipher's own messages never reach the terminal.

SQLCipher (since 4.6) writes its WARN and ERROR messages to stderr, and on the kiosk stderr is
the patient screen. Where it cannot lock its memory pages (``mlock`` fails in a container, or
for a user without ``CAP_IPC_LOCK`` and with a small ``RLIMIT_MEMLOCK``) it says so while the
module loads, before a connection exists, so no PRAGMA can stop those lines: the import runs
with file descriptor 2 sent to a temporary file, whose lines go to the log at debug level. Then
``PRAGMA cipher_log_level = NONE``, which SQLCipher keeps for the whole process, silences what
later connections would print (a wrong key's HMAC failure also reaches the caller as an error).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import BinaryIO

log = logging.getLogger(__name__)

_loading = threading.Lock()
_loaded: list[ModuleType] = []


def sqlcipher_driver() -> ModuleType:
    """The ``sqlcipher3`` DB-API module, loaded once with its start-up messages kept off stderr."""
    with _loading:
        if not _loaded:
            with tempfile.TemporaryFile() as caught:
                with _stderr_to(caught):
                    import sqlcipher3  # type: ignore[import-untyped]
                caught.seek(0)
                said = caught.read().decode("utf-8", "replace").splitlines()
            for line in said:
                log.debug("sqlcipher: %s", line)
            probe = sqlcipher3.connect(":memory:")
            try:
                probe.execute("PRAGMA cipher_log_level = NONE")
            finally:
                probe.close()
            _loaded.append(sqlcipher3)
        return _loaded[0]


@contextlib.contextmanager
def _stderr_to(target: BinaryIO) -> Iterator[None]:
    """File descriptor 2 on ``target`` meanwhile (C code writes there, not to sys.stderr)."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep it off
        yield
        return
    os.dup2(target.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
