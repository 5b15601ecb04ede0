"""Every command keeps the README's promise for bad input: exit code 2, one line on stderr, no
traceback, nothing written or lost. The bad input: days at the calendar's ends, a damaged
database, a full disk, a log file that cannot be written. Each case runs the installed command
in a process of its own on a real data directory; the disk is a real tmpfs, filled up."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.core.writing import write_whole
from kiosk.domain.parking.code import short_code
from tests.commands import first_expected, run_kiosk
from tests.damaged import DAMAGES, snapshot

ROOT = os.geteuid() == 0
NOT_ROOT = "mounting a tmpfs (a disk to fill up, a read-only one) needs root; run the suite as root"


@dataclass(frozen=True)
class Expected:
    """A booking of the demo: who, the session's start (UTC, to the minute) and its day."""

    national_number: str
    at: str
    day: str


@pytest.fixture(scope="module")
def expected(demo_template: Path) -> Expected:
    """A patient the demo expects (looked up once: the demo is made around today)."""
    national_number, start, day = first_expected(demo_template)
    return Expected(national_number, start + "+00:00", day)


# Well-formed, never issued (the demo's kiosk is number 1): right check digits, any secret.
NO_TICKET = short_code(199_999_999, "GENK", bytes(32))


def _yesterday() -> str:
    return (dt.datetime.now(ZoneInfo("Europe/Brussels")).date() - dt.timedelta(days=1)).isoformat()


# Each command with arguments that work on a whole demo (a check-in that checks in, a day that
# has sessions); the bad input then spoils one thing.
COMMANDS: dict[str, Callable[[Expected], tuple[str, ...]]] = {
    "checkin": lambda e: ("checkin", "--national-number", e.national_number, "--at", e.at),
    "today": lambda e: ("today", "--date", e.day),
    # A day can be closed once it has ended: the demo's yesterday, on the command's clock.
    "close-day": lambda e: ("close-day", "--date", _yesterday()),
    "register": lambda e: ("register", "--date", e.day),
    "parking verify": lambda e: ("parking", "verify", NO_TICKET, "--database", "local"),
    "parking redeem": lambda e: ("parking", "redeem", NO_TICKET, "--database", "local"),
    "sync status": lambda e: ("sync", "status"),
    "backup": lambda e: ("backup",),
    "demo-data": lambda e: ("demo-data", "--if-empty"),
}
# The commands taking a day (--date) or a moment (--at), and the option to put it in.
DAY_OPTIONS = {"today": "--date", "close-day": "--date", "register": "--date"}
MOMENT_OPTIONS = {"checkin": "--at", "parking verify": "--at", "parking redeem": "--at"}
CALENDAR_ENDS = {
    "--date": ("0001-01-01", "9999-12-31"),
    "--at": ("0001-01-01T00:00", "9999-12-31T23:59"),
}


def _with_option(args: tuple[str, ...], option: str, value: str) -> tuple[str, ...]:
    """``args`` with ``option`` set to ``value`` (replaced when present, else added)."""
    if option in args:
        at = args.index(option)
        return (*args[: at + 1], value, *args[at + 2 :])
    return (*args, option, value)


@contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of ``size`` mounted at ``where`` for the block, unmounted after it."""
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "--lazy", str(where)], check=True)


def _fill(folder: Path) -> None:
    """Write into ``folder`` until the disk has no byte left."""
    with (folder / "filler").open("wb", buffering=0) as filler:
        for chunk in (1 << 16, 1 << 12, 1):
            try:
                while filler.write(b"\0" * chunk):
                    pass
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    assert os.statvfs(folder).f_bavail == 0


@contextmanager
def _full_disk(data: Path) -> Iterator[None]:
    """Move the data directory onto a tmpfs just big enough for it, then fill that up."""
    if not ROOT:
        pytest.skip(NOT_ROOT)
    moved = data.with_name("moved")
    data.rename(moved)
    with _tmpfs(data, "4m"):
        subprocess.run(["cp", "-a", f"{moved}/.", str(data)], check=True)
        _fill(data)
        yield


@contextmanager
def _read_only_folder(folder: Path) -> Iterator[Path]:
    """An empty folder nobody may write in: a read-only tmpfs as root, mode 0500 otherwise."""
    if ROOT:
        folder.mkdir()
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], check=True
        )
        try:
            yield folder
        finally:
            subprocess.run(["umount", "--lazy", str(folder)], check=True)
    else:
        folder.mkdir(mode=0o500)
        yield folder


def _log_into(data: Path, log_file: Path) -> None:
    config = data / "kiosk.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + f'\n[logging]\ntarget = "file"\nfile = "{log_file}"\n',
        encoding="utf-8",
    )


@contextmanager
def _damaged(data: Path, damage: str) -> Iterator[None]:
    DAMAGES[damage](data / "kiosk.sqlite")
    yield


@contextmanager
def _log_is_a_folder(data: Path) -> Iterator[None]:
    (data / "logs" / "kiosk.log").mkdir(parents=True)
    _log_into(data, data / "logs" / "kiosk.log")
    yield


@contextmanager
def _log_in_a_read_only_folder(data: Path) -> Iterator[None]:
    with _read_only_folder(data.with_name("read-only")) as folder:
        _log_into(data, folder / "kiosk.log")
        yield


# What spoils the data directory for every command, by name.
SPOILERS: dict[str, Callable[[Path], contextlib.AbstractContextManager[None]]] = {
    "empty database": lambda data: _damaged(data, "empty"),
    "truncated database": lambda data: _damaged(data, "truncated"),
    "database with damaged pages": lambda data: _damaged(data, "pages overwritten"),
    "full disk": _full_disk,
    "log file is a folder": _log_is_a_folder,
    "log file in a read-only folder": _log_in_a_read_only_folder,
}

CASES = [
    *((command, spoiler, None) for command in COMMANDS for spoiler in SPOILERS),
    *(
        (command, option, value)
        for command, option in {**DAY_OPTIONS, **MOMENT_OPTIONS}.items()
        for value in CALENDAR_ENDS[option]
    ),
]


@pytest.mark.parametrize(("command", "bad", "value"), CASES)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    demo_dir: Path, expected: Expected, command: str, bad: str, value: str | None
) -> None:
    args = COMMANDS[command](expected)
    spoil = SPOILERS[bad](demo_dir) if value is None else contextlib.nullcontext()
    if value is not None:
        args = _with_option(args, bad, value)
    with spoil:
        before = snapshot(demo_dir)
        result = run_kiosk(demo_dir, *args)
        after = snapshot(demo_dir)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kiosk")
    assert "Traceback" not in result.stderr
    assert after == before
    if value is not None:
        assert "the kiosk works with days from 2000-01-01 to 2099-12-31" in lines[0]
    elif "database" in bad:
        assert str(demo_dir / "kiosk.sqlite") in lines[0]
    elif "log" in bad:
        assert lines[0].startswith("kiosk: [logging] file: cannot write ")


@pytest.mark.parametrize("command", COMMANDS)
def test_the_same_commands_work_on_the_whole_demo(
    demo_dir: Path, expected: Expected, command: str
) -> None:
    # The cases above fail for the bad input alone: unspoilt, each command does its job.
    result = run_kiosk(demo_dir, *COMMANDS[command](expected))
    # The ticket nobody was issued is "invalid" (exit 1); everything else succeeds.
    assert result.returncode == (1 if command.startswith("parking") else 0), result.stderr
    assert "Traceback" not in result.stderr


def test_a_log_line_the_full_disk_cannot_take_costs_the_line_not_the_command(
    demo_dir: Path, tmp_path: Path
) -> None:
    if not ROOT:
        pytest.skip(NOT_ROOT)
    with _tmpfs(tmp_path / "logs", "64k") as logs:
        _log_into(demo_dir, logs / "kiosk.log")
        _fill(logs)
        # sync logs a warning when the centre has no schema: that line has nowhere to go.
        with sqlite3.connect(demo_dir / "central.sqlite") as centre:
            centre.execute("CREATE TABLE unrelated (n INTEGER)")
        result = run_kiosk(demo_dir, "sync", "--once", KIOSK_LOG_LEVEL="DEBUG")
        assert (logs / "kiosk.log").read_bytes() == b""
    assert result.returncode == 1
    assert result.stderr.startswith("kiosk: sync failed: ")
    assert len(result.stderr.splitlines()) == 1 and "Logging error" not in result.stderr


def test_an_export_the_full_disk_cannot_take_keeps_the_previous_one(tmp_path: Path) -> None:
    if not ROOT:
        pytest.skip(NOT_ROOT)
    with _tmpfs(tmp_path / "exports", "64k") as exports:
        export = exports / "attendance-GENK-2026-11-23.csv"
        write_whole(export, "date,start\n2026-11-23,08:30\n")
        _fill(exports)
        with pytest.raises(OSError) as caught:
            write_whole(export, "date,start\n" + "2026-11-23,08:30\n" * 10_000)
        assert caught.value.errno == errno.ENOSPC
        assert export.read_text(encoding="utf-8") == "date,start\n2026-11-23,08:30\n"
        assert sorted(p.name for p in exports.iterdir()) == [
            "attendance-GENK-2026-11-23.csv",
            "filler",
        ]
        assert export.stat().st_mode & 0o077 == 0


def test_demo_data_on_a_full_disk_leaves_nothing_behind(tmp_path: Path) -> None:
    if not ROOT:
        pytest.skip(NOT_ROOT)
    with _tmpfs(tmp_path / "disk", "64k") as disk:
        _fill(disk)
        data = disk / "data"
        result = run_kiosk(data, "demo-data", "--patients", "5")
        assert result.returncode == 2
        assert result.stderr.endswith("No space left on device\n")
        assert len(result.stderr.splitlines()) == 1
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]


def test_restore_on_a_full_disk_leaves_the_live_database_as_it_was(demo_dir: Path) -> None:
    made = run_kiosk(demo_dir, "backup")
    assert made.returncode == 0, made.stderr
    (good,) = (demo_dir / "backups").glob("kiosk-*.sqlite")
    with _full_disk(demo_dir):
        before = snapshot(demo_dir)
        result = run_kiosk(demo_dir, "restore", str(good))
        after = snapshot(demo_dir)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert after == before
