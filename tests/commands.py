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


def first_expected(data_dir: Path, *options: str) -> tuple[str, str, str]:
    """A patient the demo expects on a coming day: (national number, session start in UTC to
    the minute, that day). The demo is built around the clock of the command that filled it, so
    the day is looked up from today on, never written down."""
    import datetime as dt
    import json
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo("Europe/Brussels")).date()
    for ahead in range(1, 8):
        day = (today + dt.timedelta(days=ahead)).isoformat()
        done = run_kiosk(data_dir, "today", *options, "--date", day, "--json")
        assert done.returncode == 0, done.stderr
        for session in json.loads(done.stdout):
            for patient in session["patients"]:
                if patient["status"] == "expected":
                    return patient["national_number"], session["start"][:16], day
    raise AssertionError("the demo expects nobody in the coming week")
