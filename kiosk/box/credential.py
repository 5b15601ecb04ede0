"""The SQLCipher key of ``kiosk install --encrypt-database``: a sealed systemd credential.

The key is 32 random bytes (64 hex digits), sealed by ``systemd-creds encrypt`` with the box's
TPM2 when it has one and the host key otherwise, so the file in ``/etc/credstore.encrypted`` is
useless on another machine. Each unit gets a drop-in that loads it (``LoadCredentialEncrypted=``)
and the configuration names it (``[database] key_credential``); the kiosk reads it from
``$CREDENTIALS_DIRECTORY``. Sealing needs the live system's keys, so it is refused with --root.
"""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path

NAME = "kiosk-db-key"
SEALED = Path("/etc/credstore.encrypted") / NAME
DROPIN_NAME = "database-key.conf"
# The units that open the kiosk's database.
SERVICES = ("rehab-kiosk.service", "rehab-kiosk-sync.service", "rehab-kiosk-daily.service")
DROPIN_TEXT = f"""\
# Written by `kiosk install --encrypt-database`: the SQLCipher key of the kiosk's database.
[Service]
LoadCredentialEncrypted={NAME}:{SEALED}
"""
_EMPTY = re.compile(r'^key_credential = ""', re.MULTILINE)


def dropin(unit_dir: Path, unit: str) -> Path:
    """The drop-in that loads the key into ``unit``."""
    return unit_dir / f"{unit}.d" / DROPIN_NAME


def seal(target: Path) -> Callable[[], None]:
    """An action sealing a fresh random key into ``target`` (mode 0600, root's)."""

    def run() -> None:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        result = subprocess.run(
            ["systemd-creds", "encrypt", f"--name={NAME}", "-", str(target)],
            input=secrets.token_hex(32) + "\n",
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"systemd-creds encrypt failed: {detail}")
        target.chmod(0o600)

    return run


def name_in_config(text: str) -> str | None:
    """``text`` with ``key_credential`` set to the sealed key; None if the line is missing."""
    if f'key_credential = "{NAME}"' in text:
        return text
    changed, found = _EMPTY.subn(f'key_credential = "{NAME}"', text)
    return changed if found else None
