"""SQLCipher says nothing on stderr, which is the kiosk's screen, even where it cannot mlock.

In a container or for a user without ``CAP_IPC_LOCK`` and with no lockable memory, SQLCipher
warns ``WARN MEMORY sqlcipher_mlock: mlock() returned -1 errno=1`` while its module loads. The
commands here run in exactly that condition: ``RLIMIT_MEMLOCK`` 0 and, as root, the capability
dropped from the bounding set before exec (so the kiosk process never has it).
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
from pathlib import Path

from tests.commands import KIOSK, kiosk_env

PR_CAPBSET_DROP = 24
CAP_IPC_LOCK = 14


def _no_lockable_memory() -> None:
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _run(argv: list[str], data: Path, credentials: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env=kiosk_env(data, CREDENTIALS_DIRECTORY=str(credentials)),
        preexec_fn=_no_lockable_memory,  # the child alone, between fork and exec
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_commands_on_the_encrypted_database_print_nothing_on_stderr(
    encrypted_kiosk: tuple[Path, Path],
) -> None:
    data, credentials = encrypted_kiosk
    # The condition is real: SQLCipher's module alone warns in it.
    bare = _run([sys.executable, "-c", "import sqlcipher3"], data, credentials)
    assert "sqlcipher_mlock" in bare.stderr, bare.stderr
    for command in (["demo-data", "--patients", "5"], ["today"], ["backup"], ["doctor"]):
        done = _run([KIOSK, *command], data, credentials)
        assert done.returncode in (0, 1, 2), (command, done.stderr)
        assert done.stderr == "", (command, done.stderr)
