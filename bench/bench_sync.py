"""Sync benchmark: push 100 000 outbox events from 10 kiosks into PostgreSQL, against a plain
COPY of the same rows in the same run; then the pull of a 14-day window for a 2 000-patient site.

Run: ``.venv/bin/python bench/bench_sync.py`` (needs PostgreSQL at 127.0.0.1:5432, user postgres).
The events are audit entries (the most common kind; no reference to check), so the push path
measured is: read the batch locally, store each event once centrally, apply it, mark it sent.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

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
KIOSKS, PER_KIOSK = 10, 10_000
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


def _database() -> tuple[str, str]:
    name = f"bench_sync_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _event(kiosk_id: str, seq: int) -> dict[str, object]:
    event_id = str(uuid.uuid4())
    at = NOW + dt.timedelta(seconds=seq)
    return {
        "id": event_id,
        "seq": seq,
        "created_at": at,
        "kind": "audit",
        "schema_version": 1,
        "payload": {
            "id": str(uuid.uuid4()),
            "at": at.isoformat(),
            "kiosk_id": kiosk_id,
            "actor": "card",
            "action": "checkin",
            "outcome": "checked_in",
            "patient_id": None,
            "booking_id": None,
            "detail": {"method": "chip"},
        },
        "sent_at": None,
        "attempts": 0,
        "last_error": "",
        "set_aside": False,
    }


def bench_push(work: Path) -> None:
    name, url = _database()
    try:
        central.init(make_engine(url))
        kiosks = []
        for k in range(KIOSKS):
            kiosk_id = f"GENK-{k + 1}"
            engine = make_engine(f"sqlite:///{work / f'k{k}.sqlite'}")
            migrate.upgrade(engine)
            rows = [_event(kiosk_id, seq) for seq in range(1, PER_KIOSK + 1)]
            with engine.begin() as conn:
                conn.execute(insert(OutboxEvent), rows)
            kiosks.append((kiosk_id, engine, rows))
        # Baseline: COPY of the same events into the same table of a twin database.
        copy_name, copy_url = _database()
        central.init(make_engine(copy_url))
        started = time.perf_counter()
        statement = (
            "COPY sync_events (id, site_id, kiosk_id, seq, kind, schema_version, "
            "created_at, received_at, payload) FROM STDIN"
        )
        with (
            psycopg.connect(copy_url.replace("+psycopg", "")) as conn,
            conn.cursor() as cur,
            cur.copy(statement) as copy,
        ):
            for kiosk_id, _engine, rows in kiosks:
                for r in rows:
                    copy.write_row(
                        (
                            r["id"],
                            "GENK",
                            kiosk_id,
                            r["seq"],
                            r["kind"],
                            1,
                            r["created_at"],
                            NOW,
                            json.dumps(r["payload"]),
                        )
                    )
        copy_s = time.perf_counter() - started
        _drop(copy_name)
        engine = central_engine(url)
        clock = SettableClock(NOW, running=False)

        def run(kiosk_id: str, local_engine: object) -> None:
            push(
                session_factory(local_engine),
                engine,
                None,
                site_id="GENK",  # type: ignore[arg-type]
                kiosk_id=kiosk_id,
                clock=clock,
                batch_size=1000,
            )

        threads = [threading.Thread(target=run, args=(k, e)) for k, e, _ in kiosks]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        push_s = time.perf_counter() - started
        total = KIOSKS * PER_KIOSK
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT count(*) FROM sync_events").scalar()
        assert stored == total, stored
        engine.dispose()
        print(f"COPY baseline: {total / copy_s:,.0f} rows/s ({copy_s:.2f} s)")
        print(
            f"push, {KIOSKS} kiosks: {total / push_s:,.0f} events/s ({push_s:.2f} s), "
            f"{100 * copy_s / push_s:.0f}% of COPY (target >= 30%)"
        )
    finally:
        _drop(name)


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
        local = make_engine(f"sqlite:///{work / 'pull.sqlite'}")
        migrate.upgrade(local)
        remote = central_engine(url)
        started = time.perf_counter()
        report = pull(
            session_factory(local), remote, site_id="GENK", clock=SettableClock(NOW, running=False)
        )
        seconds = time.perf_counter() - started
        remote.dispose()
        print(f"pull, 14-day window, 2 000 patients: {seconds:.2f} s ({report.rows} rows)")
    finally:
        _drop(name)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        bench_push(Path(tmp))
        bench_pull(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
