"""Sync benchmark: push 100 000 outbox events from 10 kiosks into PostgreSQL, against a plain
COPY of the same rows in the same run; then the pull of a 14-day window for a 2 000-patient site.

Run: ``.venv/bin/python bench/bench_sync.py`` (needs PostgreSQL at 127.0.0.1:5432, user postgres).

Each kiosk is its own process with its own SQLite file, as on the real boxes, and they all push
at once into one central database. The events are what check-ins leave behind, in the order a
check-in writes them: the check-in itself, its parking ticket and its audit entry (one third
each), for bookings that exist at the site, so the centre checks every reference and writes the
attendance, the ticket and the audit row as well as the event. The baseline is a plain COPY of
the same 100 000 events into the centre's event table of a twin database, timed in the same run:
in each of three rounds the best of three COPYs, then the push; the figure is the median of the
rounds' ratios.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert

from kiosk import demo
from kiosk.clock import SettableClock
from kiosk.db import migrate
from kiosk.db.engine import make_engine, session_factory
from kiosk.db.models import OutboxEvent
from kiosk.programme import load_programmes
from sync import central
from sync.connect import central_engine
from sync.pull import pull
from sync.push import push

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SITE = "GENK"
KIOSKS, PER_KIOSK = 10, 10_000
KINDS = ("checkin", "parking_ticket", "audit")
BOOKINGS_PER_KIOSK = -(-PER_KIOSK // len(KINDS))
PATIENTS, PER_SESSION = 2_000, 10
ROUNDS, COPIES = 3, 3
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


def _database() -> tuple[str, str]:
    name = f"bench_sync_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq(url: str) -> str:
    return url.replace("+psycopg", "")


def _copy(conn: psycopg.Connection[Any], table: str, rows: Iterator[tuple[object, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _bookings(url: str) -> list[tuple[str, str]]:
    """A site with patients, sessions and one booking per future check-in: (booking, patient)."""
    total = KIOSKS * BOOKINGS_PER_KIOSK
    patients = [str(uuid.uuid4()) for _ in range(PATIENTS)]
    enrolments = [str(uuid.uuid4()) for _ in range(PATIENTS)]
    sessions = [str(uuid.uuid4()) for _ in range(-(-total // PER_SESSION))]
    bookings = [(str(uuid.uuid4()), i) for i in range(total)]
    with psycopg.connect(_libpq(url)) as conn:
        conn.execute("INSERT INTO sites (id, name) VALUES (%s, 'Campus Genk')", (SITE,))
        conn.execute("INSERT INTO programmes (code, name) VALUES ('back', 'Back')")
        _copy(
            conn,
            "patients (id, nn_hash, first_name, last_name, site_id)",
            ((p, f"{i:064x}", "Jan", "Peeters", SITE) for i, p in enumerate(patients)),
        )
        _copy(
            conn,
            "enrolments (id, patient_id, programme_code, site_id, status, started_on, stop_reason)",
            (
                (e, p, "back", SITE, "active", NOW.date(), "")
                for e, p in zip(enrolments, patients, strict=True)
            ),
        )
        _copy(
            conn,
            "sessions (id, site_id, programme_code, kind, starts_at, ends_at, room)",
            (
                (s, SITE, "back", "group", at, at + dt.timedelta(hours=2), "gym")
                for i, s in enumerate(sessions)
                for at in [NOW + dt.timedelta(minutes=30 * i)]
            ),
        )
        # Patients i, i+1, ... in each session: no enrolment is booked twice on one session.
        _copy(
            conn,
            "bookings (id, session_id, enrolment_id, patient_id, status)",
            (
                (
                    b,
                    sessions[i // PER_SESSION],
                    enrolments[i % PATIENTS],
                    patients[i % PATIENTS],
                    "booked",
                )
                for b, i in bookings
            ),
        )
    return [(b, patients[i % PATIENTS]) for b, i in bookings]


def _payload(kind: str, kiosk: int, booking: str, patient: str, at: dt.datetime) -> dict[str, Any]:
    kiosk_id = f"{SITE}-{kiosk + 1}"
    if kind == "checkin":
        return {
            "id": str(uuid.uuid4()),
            "booking_id": booking,
            "patient_id": patient,
            "site_id": SITE,
            "kiosk_id": kiosk_id,
            "checked_in_at": at.isoformat(),
            "late": False,
            "identity_method": "chip",
            "card_number": "592123456789",
            "document_type": "1",
            "identity_note": "",
        }
    if kind == "parking_ticket":
        return {
            "id": str(uuid.uuid4()),
            "site_id": SITE,
            "ticket_number": (kiosk + 1) * 1_000_000 + int(at.timestamp()) % 1_000_000,
            "booking_id": booking,
            "key_id": "k1",
            "issued_at": at.isoformat(),
            "expires_at": (at + dt.timedelta(hours=3)).isoformat(),
            "payload": "P1." + uuid.uuid4().hex,
        }
    return {
        "id": str(uuid.uuid4()),
        "at": at.isoformat(),
        "kiosk_id": kiosk_id,
        "actor": "patient",
        "action": "checkin",
        "outcome": "checked_in",
        "patient_id": patient,
        "booking_id": booking,
        "detail": {"method": "chip", "document_type": "1"},
    }


def _outbox(kiosk: int, bookings: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """One kiosk's queue: check-in, parking ticket, audit entry, for each of its bookings."""
    rows = []
    for n in range(PER_KIOSK):
        booking, patient = bookings[kiosk * BOOKINGS_PER_KIOSK + n // len(KINDS)]
        kind = KINDS[n % len(KINDS)]
        at = NOW + dt.timedelta(seconds=n // len(KINDS))
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "seq": n + 1,
                "created_at": at,
                "kind": kind,
                "schema_version": 1,
                "payload": _payload(kind, kiosk, booking, patient, at),
                "sent_at": None,
                "attempts": 0,
                "last_error": "",
                "set_aside": False,
            }
        )
    return rows


def _kiosk(path: str, url: str, kiosk_id: str, start: Barrier, done: Barrier) -> None:
    """One kiosk process: connect, wait for the others, push its whole queue, say when done.

    The clock stops at ``done``, not when the process has exited: a kiosk's sync service keeps
    running after a push, and the teardown of ten interpreters is not part of pushing.
    """
    local = session_factory(make_engine(f"sqlite:///{path}"))
    engine = central_engine(url)
    with engine.connect():
        pass
    start.wait()
    try:
        report = push(
            local, engine, None, site_id=SITE, kiosk_id=kiosk_id, clock=SettableClock(NOW)
        )
    finally:
        done.wait()
    engine.dispose()
    assert report.sent == PER_KIOSK and not report.refused, report


def _checkpoint() -> None:
    """Start a timed part just after a checkpoint.

    A checkpoint falling inside one part and not the other (with the full-page writes after it)
    decided the ratio more than either part did. The push then pays the full-page writes on the
    pages the set-up wrote (bookings locked by foreign-key checks); the COPY writes new pages
    only. ``DROP DATABASE`` checkpoints too, so this only makes explicit what happens anyway.
    """
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def _copy_baseline(queues: list[list[dict[str, Any]]]) -> float:
    """Seconds for a plain COPY of the same events into a twin database's event table: the best
    of ``COPIES`` tries, as this machine's hiccups only ever slow a try down (the baseline is
    then the strictest one, and it swung from 50 000 to 97 000 rows/s between single tries)."""
    return min(_copy_once(queues) for _ in range(COPIES))


def _copy_once(queues: list[list[dict[str, Any]]]) -> float:
    name, url = _database()
    try:
        central.init(make_engine(url))
        _checkpoint()
        with psycopg.connect(_libpq(url)) as conn:
            started = time.perf_counter()
            _copy(
                conn,
                "sync_events (id, site_id, kiosk_id, seq, kind, schema_version, created_at, "
                "received_at, payload)",
                (
                    (
                        r["id"],
                        SITE,
                        f"{SITE}-{k + 1}",
                        r["seq"],
                        r["kind"],
                        1,
                        r["created_at"],
                        NOW,
                        json.dumps(r["payload"]),
                    )
                    for k, rows in enumerate(queues)
                    for r in rows
                ),
            )
            conn.commit()
            return time.perf_counter() - started
    finally:
        _drop(name)


def _push_round(work: Path) -> tuple[float, float]:
    """One round: seconds for the COPY baseline, then for the push of the same events."""
    name, url = _database()
    try:
        central.init(make_engine(url))
        bookings = _bookings(url)
        queues = [_outbox(k, bookings) for k in range(KIOSKS)]
        paths = []
        for k, rows in enumerate(queues):
            path = work / f"k{k}.sqlite"
            path.unlink(missing_ok=True)
            engine = make_engine(f"sqlite:///{path}")
            migrate.upgrade(engine)
            with engine.begin() as conn:
                conn.execute(insert(OutboxEvent), rows)
            engine.dispose()
            paths.append(str(path))
        copy_s = _copy_baseline(queues)
        spawn = multiprocessing.get_context("spawn")
        start, done = spawn.Barrier(KIOSKS + 1), spawn.Barrier(KIOSKS + 1)
        kiosks = [
            spawn.Process(target=_kiosk, args=(path, url, f"{SITE}-{k + 1}", start, done))
            for k, path in enumerate(paths)
        ]
        for process in kiosks:
            process.start()
        _checkpoint()
        start.wait()
        started = time.perf_counter()
        done.wait(timeout=600)
        push_s = time.perf_counter() - started
        for process in kiosks:
            process.join()
        assert all(p.exitcode == 0 for p in kiosks), [p.exitcode for p in kiosks]
        total = KIOSKS * PER_KIOSK
        with psycopg.connect(_libpq(url)) as conn:
            counts = [
                conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                for t in ("sync_events", "checkins", "parking_tickets", "audit")
            ]
        assert counts[0] == total and sum(counts[1:]) == total, counts
        print(
            f"  round: COPY {total / copy_s:,.0f} rows/s (best of {COPIES}: {copy_s:.2f} s), push "
            f"{total / push_s:,.0f} events/s ({push_s:.2f} s) = {100 * copy_s / push_s:.0f}%"
        )
        return copy_s, push_s
    finally:
        _drop(name)


def bench_push(work: Path) -> None:
    """The push against COPY in paired rounds (this machine's speed drifts between minutes)."""
    total = KIOSKS * PER_KIOSK
    print(f"push of {total:,} events from {KIOSKS} kiosk processes, {ROUNDS} rounds:")
    rounds = [_push_round(work) for _ in range(ROUNDS)]
    copy_s = statistics.median(c for c, _ in rounds)
    push_s = statistics.median(p for _, p in rounds)
    ratio = statistics.median(c / p for c, p in rounds)
    print(f"COPY baseline: {total / copy_s:,.0f} rows/s (median {copy_s:.2f} s)")
    print(
        f"push, {KIOSKS} kiosk processes: {total / push_s:,.0f} events/s (median {push_s:.2f} s), "
        f"{100 * ratio:.0f}% of COPY (median of the rounds' ratios; target >= 30%)"
    )


def bench_pull(work: Path) -> None:
    name, url = _database()
    try:
        engine = make_engine(url)
        central.init(engine)
        programmes = load_programmes(None)
        with session_factory(engine)() as db, db.begin():
            demo.generate(
                db, programmes, lookup_key=bytes(32), now=NOW, patients=2000, future_weeks=2
            )
        engine.dispose()
        # A centre in service has planner statistics (autovacuum); a freshly loaded one not yet.
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute("ANALYZE")
        local = make_engine(f"sqlite:///{work / 'pull.sqlite'}")
        migrate.upgrade(local)
        remote = central_engine(url)
        started = time.perf_counter()
        report = pull(
            session_factory(local), remote, site_id=SITE, clock=SettableClock(NOW, running=False)
        )
        seconds = time.perf_counter() - started
        remote.dispose()
        print(f"pull, 14-day window, 2 000 patients: {seconds:.2f} s ({report.rows} rows)")
    finally:
        _drop(name)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        bench_push(Path(tmp))
        if "--push-only" not in sys.argv:
            bench_pull(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
