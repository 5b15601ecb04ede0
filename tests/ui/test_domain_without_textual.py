"""The domain stays importable without Textual (checked in a fresh interpreter): every module of
``kiosk.domain``, found by walking the package so that a new one is checked too, and the plain
modules the screens and the command line build on."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import kiosk.domain

PLAIN = (
    "kiosk.core.reception_pin",
    "kiosk.core.i18n",
    "kiosk.ui.result_text",
    "kiosk.cli.main",
)
DOMAIN = tuple(
    sorted(
        module.name
        for module in pkgutil.walk_packages(kiosk.domain.__path__, prefix="kiosk.domain.")
    )
)


def test_the_walk_finds_the_domain_and_its_subpackages() -> None:
    assert {"kiosk.domain.checkin", "kiosk.domain.attendance.closing"} <= set(DOMAIN)
    assert "kiosk.domain.parking.issue" in DOMAIN


def test_domain_modules_do_not_load_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {DOMAIN + PLAIN!r}: importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(loaded))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""
