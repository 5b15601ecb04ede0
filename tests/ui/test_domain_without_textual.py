"""The domain stays importable without Textual (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

DOMAIN = (
    "kiosk.domain.checkin",
    "kiosk.domain.attendance",
    "kiosk.domain.today",
    "kiosk.core.reception_pin",
    "kiosk.domain.patient_search",
    "kiosk.domain.alerts",
    "kiosk.domain.next_session",
    "kiosk.domain.day_csv",
    "kiosk.domain.health",
    "kiosk.core.i18n",
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
