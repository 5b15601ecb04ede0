"""Running the kiosk's commands as a person does: the installed ``kiosk``, in a process of its
own, on a data directory of its own (no ``KIOSK_*`` setting of the machine leaks in)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

KIOSK = str(Path(sys.prefix) / "bin" / "kiosk")


def kiosk_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a kiosk command working on ``data_dir`` only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "NOTIFY_"))}
    env.update(KIOSK_DATA_DIR=str(data_dir), **extra)
    return env


def run_kiosk(
    data_dir: Path, *args: str, stdin: str | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``kiosk`` command on ``data_dir`` (``extra``: more environment)."""
    return subprocess.run(
        [KIOSK, *args],
        input=stdin,
        env=kiosk_env(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
