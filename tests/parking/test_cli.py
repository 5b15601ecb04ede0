"""``kiosk parking ...`` end to end: a real configuration file and a real SQLite database."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kiosk.cli.main import main
from kiosk.core.config import Settings
from kiosk.db.models import ParkingTicket
from kiosk.domain.parking.code import short_code
from kiosk.domain.parking.issue import issue_ticket
from tests.parking.conftest import VECTOR_KEY

END = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
VECTOR_PAYLOAD = "RK1:K1:GENK:0100000001:202603021100:ZWD4LN7OFUY2AN7R"


@pytest.fixture
def where() -> str:
    """Which database holds the issued tickets (the redeem tests try both)."""
    return "local"


BOTH = pytest.mark.parametrize("where", ["central", "local"])


@pytest.fixture
def config(tmp_path: Path, settings: Settings, where: str) -> Path:
    # The tickets live in kiosk.sqlite (the fixtures' database); point the chosen role at it.
    tickets = f"sqlite:///{tmp_path / 'kiosk.sqlite'}"
    other = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f"""site_id = "GENK"
kiosk_id = "GENK-1"
kiosk_number = 1
data_dir = "{tmp_path}"
central_url = "{tickets if where == "central" else other}"
local_url = "{tickets if where == "local" else other}"

[parking]
signing_key = "K1"

[parking.keys]
K1 = "{settings.parking.keys["K1"].hex()}"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def ticket(
    sessions: sessionmaker[Session], settings: Settings, booking_in: object
) -> ParkingTicket:
    with sessions() as db, db.begin():
        booking = booking_in(db)  # type: ignore[operator]
        return issue_ticket(db, settings=settings, booking_id=booking, session_end=END, now=END)


def run(config: Path, *args: str) -> int:
    return main(["--config", str(config), "parking", *args])


def run_on(config: Path, where: str, command: str, *args: str) -> int:
    return run(config, command, *args, "--database", where)


def test_keygen(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config, "keygen") == 0
    assert re.fullmatch(r'[A-Z0-9]{4,8} = "[0-9a-f]{64}"\n', capsys.readouterr().out)
    assert run(config, "keygen", "--kid", "K2") == 0
    assert re.fullmatch(r'K2 = "[0-9a-f]{64}"\n', capsys.readouterr().out)


def test_keygen_bad_kid(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config, "keygen", "--kid", "k-2") == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "key id" in captured.err and "Traceback" not in captured.err


def test_verify_offline(tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # No database yet: a QR payload is still checked (offline, as at the barrier).
    assert not (tmp_path / "kiosk.sqlite").exists()
    assert run(config, "verify", VECTOR_PAYLOAD, "--at", "2026-03-02T12:00") == 0
    assert capsys.readouterr().out == (
        "valid\nsite: GENK\nticket: 0100000001\nexpires: 2026-03-02T12:00+01:00\n"
    )
    assert run(config, "verify", VECTOR_PAYLOAD, "--at", "2026-03-02T12:01") == 1
    assert capsys.readouterr().out.startswith("invalid: expired\n")
    forged = VECTOR_PAYLOAD[:-1] + "S"
    assert run(config, "verify", forged, "--at", "2026-03-02T12:00") == 1
    assert capsys.readouterr().out == "invalid: bad tag\n"
    assert not (tmp_path / "kiosk.sqlite").exists()


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("RK1:K9:GENK:0100000001:202603021100:ZWD4LN7OFUY2AN7R", "unknown key"),
        ("hello", "malformed"),
        ("010-0000-001-16", "malformed"),
    ],
)
def test_verify_reasons(
    config: Path, capsys: pytest.CaptureFixture[str], code: str, reason: str
) -> None:
    assert run(config, "verify", code) == 1
    assert capsys.readouterr().out.startswith(f"invalid: {reason}\n")


def test_verify_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config, "verify", VECTOR_PAYLOAD, "--at", "2026-03-02T11:00", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "valid": True,
        "reason": None,
        "site": "GENK",
        "ticket": "0100000001",
        "expires_at": "2026-03-02T11:00:00+00:00",
        "redeemed_at": None,
        "detail": "",
    }


def test_verify_bad_time_is_a_usage_error(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(config, "verify", VECTOR_PAYLOAD, "--at", "noon")
    assert exited.value.code == 2 and "not a date and time" in capsys.readouterr().err


@BOTH
def test_short_code_and_redeem_twice(
    config: Path, where: str, ticket: ParkingTicket, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ticket.payload == VECTOR_PAYLOAD
    code = short_code(ticket.ticket_number, ticket.site_id, VECTOR_KEY)
    assert run_on(config, where, "verify", code, "--at", "2026-03-02T11:30") == 0
    assert capsys.readouterr().out.startswith("valid\nsite: GENK\nticket: 0100000001\n")
    assert (
        run_on(
            config,
            where,
            "verify",
            short_code(100000002, "GENK", VECTOR_KEY),
            "--at",
            "2026-03-02T11:30",
        )
        == 1
    )
    assert capsys.readouterr().out == "invalid: unknown ticket\n"

    assert run_on(config, where, "redeem", VECTOR_PAYLOAD, "--at", "2026-03-02T11:40") == 0
    assert capsys.readouterr().out.splitlines()[0] == "redeemed"
    assert run_on(config, where, "redeem", code, "--at", "2026-03-02T11:45") == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "invalid: already used"
    assert out[-1] == "first used: 2026-03-02T11:40+01:00"
    assert run_on(config, where, "verify", VECTOR_PAYLOAD, "--at", "2026-03-02T11:50") == 1
    assert capsys.readouterr().out.startswith("invalid: already used\n")


@BOTH
def test_redeem_without_database(
    tmp_path: Path, config: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not (tmp_path / "kiosk.sqlite").exists()
    assert run_on(config, where, "redeem", VECTOR_PAYLOAD) == 1
    assert f"no {where} database" in capsys.readouterr().err


def test_reprint_and_printer_status(
    tmp_path: Path, config: Path, ticket: ParkingTicket, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "printer-status") == 0
    assert capsys.readouterr().out == "ready\n"
    assert run(config, "reprint", short_code(ticket.ticket_number, ticket.site_id, VECTOR_KEY)) == 0
    assert capsys.readouterr().out == "printed ticket 0100000001\n"
    assert (tmp_path / "tickets" / "GENK-0100000001.txt").is_file()

    (tmp_path / "tickets" / "FAULT").write_text("out_of_paper", encoding="utf-8")
    assert run(config, "printer-status") == 1
    assert capsys.readouterr().out == "fault: out of paper (simulated)\n"
    assert run(config, "reprint", ticket.payload) == 1
    assert capsys.readouterr().out == "not printed: out of paper: simulated\n"

    assert run(config, "reprint", "nonsense") == 2
    assert "is not a parking code" in capsys.readouterr().err


@pytest.mark.parametrize(
    "code",
    [
        short_code(100000002, "GENK", VECTOR_KEY),  # a number never issued
        short_code(100000001, "GENK", bytes(32)),  # an issued number, wrong secret digits
        VECTOR_PAYLOAD[:-1] + "S",  # a forged tag
    ],
)
def test_reprint_finds_a_ticket_as_the_exit_does(
    tmp_path: Path,
    config: Path,
    ticket: ParkingTicket,
    capsys: pytest.CaptureFixture[str],
    code: str,
) -> None:
    assert run(config, "reprint", code) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "names no ticket issued at site GENK" in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "tickets").exists()
