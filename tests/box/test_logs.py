"""Logs: one JSON event per line, a correlation id per tap, never a national number, name or
birth date, whatever happens (a real check-in at DEBUG, a careless log line, exceptions)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.logs import journal_datagram
from kiosk.core.redaction import forget_sensitive, redact, remember_sensitive
from tests.commands import kiosk_env, run_kiosk

# What the app does around a card tap, then a careless debug line, a logged exception and an
# uncaught one, all carrying the personal data of the patient just read.
SCRIPT = """
import json, logging, sys, threading
from pathlib import Path
from kiosk.core.config import load
from kiosk.core.logs import setup_logging, tap
from kiosk.core.redaction import remember_sensitive
from kiosk.cli.main import main

card = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
nn, first, last, born = (card["national_number"], card["first_names"], card["last_name"],
                         card["birth_date"])
setup_logging(load(), level="DEBUG")
log = logging.getLogger("kiosk.test")
with tap():
    remember_sensitive(first, last, __import__("datetime").date.fromisoformat(born))
    log.debug("card read: %s %s %s born %s", nn, first, last, born)
    log.info("dotted %s.%s.%s-%s.%s", nn[:2], nn[2:4], nn[4:6], nn[6:9], nn[9:])
    code = main(["checkin", "--national-number", nn, "--at", sys.argv[2]])
    log.info("checkin exit code %d", code, extra={"fields": {"who": first + " " + last}})
    try:
        raise RuntimeError(f"lookup failed for {nn} ({last}, {first}, {born})")
    except RuntimeError:
        log.exception("check-in failed")
    born_be = born[8:] + "/" + born[5:7] + "/" + born[:4]
    thread = threading.Thread(target=lambda: 1 / 0 if nn else None, name="t")
    thread.start(); thread.join()
    raise ValueError(f"uncaught: {nn} {first} {last} {born_be}")
"""


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _personal(card: dict[str, Any]) -> list[str]:
    born = card["birth_date"]
    nn = card["national_number"]
    return [
        nn,
        f"{nn[:2]}.{nn[2:4]}.{nn[4:6]}-{nn[6:9]}.{nn[9:]}",
        card["first_names"],
        card["last_name"],
        born,
        f"{born[8:]}/{born[5:7]}/{born[:4]}",
    ]


def test_a_check_in_at_debug_with_exceptions_logs_no_personal_data(demo_dir: Path) -> None:
    today = run_kiosk(demo_dir, "today", "--json")
    sessions = json.loads(today.stdout)
    cards = sorted((demo_dir / "cards").glob("card-*.json"))
    card_file, at = cards[0], "2026-01-05T10:00"
    if sessions and sessions[0]["patients"]:
        wanted = sessions[0]["patients"][0]["national_number"]
        card_file = next(c for c in cards if json.loads(c.read_text())["national_number"] == wanted)
        at = sessions[0]["start"]
    card = json.loads(card_file.read_text(encoding="utf-8"))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(card_file), at],
        env=kiosk_env(demo_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    events = _lines(result.stderr)
    messages = " ".join(e["msg"] for e in events)
    assert "card read" in messages and "check-in failed" in messages
    assert "uncaught exception" in messages and "uncaught exception in thread" in messages
    assert any("ZeroDivisionError" in e.get("exc", "") for e in events)
    assert all(e["kiosk"] == "GENK-1" for e in events)
    tapped = [e for e in events if e["logger"] == "kiosk.test"]
    assert len({e["corr"] for e in tapped}) == 1 and tapped[0]["corr"]
    for value in _personal(card):
        pattern = re.compile(rf"(?<!\w){re.escape(value)}(?!\w)", re.IGNORECASE)
        assert not pattern.search(result.stderr), f"personal data in the log: {value!r}"
    # A national number is never logged, not only this patient's.
    assert not re.search(r"(?<!\d)\d{11}(?!\d)", result.stderr)


def test_redact_scrubs_every_spelling_of_a_national_number() -> None:
    for text in ("85073003328", "85.07.30-033.28", "850730 033 28", "85-07-30-033-28"):
        assert redact(f"nn={text}!") == "nn=[national-number]!"


@pytest.mark.parametrize(
    "text",
    [
        "0106030010¹",  # ten digits and a superscript one, as int() quotes it in its error
        "０１０６０３００１０１",  # fullwidth
        "٠١٠٦٠٣٠٠١٠١",  # Arabic-Indic
        "0106030010",  # a digit missing
        "010603001",  # nine digits: the check digits follow from them
        "010603001011",  # a digit too many (a 12-digit card number goes too)
        "01.06.03-001.0¹",  # the usual spelling, the last digit a superscript
    ],
)
def test_redact_scrubs_mistyped_and_partial_numbers(text: str) -> None:
    assert redact(f"invalid literal for int() with base 10: {text!r}") == (
        "invalid literal for int() with base 10: '[national-number]'"
    )


def test_short_numbers_stay_readable() -> None:
    text = "line 71, 2026-11-23 08:10:00, 20261123, port 35963, 8 of 36"
    assert redact(text) == text


# A command whose handler fails in a way no rule expected, with a mistyped national number in
# the exception, before its configuration is read ("early") or after.
CRASH = """
import sys
from kiosk.cli import day, main
from kiosk.cli.common import settings

def crash(args):
    if sys.argv[1] == "late":
        settings(args)
    raise ValueError("invalid literal for int() with base 10: '0106030010¹'")

day.cmd_today = crash
sys.exit(main.main(["today"]))
"""


@pytest.mark.parametrize("when", ["early", "late"])
def test_an_unexpected_failure_is_one_sentence_and_a_redacted_traceback(
    tmp_path: Path, when: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CRASH, when],
        env=kiosk_env(tmp_path, KIOSK_LOG_TARGET="file"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 70
    lines = result.stderr.splitlines()
    assert lines[-1] == "kiosk: unexpected failure (ValueError); the log has the details"
    log = tmp_path / "logs" / "kiosk.log"
    if when == "late":
        assert len(lines) == 1
        events = _lines(log.read_text(encoding="utf-8"))
    else:  # no configuration yet, so no log file: the event goes to stderr, redacted
        assert not log.exists()
        events = _lines("\n".join(lines[:-1]))
    (event,) = events
    assert event["msg"] == "unexpected failure"
    assert "Traceback" in event["exc"] and "'[national-number]'" in event["exc"]
    assert "0106030010" not in result.stderr + json.dumps(events, ensure_ascii=False)


def test_remembered_names_and_dates_are_scrubbed_case_blind() -> None:
    import datetime as dt

    remember_sensitive("Anne-Marie", "Van den Bossche", dt.date(1985, 7, 30))
    try:
        text = redact("ANNE-MARIE van den bossche, 30/07/1985, 1985-07-30, 30.07.1985")
        assert "anne" not in text.lower() and "1985" not in text and "bossche" not in text.lower()
    finally:
        forget_sensitive()


def test_journal_events_reach_the_journal_socket_with_their_fields(tmp_path: Path) -> None:
    path = tmp_path / "journal.socket"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(5)
    script = (
        "import logging\n"
        "from kiosk.core.config import load\n"
        "from kiosk.core.logs import setup_logging, tap\n"
        "setup_logging(load(), target='journal')\n"
        "with tap('abc123'):\n"
        "    logging.getLogger('kiosk.ui').warning('two\\nlines for 85073003328')\n"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", script],
            env=kiosk_env(tmp_path / "data", KIOSK_JOURNAL_SOCKET=str(path)),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        datagram = server.recv(65536)
    finally:
        server.close()
    assert b"PRIORITY=4\n" in datagram
    assert b"CORRELATION_ID=abc123\n" in datagram
    assert b"KIOSK_ID=GENK-1\n" in datagram
    message = datagram.split(b"MESSAGE=", 1)[1].split(b"\n", 1)[0]
    event = json.loads(message)
    assert event["msg"] == "two\nlines for [national-number]"
    assert event["corr"] == "abc123"
    assert b"85073003328" not in datagram


def test_a_value_with_a_newline_is_length_prefixed() -> None:
    assert journal_datagram({"A": "x", "B": "1\n2"}) == b"A=x\nB\n\x03" + b"\0" * 7 + b"1\n2\n"


# The kiosk's screen failing in a handler, with a national number in a local variable and in
# the exception: Textual's own report would print both on the terminal.
SCREEN_CRASH = """
import sys
from kiosk.core.clock import SystemClock
from kiosk.core.config import load
from kiosk.core.logs import setup_logging
from kiosk.ui.app import KioskApp
from kiosk.ui.services import KioskServices

cfg = load()
setup_logging(cfg, target="file")


class Crashing(KioskApp):
    def on_mount(self) -> None:
        number = sys.argv[1]
        raise ValueError(f"lookup failed for {number}")


app = Crashing(KioskServices(cfg, SystemClock()))
app.run(headless=True)
sys.exit(app.return_code or 0)
"""


def test_a_screen_that_fails_shows_no_locals_and_logs_redacted(demo_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCREEN_CRASH, "85073003328"],
        env=kiosk_env(demo_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1  # so systemd restarts the kiosk
    assert "kiosk: unexpected failure (ValueError); the log has the details" in result.stderr
    assert "85073003328" not in result.stdout + result.stderr
    assert "number = " not in result.stderr  # no local variables
    events = _lines((demo_dir / "logs" / "kiosk.log").read_text(encoding="utf-8"))
    failed = next(e for e in events if e["msg"] == "the kiosk screen failed")
    assert "lookup failed for [national-number]" in failed["exc"]
    assert "85073003328" not in json.dumps(events)
