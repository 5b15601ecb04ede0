"""The domain stays importable without Textual (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

DOMAIN = (
    "kiosk.checkin",
    "kiosk.attendance",
    "kiosk.today",
    "kiosk.reception_pin",
    "kiosk.patient_search",
    "kiosk.alerts",
    "kiosk.next_session",
    "kiosk.day_csv",
    "kiosk.health",
    "kiosk.i18n",
    "kiosk.ui.result_text",
    "kiosk.cli.main",
)


def test_domain_modules_do_not_load_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {DOMAIN!r}: importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(loaded))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""
