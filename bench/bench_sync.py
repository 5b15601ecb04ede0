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
rounds' ratios. The kiosks push through the centre's ``sync_push`` function (as the owner here:
a kiosk role's push differs only in where the site comes from).

A second baseline times the writing alone: a plain COPY, in one transaction over one connection,
of every row the push writes (the events, and the check-ins, tickets and audit rows they make)
into a twin holding the same site, under the same keys, indexes and foreign keys. What the push
takes beyond it is reading the kiosks' queues, decoding, judging and deduplicating; the target
is a push at 70 % of that COPY's rate or better.
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
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import psycopg
import throwaway_database
from sqlalchemy import insert

from kiosk.core.clock import SettableClock
from kiosk.db import migrate
from kiosk.db.engine import make_engine, session_factory
from kiosk.db.models import OutboxEvent
from kiosk.domain import demo
from kiosk.domain.parking.issue import RANGE_SIZE
from kiosk.programme import load_programmes
from sync import central
from sync.changes import Window, read_changes
from sync.connect import central_engine
from sync.pull import pull
from sync.pull_function import read_by_function
from sync.push import push

SITE = "GENK"
KIOSKS, PER_KIOSK = 10, 10_000
KINDS = ("checkin", "parking_ticket", "audit")
TOP_KIOSK_NUMBER = 99
BOOKINGS_PER_KIOSK = -(-PER_KIOSK // len(KINDS))
PATIENTS, PER_SESSION = 2_000, 10
ROUNDS, COPIES = 3, 3
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


def _copy(conn: psycopg.Connection[Any], table: str, rows: Iterator[tuple[object, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


@dataclass(frozen=True)
class _Site:
    """The ids of a site's patients, enrolments, sessions and bookings (one per check-in)."""

    patients: list[str]
    enrolments: list[str]
    sessions: list[str]
    bookings: list[str]

    @classmethod
    def new(cls) -> _Site:
        total = KIOSKS * BOOKINGS_PER_KIOSK

        def ids(n: int) -> list[str]:
            return [str(uuid.uuid4()) for _ in range(n)]

        return cls(ids(PATIENTS), ids(PATIENTS), ids(-(-total // PER_SESSION)), ids(total))

    def booked(self) -> list[tuple[str, str]]:
        """(booking, patient) for every booking, in order."""
        return [(b, self.patients[i % PATIENTS]) for i, b in enumerate(self.bookings)]


def _load_site(url: str, site: _Site) -> None:
    """The site's rows into the central database at ``url``."""
    with psycopg.connect(throwaway_database.libpq(url)) as conn:
        conn.execute("INSERT INTO sites (id, name) VALUES (%s, 'Campus Genk')", (SITE,))
        conn.execute("INSERT INTO programmes (code, name) VALUES ('back', 'Back')")
        _copy(
            conn,
            "patients (id, nn_hash, first_name, last_name, site_id)",
            ((p, f"{i:064x}", "Jan", "Peeters", SITE) for i, p in enumerate(site.patients)),
        )
        _copy(
            conn,
            "enrolments (id, patient_id, programme_code, site_id, status, started_on, stop_reason)",
            (
                (e, p, "back", SITE, "active", NOW.date(), "")
                for e, p in zip(site.enrolments, site.patients, strict=True)
            ),
        )
        _copy(
            conn,
            "sessions (id, site_id, programme_code, kind, starts_at, ends_at, room)",
            (
                (s, SITE, "back", "group", at, at + dt.timedelta(hours=2), "gym")
                for i, s in enumerate(site.sessions)
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
                    site.sessions[i // PER_SESSION],
                    site.enrolments[i % PATIENTS],
                    site.patients[i % PATIENTS],
                    "booked",
                )
                for i, b in enumerate(site.bookings)
            ),
        )


def _payload(
    kind: str, kiosk: int, booking: str, patient: str, at: dt.datetime, serial: int
) -> dict[str, Any]:
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
        # Real numbering (kiosk.domain.parking.issue), from the top kiosk numbers: beyond 2**31.
        number = (TOP_KIOSK_NUMBER - kiosk) * RANGE_SIZE + 1 + serial
        expires = at + dt.timedelta(hours=3)
        return {
            "id": str(uuid.uuid4()),
            "site_id": SITE,
            "ticket_number": number,
            "booking_id": booking,
            "key_id": "K1",
            "issued_at": at.isoformat(),
            "expires_at": expires.isoformat(),
            # The centre checks the code is this ticket's (the tag it cannot check).
            "payload": f"RK1:K1:{SITE}:{number:010d}:{expires.astimezone(dt.UTC):%Y%m%d%H%M}:"
            + "A" * 16,
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
                "payload": _payload(kind, kiosk, booking, patient, at, n // len(KINDS)),
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
    with psycopg.connect(throwaway_database.ADMIN, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


# The effect rows a push writes for each kind of event: the table and the payload fields that
# make its columns (plus the change number where the table has one); a field the kiosk leaves out
# is empty, as the push reads it.
_EFFECTS = {
    "checkin": (
        "checkins",
        "id booking_id patient_id kiosk_id checked_in_at late identity_method card_number "
        "document_type identity_note",
    ),
    "parking_ticket": (
        "parking_tickets",
        "id site_id ticket_number booking_id key_id issued_at expires_at payload print_error",
    ),
    "audit": ("audit", "id at kiosk_id actor action outcome patient_id booking_id detail"),
}
STAMPED_KINDS = ("checkin", "parking_ticket")


def _events(queues: list[list[dict[str, Any]]]) -> Iterator[tuple[object, ...]]:
    for k, rows in enumerate(queues):
        for r in rows:
            yield (
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


def _effects(
    queues: list[list[dict[str, Any]]], kind: str, change_seq: int
) -> Iterator[tuple[object, ...]]:
    fields = _EFFECTS[kind][1].split()
    stamp = (change_seq,) if kind in STAMPED_KINDS else ()
    for rows in queues:
        for r in rows:
            if r["kind"] == kind:
                payload = r["payload"]
                values = (payload.get(f, "") for f in fields)
                values = (json.dumps(v) if isinstance(v, dict) else v for v in values)
                yield (*values, *stamp)


def _copy_best(queues: list[list[dict[str, Any]]], site: _Site | None = None) -> float:
    """Seconds for a plain COPY into a twin database, the best of ``COPIES`` tries, as this
    machine's hiccups only ever slow a try down (the baseline is then the strictest one, and it
    swung from 50 000 to 97 000 rows/s between single tries). Without ``site``: the events into
    the event table. With it: every row the push writes, into a twin holding that site."""
    return min(_copy_once(queues, site) for _ in range(COPIES))


def _copy_once(queues: list[list[dict[str, Any]]], site: _Site | None) -> float:
    name, url = throwaway_database.create("bench_sync")
    try:
        central.init(make_engine(url))
        if site is not None:
            _load_site(url, site)
        _checkpoint()
        with psycopg.connect(throwaway_database.libpq(url)) as conn:
            started = time.perf_counter()
            _copy(
                conn,
                "sync_events (id, site_id, kiosk_id, seq, kind, schema_version, created_at, "
                "received_at, payload)",
                _events(queues),
            )
            if site is not None:
                # One change number for the transaction, as the push's inserts carry it: the
                # stamping triggers then do nothing.
                change_seq = conn.execute("SELECT sync_change_seq()").fetchone()[0]  # type: ignore[index]
                for kind, (table, fields) in _EFFECTS.items():
                    columns = fields.replace(" ", ", ")
                    if kind in STAMPED_KINDS:
                        columns += ", change_seq"
                    _copy(conn, f"{table} ({columns})", _effects(queues, kind, change_seq))
            conn.commit()
            return time.perf_counter() - started
    finally:
        throwaway_database.drop(name)


@dataclass(frozen=True)
class _Round:
    """Seconds for the COPY of the events, the COPY of every row a push writes, and the push."""

    copy_s: float
    floor_s: float
    push_s: float


def _push_round(work: Path) -> _Round:
    """One round: the two COPY baselines, then the push of the same events."""
    name, url = throwaway_database.create("bench_sync")
    try:
        central.init(make_engine(url))
        site = _Site.new()
        _load_site(url, site)
        queues = [_outbox(k, site.booked()) for k in range(KIOSKS)]
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
        copy_s = _copy_best(queues)
        floor_s = _copy_best(queues, site)
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
        with psycopg.connect(throwaway_database.libpq(url)) as conn:
            counts = [
                conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                for t in ("sync_events", "checkins", "parking_tickets", "audit")
            ]
        assert counts[0] == total and sum(counts[1:]) == total, counts
        print(
            f"  round: COPY {total / copy_s:,.0f} rows/s (best of {COPIES}: {copy_s:.2f} s); "
            f"COPY of every row a push writes {total / floor_s:,.0f} events/s ({floor_s:.2f} s) "
            f"= {100 * copy_s / floor_s:.0f}%; push {total / push_s:,.0f} events/s "
            f"({push_s:.2f} s) = {100 * copy_s / push_s:.0f}% of COPY, "
            f"{100 * floor_s / push_s:.0f}% of the COPY of its rows"
        )
        return _Round(copy_s, floor_s, push_s)
    finally:
        throwaway_database.drop(name)


def bench_push(work: Path) -> None:
    """The push against COPY in paired rounds (this machine's speed drifts between minutes)."""
    total = KIOSKS * PER_KIOSK
    print(f"push of {total:,} events from {KIOSKS} kiosk processes, {ROUNDS} rounds:")
    rounds = [_push_round(work) for _ in range(ROUNDS)]
    copy_s = statistics.median(r.copy_s for r in rounds)
    floor_s = statistics.median(r.floor_s for r in rounds)
    push_s = statistics.median(r.push_s for r in rounds)
    print(f"COPY baseline: {total / copy_s:,.0f} rows/s (median {copy_s:.2f} s)")
    print(
        f"COPY of every row a push writes (events, check-ins, tickets, audit; one connection): "
        f"{total / floor_s:,.0f} events/s (median {floor_s:.2f} s), "
        f"{100 * statistics.median(r.copy_s / r.floor_s for r in rounds):.0f}% of COPY"
    )
    print(
        f"push, {KIOSKS} kiosk processes: {total / push_s:,.0f} events/s (median {push_s:.2f} s), "
        f"{100 * statistics.median(r.copy_s / r.push_s for r in rounds):.0f}% of COPY, "
        f"{100 * statistics.median(r.floor_s / r.push_s for r in rounds):.0f}% of the COPY of "
        "every row it writes (medians of the rounds' ratios; target >= 70% of the latter)"
    )


def bench_pull(work: Path) -> None:
    name, url = throwaway_database.create("bench_sync")
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
        with psycopg.connect(throwaway_database.libpq(url), autocommit=True) as conn:
            conn.execute("ANALYZE")
        local = make_engine(f"sqlite:///{work / 'pull.sqlite'}")
        migrate.upgrade(local)
        remote = central_engine(url)
        started = time.perf_counter()
        report = pull(
            session_factory(local), remote, site_id=SITE, clock=SettableClock(NOW, running=False)
        )
        seconds = time.perf_counter() - started
        # Baseline: the same rows read straight from the tables as the owner (a SQLite
        # centre's way), without writing them locally.
        window = Window.around(NOW)
        started = time.perf_counter()
        with remote.connect() as conn, conn.begin():
            rows, _ = read_changes(
                conn, site_id=SITE, checkpoint=0, hi=report.checkpoint, window=window, previous=None
            )
        direct = time.perf_counter() - started
        started = time.perf_counter()
        with remote.connect() as conn, conn.begin():
            read_by_function(
                conn, site_id=SITE, checkpoint=0, hi=report.checkpoint, window=window, previous=None
            )
        through = time.perf_counter() - started
        remote.dispose()
        print(
            f"pull, 14-day window, 2 000 patients: {seconds:.2f} s ({report.rows} rows); "
            f"its read through sync_pull {through:.2f} s, the same rows read from the tables "
            f"{direct:.2f} s ({sum(len(v) for v in rows.values())} rows)"
        )
    finally:
        throwaway_database.drop(name)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        if "--pull-only" not in sys.argv:
            bench_push(Path(tmp))
        if "--push-only" not in sys.argv:
            bench_pull(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
