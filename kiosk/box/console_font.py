"""A large font on the box's text console, through Debian's console-setup.

At 1920x1080 the kernel's 8x16 font gives 240x67 cells, too small to read from a step away;
Terminus 16x32 gives 120x33, the size the patient screen is laid out for. console-setup applies
``/etc/default/console-setup`` at every boot, so the installer only edits that file (keeping the
old one to put back on uninstall) and never touches a running console itself.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

CONSOLE_SETUP = Path("/etc/default/console-setup")
SAVED = Path("/etc/default/console-setup.rehab-kiosk-saved")
# The Terminus sizes console-setup ships for the Linux console (width x height in pixels).
FONT_SIZES = ("8x16", "10x20", "11x22", "12x24", "14x28", "16x32")
DEFAULT_FONT_SIZE = "16x32"


def with_font(text: str, size: str) -> str:
    """``text`` of a console-setup file with FONTFACE Terminus and FONTSIZE ``size``."""
    for key, value in (("FONTFACE", "Terminus"), ("FONTSIZE", size)):
        line = f'{key}="{value}"'
        text, found = re.subn(rf"^{key}=.*$", line, text, flags=re.MULTILINE)
        if not found:
            text = text + ("" if text.endswith("\n") or not text else "\n") + line + "\n"
    return text


def font_plan(root: Path, size: str) -> list[tuple[str, Callable[[], None]]]:
    """What install does for the console font under ``root`` (descriptions and actions)."""
    target = root / CONSOLE_SETUP.relative_to("/")
    saved = root / SAVED.relative_to("/")
    if not target.is_file():
        return [
            (
                f"leave the console font alone: {CONSOLE_SETUP} is missing "
                "(apt-get install console-setup, then install again)",
                lambda: None,
            )
        ]

    def keep_old() -> None:
        shutil.copy2(target, saved)

    def set_font() -> None:
        target.write_text(with_font(target.read_text(encoding="utf-8"), size), encoding="utf-8")

    steps: list[tuple[str, Callable[[], None]]] = []
    if not saved.exists():
        steps.append((f"keep the old {CONSOLE_SETUP} as {SAVED}", keep_old))
    steps.append(
        (
            f"set the console font to Terminus {size} in {CONSOLE_SETUP} (from the next boot)",
            set_font,
        )
    )
    return steps


def restore_plan(root: Path) -> list[tuple[str, Callable[[], None]]]:
    """What uninstall does: the console-setup file as it was before install."""
    saved = root / SAVED.relative_to("/")
    if not saved.is_file():
        return []
    target = root / CONSOLE_SETUP.relative_to("/")

    def put_back() -> None:
        saved.replace(target)

    return [(f"put the old {CONSOLE_SETUP} back", put_back)]
