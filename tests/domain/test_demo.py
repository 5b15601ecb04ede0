"""The demo centre: the same seed gives the very same rows and cards, always; and the database it
goes into is made room for, or kept, never half replaced.

The digests were computed on the code before ``generate()`` was split into named steps; a
refactoring that changes one row, one card, or even the order rows are inserted in fails here.
An intended change to the demo (or to the shipped programme files it is built from) computes them
anew, and says so in its commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from kiosk.core.clock import BRUSSELS, SettableClock
from kiosk.db.files import DatabaseFileError
from kiosk.domain import demo, demo_database
from kiosk.domain.context import open_context
from tests.commands import run_kiosk
from tests.domain.conftest import LOOKUP_KEY, settings_for
from tests.postgres import temporary_database

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NOW = dt.datetime(2026, 3, 4, 10, 17, tzinfo=BRUSSELS)
"""A Wednesday morning: today's sessions are partly over, partly to come."""


def _canonical(value: object, ids: dict[str, str]) -> str:
    """``value`` as text with every row id (a random UUID) replaced by its order of appearance."""
    return _UUID.sub(lambda m: ids.setdefault(m.group(0), f"id{len(ids)}"), str(value))


def _digest(tmp_path: Path, *, patients: int, seed: int, sites: int) -> str:
    """Generate a demo centre and hash every row (in insertion order) and every card file."""
    context = open_context(settings_for(tmp_path), clock=SettableClock(NOW), create=True)
    ids: dict[str, str] = {}
    lines: list[str] = []
    try:
        with context.sessions() as db, db.begin():
            summary = demo.generate(
                db,
                context.programmes,
                lookup_key=LOOKUP_KEY,
                now=NOW,
                patients=patients,
                sites=demo.DEFAULT_SITES[:sites],
                seed=seed,
            )
        with context.engine.connect() as conn:
            for table in sorted(inspect(conn).get_table_names()):
                if table == "alembic_version":
                    continue
                # SQLite's rowid is the order rows were inserted in.
                for row in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY rowid')):
                    lines.append(f"{table} {_canonical(tuple(row), ids)}")
    finally:
        context.close()
    cards = demo.write_cards(summary.patients, tmp_path / "cards")
    for path in sorted(cards.parent.iterdir()):
        lines.append(f"{path.name} {_canonical(path.read_text(encoding='utf-8'), ids)}")
    lines.append(json.dumps([summary.sessions, summary.bookings, summary.checkins]))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.mark.parametrize(
    ("patients", "seed", "sites", "expected"),
    [
        (120, 7, 1, "69cf828a9e86d673439de9f99d5f12510658daed933dab2ef83d4a053e04ad5a"),
        (90, 12345, 3, "6c640502144397e441432501b78eba42585c69ded297e279a8039b1d768c93b8"),
    ],
)
def test_the_same_seed_generates_the_same_centre(
    tmp_path: Path, patients: int, seed: int, sites: int, expected: str
) -> None:
    assert _digest(tmp_path, patients=patients, seed=seed, sites=sites) == expected


def _fill(tmp_path: Path, url: str) -> None:
    context = open_context(settings_for(tmp_path), url=url, clock=SettableClock(NOW), create=True)
    try:
        demo_database.fill(context, patients=3, seed=1, sites=demo.DEFAULT_SITES[:1])
    finally:
        context.close()


def test_room_for_a_demo_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiosk.sqlite'}"
    assert demo_database.make_room(url, if_empty=False, replace=False) is None
    _fill(tmp_path, url)
    with pytest.raises(demo_database.DemoTargetTaken, match=r"kiosk\.sqlite exists") as taken:
        demo_database.make_room(url, if_empty=False, replace=False)
    assert taken.value.replaceable
    kept = demo_database.make_room(url, if_empty=True, replace=False)
    assert kept == f"demo database already there: {tmp_path / 'kiosk.sqlite'}"
    assert demo_database.make_room(url, if_empty=False, replace=True) is None
    assert list(tmp_path.glob("kiosk.sqlite*")) == []


def test_an_empty_file_is_no_demo_to_keep(tmp_path: Path) -> None:
    (tmp_path / "kiosk.sqlite").touch()
    with pytest.raises(DatabaseFileError, match="empty"):
        demo_database.make_room(
            f"sqlite:///{tmp_path / 'kiosk.sqlite'}", if_empty=True, replace=False
        )


@pytest.mark.postgres
def test_a_central_database_with_patients_is_never_replaced(tmp_path: Path) -> None:
    with temporary_database("demo_room") as url:
        assert demo_database.make_room(url, if_empty=False, replace=True) is None
        _fill(tmp_path, url)
        with pytest.raises(demo_database.DemoTargetTaken, match="holds patients") as taken:
            demo_database.make_room(url, if_empty=False, replace=True)
        assert not taken.value.replaceable
        kept = demo_database.make_room(url, if_empty=True, replace=False)
        assert kept == "the central database already holds patients"


def test_demo_data_twice_needs_force(tmp_path: Path) -> None:
    assert run_kiosk(tmp_path, "demo-data", "--patients", "3").returncode == 0
    again = run_kiosk(tmp_path, "demo-data", "--patients", "3")
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.strip().endswith("kiosk.sqlite exists; add --force to replace it")
    kept = run_kiosk(tmp_path, "demo-data", "--if-empty")
    assert kept.returncode == 0 and kept.stdout.startswith("demo database already there: ")
    replaced = run_kiosk(tmp_path, "demo-data", "--patients", "4", "--force", "--json")
    assert replaced.returncode == 0, replaced.stderr
    assert '"patients": 4' in replaced.stdout


def test_the_demo_books_every_timetabled_session_inside_its_timetable() -> None:
    # Otherwise every demo check-in of such a session raises a check_booking alert for reception.
    import datetime as dt
    import random

    from kiosk.domain.demo_patients import plan_sessions
    from kiosk.programme import load_programmes

    for programme in load_programmes(None).values():
        for seed in range(20):
            for kind, start in plan_sessions(programme, dt.date(2026, 1, 5), random.Random(seed)):
                if kind in programme.timetable:
                    assert start.time() in programme.timetable[kind].get(start.weekday(), ())
