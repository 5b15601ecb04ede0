"""`systemctl stop` sends SIGTERM: the kiosk must leave a clean console behind (echo and line
editing back on, the normal screen, a working shell prompt). Run for real in a tmux pane."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.commands import KIOSK

SESSION = f"rehab-kiosk-console-{os.getpid()}"


def _tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], capture_output=True, text=True, timeout=30, check=True
    ).stdout


def _wait_for(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.2)
    return False


def _alternate() -> str:
    return _tmux("display", "-p", "-t", SESSION, "#{alternate_on}").strip()


def _pane() -> str:
    return _tmux("capture-pane", "-p", "-t", SESSION)


def test_sigterm_leaves_a_clean_console(demo_dir: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is missing: apt-get install tmux (Makefile APT_PACKAGES)")
    pid_file = demo_dir / "kiosk.pid"
    _tmux(
        "new-session",
        "-d",
        "-s",
        SESSION,
        "-x",
        "120",
        "-y",
        "40",
        "env",
        "-i",
        f"PATH={os.environ['PATH']}",
        f"HOME={demo_dir}",
        "TERM=xterm-256color",
        f"KIOSK_DATA_DIR={demo_dir}",
        "PS1=READY$ ",
        "bash",
        "--norc",
        "--noprofile",
    )
    try:
        assert _wait_for(lambda: "READY$" in _pane(), 10)
        _tmux(
            "send-keys",
            "-t",
            SESSION,
            # In the foreground (a background job would be stopped reading the tty).
            f"bash -c 'echo $$ > {pid_file}; exec {KIOSK} run --simulate'; echo EXIT''ED=$?",
            "Enter",
        )
        # The app is up once it has switched to the alternate screen and drawn on it.
        assert _wait_for(lambda: _alternate() == "1" and _pane().strip(), 30), _pane()
        time.sleep(1.5)
        os.kill(int(pid_file.read_text()), 15)
        assert _wait_for(lambda: "EXITED=" in _pane(), 15), _pane()
        assert "EXITED=0" in _pane(), _pane()
        _tmux("send-keys", "-t", SESSION, "stty -a; echo DO''NE", "Enter")
        assert _wait_for(lambda: "DONE" in _pane(), 10), _pane()
        screen = _pane()
        assert "Traceback" not in screen
        settings = screen.split("stty -a", 1)[1]
        for flag in (" echo ", " icanon ", " isig ", " icrnl ", " opost "):
            assert flag in f" {settings.replace(chr(10), ' ')} ", (flag, settings)
        assert screen.rstrip().splitlines()[-1].startswith("READY$")
        # Mouse reporting and the alternate screen are off: the pane shows the shell history.
        assert _tmux("display", "-p", "-t", SESSION, "#{alternate_on}#{mouse_any_flag}") == "00\n"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
