"""Every ``kiosk`` command the README shows, run as written on a demo (issue 18).

The commands are read from the README's indented blocks, so they cannot drift from what a reader
copies. Each either works (exit 0) or gives the refusal the README promises: one line on stderr
and the documented exit code (1 for a refusal or a warning, 2 for bad input or a failure), never
a traceback, a usage text or exit 70. A synopsis line runs twice: bare and with every optional
part (the first of alternatives), its placeholders filled from the demo (a booking, an
enrolment). A command that needs what a test machine lacks (a screen, a card reader, a service
that runs until stopped, a file the reader brings) is named in NOT_RUN with the reason, so a new
README command fails this test until it is run or named.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.commands import run_kiosk

README = Path(__file__).resolve().parents[1] / "README.md"
COMMAND = re.compile(r"^ {4,}(kiosk .*?)(?:\s{2,}#.*)?$")

NOT_RUN = {
    "kiosk pin-hash": "asks for a PIN at the terminal (tests/ui covers the hash)",
    "kiosk reception": "a full-screen app (tests/ui runs it under Pilot)",
    "kiosk reception --local": "a full-screen app (tests/ui runs it under Pilot)",
    "kiosk run": "a full-screen app (tests/ui; make boot-test runs it under systemd)",
    "kiosk card readers": "needs pcscd (tests/eid starts its own)",
    "kiosk card read --json": "waits for a card in a real reader (tests/eid)",
    'kiosk card read --reader "Virtual PCD 00 00" --timeout 5': "needs pcscd and vpcd (tests/eid)",
    "kiosk card read --virtual card.json": "card.json is the reader's own file (see below)",
    "kiosk card watch": "runs until Ctrl-C (tests/eid)",
    "kiosk card emulate card.json": "runs until Ctrl-C (tests/eid)",
    "kiosk card emulate --bank-card": "runs until Ctrl-C (tests/eid)",
    "kiosk central add-kiosk kiosk_genk_1 --site GENK --kiosk-id GENK-1 --kiosk-number 1": (
        "creates a PostgreSQL role (tests/sync, against the test server)"
    ),
    "kiosk central add-exit exit_genk --site GENK": (
        "creates a PostgreSQL role (tests/sync/test_exit_role.py, against the test server)"
    ),
    "kiosk central import export.csv": "the scheduling system's file (tests/sync)",
    "kiosk central import bundle.json": "the scheduling system's file (tests/sync)",
    "kiosk sync": "a service: runs until stopped (make boot-test)",
    "kiosk restore /var/lib/rehab-kiosk/backups/kiosk-<time>.sqlite": (
        "<time> is the reader's (tests/box/test_backup.py)"
    ),
}
# Refusals the README promises on this demo, by the command's start: the words of the one line.
REFUSALS = {
    "kiosk demo-data": "add --force",  # the demo exists: --if-empty or --force say what to do
    "kiosk booking excuse": "no absence recorded",  # the booking is expected, not absent
    "kiosk enrolment resume": "is not stopped",  # the enrolment is active
}
# Moments written into the README: whether such a day has begun depends on today's date.
DATED = ("2026-11-23", "2026-11-21", "2026-03-02")


def readme_commands() -> list[str]:
    """Every ``kiosk ...`` line of the README's indented blocks, in order, once each."""
    found = []
    for line in README.read_text(encoding="utf-8").splitlines():
        match = COMMAND.match(line)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


def forms(command: str) -> list[str]:
    """A synopsis as runnable lines: without its optional parts, and with all of them."""
    if "[" not in command:
        return [command]
    bare = re.sub(r"\s*\[[^\]]*\]", "", command)
    full = re.sub(r"\[([^\]]*)\]", lambda m: m.group(1).split(" | ")[0], command)
    return [bare, full]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The README's demo on one machine (a centre, the kiosk's replica) and its placeholders."""
    data = tmp_path_factory.mktemp("readme")
    for step in (("demo-data", "--central", "--patients", "40"), ("sync", "--once")):
        done = run_kiosk(data, *step)
        assert done.returncode == 0, done.stderr
    sessions = json.loads(run_kiosk(data, "today", "--json").stdout)
    patient = next(p for s in sessions for p in s["patients"] if p["status"] == "expected")
    values = {
        "BOOKING": patient["booking_id"],
        "ENROLMENT": patient["enrolment_id"],
        "TEXT": "readme test",
        "NAME": "readme",
    }
    return data, values


def test_every_readme_command_is_run_or_named() -> None:
    commands = readme_commands()
    assert len(commands) > 30
    assert set(NOT_RUN) <= set(commands), set(NOT_RUN) - set(commands)


@pytest.mark.parametrize(
    "command", [c for c in readme_commands() if c not in NOT_RUN], ids=lambda c: c[6:40]
)
def test_the_readme_command_works_as_written(
    command: str, demo: tuple[Path, dict[str, str]]
) -> None:
    data, values = demo
    for form in forms(command):
        # The alternatives of a verb (excuse|present|undo|admit): the first, on its own booking.
        form = re.sub(r"(\w+)\|[\w|]+", r"\1", form)
        words = [values.get(word, word) for word in shlex.split(form)]
        if "ID" in words:
            alerts = json.loads(run_kiosk(data, "alerts", "--json").stdout)
            if not alerts:
                continue  # the demo has no open alert to resolve today
            words[words.index("ID")] = str(alerts[0]["id"])
        done = run_kiosk(data, *words[1:])
        refusal = next((w for start, w in REFUSALS.items() if form.startswith(start)), None)
        if refusal and done.returncode == 2:
            assert done.stderr.count("\n") == 1 and refusal in done.stderr, done.stderr
            continue
        allowed = {0, 1, 2} if any(day in form for day in DATED) else {0, 1}
        assert done.returncode in allowed, f"{form}: exit {done.returncode}: {done.stderr}"
        if done.returncode != 0:
            assert done.stderr.count("\n") <= 1, f"{form}: {done.stderr}"
        assert "Traceback" not in done.stderr and "usage:" not in done.stderr, form
