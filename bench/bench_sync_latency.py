"""Sync latency and the cost of idle kiosks, with the service's wake-ups against the plain timer.

Run: ``.venv/bin/python bench/bench_sync_latency.py [--quick]`` (needs PostgreSQL at
127.0.0.1:5432, user postgres).

Latency, while online: ten kiosk processes, each with its own SQLite replica and its own sync
service, check patients in (one every 1 to 3 s each, through the real check-in engine) while the
centre cancels a booking every 2 s. Measured: a check-in from its commit at the kiosk to its row
at the centre, and a cancellation from its commit at the centre to the booking cancelled in each
kiosk's replica (polled every 10 ms at the centre, every 50 ms in each kiosk). Both modes run in
this run, on a fresh copy of the same centre each: ``wake`` (the service as it is: pushes on a
new outbox event, pulls on the centre's NOTIFY) and the baseline ``timer`` (the loop it
replaced: push and pull every ~15 s).

Idle pull: fifty kiosks of one site, nothing changing, each running rounds (an empty push and an
incremental pull). Measured: the CPU time of the centre's backends per round (from /proc, so the
server must run on this machine), and per hour at 50 kiosks for the timer's interval with and
without a listener (60 s and 15 s).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import partial
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any

import psycopg
import throwaway_database
from sqlalchemy import select

from kiosk.core.clock import SettableClock, local_day_bounds
from kiosk.core.config import Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine, session_factory
from kiosk.db.models import Booking, BookingStatus, CheckIn, SessionRow
from kiosk.domain import demo
from kiosk.domain.checkin import CheckinEngine
from kiosk.programme import load_programmes
from sync import central
from sync.service import Backoff, SyncService

SITE = "GENK"
LOOKUP_KEY = bytes(range(32, 64))
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
KIOSKS, IDLE_KIOSKS, IDLE_ROUNDS = 10, 50, 4
PATIENTS = 2_000
POLL_S = 0.01  # the centre's side
REPLICA_POLL_S = 0.05  # each kiosk's side: ten processes share this machine's two cores
QUICK = "--quick" in sys.argv
PHASE_S = 30.0 if QUICK else 75.0
# The last cancellation this long before the end: the timer's round (15 s +10 %) still sees it.
CANCEL_TAIL_S = 20.0
INTERVAL_S, LISTENING_INTERVAL_S = 15.0, 60.0
TICKS = 100  # os.sysconf("SC_CLK_TCK") on Linux


def _centre(url: str) -> None:
    engine = make_engine(url)
    central.init(engine)
    with session_factory(engine)() as db, db.begin():
        demo.generate(
            db,
            load_programmes(None),
            lookup_key=LOOKUP_KEY,
            now=NOW,
            patients=PATIENTS,
            future_weeks=2,
        )
    engine.dispose()
    with psycopg.connect(throwaway_database.libpq(url), autocommit=True) as conn:
        conn.execute("ANALYZE")


def _service(path: Path, url: str, number: int) -> SyncService:
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    return SyncService(
        session_factory(engine),
        url,
        site_id=SITE,
        kiosk_id=f"{SITE}-{number}",
        clock=SettableClock(NOW, running=False),
        backoff=Backoff(interval_s=INTERVAL_S, listening_interval_s=LISTENING_INTERVAL_S),
    )


def _replica(url: str, work: Path) -> Path:
    """One kiosk's replica, pulled once; every kiosk starts from a copy of it."""
    path = work / "replica.sqlite"
    path.unlink(missing_ok=True)
    service = _service(path, url, 1)
    report = service.run_round()
    assert not report.error, report.error
    service.close()
    return path


def _timer_loop(service: SyncService, stop: threading.Event) -> None:
    """The service's loop before the wake-ups: push and pull, then wait for the timer."""
    while not stop.is_set():
        service.run_round()
        stop.wait(service.backoff.delay(service.failures()))


def _watch_cancellations(
    service: SyncService, targets: list[str], stop: threading.Event, seen: dict[str, float]
) -> None:
    wanted = set(targets)
    while not stop.wait(REPLICA_POLL_S):
        with service.local() as db:
            for booking_id in db.scalars(
                select(Booking.id).where(
                    Booking.status == BookingStatus.CANCELLED, Booking.id.in_(wanted)
                )
            ):
                seen[booking_id] = time.time()
                wanted.discard(booking_id)


def _kiosk(
    path: str,
    url: str,
    number: int,
    mode: str,
    targets: list[str],
    checkins: Any,
    results: Any,
    ready: Any,
    stop: ProcessEvent,
) -> None:
    """One kiosk process: its sync service, check-ins at its own pace, a cancellation watch."""
    service = _service(Path(path), url, number)
    settings = Settings(
        source=None,
        data_dir=Path(path).parent,
        site_id=SITE,
        kiosk_id=f"{SITE}-{number}",
        kiosk_number=number,
        local_url=f"sqlite:///{path}",
        central_url=url,
        lookup_key=LOOKUP_KEY,
    )
    engine = CheckinEngine(service.local, load_programmes(None), settings, service.clock)
    start, end = local_day_bounds(NOW.date())
    with service.local() as db:
        mine = db.execute(
            select(Booking.patient_id, SessionRow.starts_at)
            .join(SessionRow, SessionRow.id == Booking.session_id)
            .where(SessionRow.starts_at >= start, SessionRow.starts_at < end)
            .order_by(SessionRow.starts_at, Booking.id)
        ).all()[number - 1 :: KIOSKS]
    done, seen = threading.Event(), dict[str, float]()
    loop = service.run_forever if mode == "wake" else partial(_timer_loop, service)
    threads = [
        threading.Thread(target=loop, args=(done,)),
        threading.Thread(target=_watch_cancellations, args=(service, targets, done, seen)),
    ]
    ready.wait()
    for thread in threads:
        thread.start()
    rng, began = random.Random(number), time.monotonic()
    for patient_id, starts in mine:
        if stop.wait(rng.uniform(1.0, 3.0)) or time.monotonic() - began > PHASE_S:
            break
        result = engine.check_in_patient(patient_id, actor="bench", note="bench", at=starts)
        committed = time.time()
        if result.outcome == "checked_in":
            with service.local() as db:
                checkin_id = db.scalar(
                    select(CheckIn.id)
                    .where(CheckIn.patient_id == patient_id)
                    .order_by(CheckIn.checked_in_at.desc())
                    .limit(1)
                )
            checkins.put((checkin_id, committed))
    stop.wait()
    done.set()
    for thread in threads:
        thread.join()
    service.close()
    results.put(seen)


@dataclass(frozen=True)
class _Latencies:
    """Seconds from commit to visible: check-ins at the centre, cancellations in the replicas."""

    checkins: list[float]
    cancellations: list[float]
    centre_cpu_s: float
    seconds: float


def _targets(url: str, count: int) -> list[str]:
    """Booked bookings of the site's coming days, in the replica's window, to cancel."""
    first = local_day_bounds(NOW.date() + dt.timedelta(days=2))[0]
    with psycopg.connect(throwaway_database.libpq(url)) as conn:
        rows = conn.execute(
            "SELECT b.id FROM bookings b JOIN sessions s ON s.id = b.session_id "
            "WHERE s.site_id = %s AND s.starts_at >= %s AND s.starts_at < %s "
            "AND b.status = 'BOOKED' ORDER BY b.id LIMIT %s",
            (SITE, first, first + dt.timedelta(days=7), count),
        ).fetchall()
    return [str(r[0]) for r in rows]


def _phase(mode: str, work: Path) -> _Latencies:
    """Ten kiosks checking in and a centre cancelling, for one mode, on a fresh centre."""
    name, url = throwaway_database.create("bench_latency")
    try:
        _centre(url)
        replica = _replica(url, work)
        targets = _targets(url, int((PHASE_S - CANCEL_TAIL_S) / 2) + 1)
        spawn = multiprocessing.get_context("spawn")
        checkins, results = spawn.Queue(), spawn.Queue()
        ready, stop = spawn.Barrier(KIOSKS + 1), spawn.Event()
        kiosks = []
        for k in range(KIOSKS):
            path = work / f"{mode}-{k}.sqlite"
            shutil.copy(replica, path)
            kiosks.append(
                spawn.Process(
                    target=_kiosk,
                    args=(str(path), url, k + 1, mode, targets, checkins, results, ready, stop),
                )
            )
        for process in kiosks:
            process.start()
        with psycopg.connect(throwaway_database.libpq(url), autocommit=True) as admin:
            before = _backend_ticks(admin, name)
            ready.wait()
            started = time.perf_counter()
            cancelled, at_centre = _drive(admin, targets, checkins)
            cpu_s = _cpu_since(admin, name, before)
            seconds = time.perf_counter() - started
        stop.set()
        seen = [results.get(timeout=60) for _ in kiosks]
        for process in kiosks:
            process.join()
        assert all(p.exitcode == 0 for p in kiosks), [p.exitcode for p in kiosks]
        lags = [s[b] - at for s in seen for b, at in cancelled.items() if b in s]
        missed = KIOSKS * len(cancelled) - len(lags)
        assert missed == 0, f"{missed} cancellations never reached a replica"
        return _Latencies(at_centre, lags, cpu_s, seconds)
    finally:
        throwaway_database.drop(name)


def _drive(
    conn: psycopg.Connection[Any], targets: list[str], checkins: Any
) -> tuple[dict[str, float], list[float]]:
    """Cancel a booking every 2 s and watch the check-ins arrive, for the phase and its tail
    (through ``conn``, whose own CPU the phase's figure leaves out)."""
    waiting: dict[str, float] = {}
    cancelled: dict[str, float] = {}
    lags: list[float] = []
    began = time.monotonic()
    next_cancel = began + 2.0
    while True:
        now = time.monotonic()
        if now >= next_cancel and targets and now - began < PHASE_S - CANCEL_TAIL_S:
            booking_id = targets.pop()
            conn.execute("UPDATE bookings SET status = 'CANCELLED' WHERE id = %s", (booking_id,))
            cancelled[booking_id] = time.time()
            next_cancel += 2.0
        while True:
            try:
                checkin_id, committed = checkins.get_nowait()
            except queue.Empty:
                break
            waiting[checkin_id] = committed
        if waiting:
            arrived = conn.execute(
                "SELECT id FROM checkins WHERE id = ANY(%s)", (list(waiting),)
            ).fetchall()
            seen_at = time.time()
            for (checkin_id,) in arrived:
                lags.append(seen_at - waiting.pop(str(checkin_id)))
        # The phase, then until the last check-in is in (the timer's rounds: 17 s at most).
        if now - began > PHASE_S + 4.0 and (not waiting or now - began > PHASE_S + 40):
            break
        time.sleep(POLL_S)
    assert not waiting, f"{len(waiting)} check-ins never reached the centre"
    return cancelled, lags


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_latency(work: Path) -> None:
    """Both modes, one after the other, each on a fresh centre."""
    print(
        f"latency, {KIOSKS} kiosk processes checking in, a cancellation every 2 s "
        f"({PHASE_S:.0f} s per mode):"
    )
    phases = {mode: _phase(mode, work) for mode in ("timer", "wake")}
    for mode, label in (("timer", "baseline, timer every ~15 s"), ("wake", "wake-ups")):
        got = phases[mode]
        print(
            f"  {label}: check-in to centre p50 {_quantile(got.checkins, 0.5):.2f} s, "
            f"p95 {_quantile(got.checkins, 0.95):.2f} s ({len(got.checkins)} check-ins); "
            f"cancellation to replica p50 {_quantile(got.cancellations, 0.5):.2f} s, "
            f"p95 {_quantile(got.cancellations, 0.95):.2f} s ({len(got.cancellations)}); "
            f"centre CPU {got.centre_cpu_s:.1f} s in {got.seconds:.0f} s "
            f"({100 * got.centre_cpu_s / got.seconds:.0f}% of a core)"
        )
    print("  targets: check-in p95 < 1 s, cancellation p95 < 5 s")


def _backend_ticks(conn: psycopg.Connection[Any], database: str) -> dict[int, int]:
    """CPU ticks (user + system) of each client backend of ``database``, but this one."""
    pids = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
        (database,),
    ).fetchall()
    ticks = {}
    for (pid,) in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[int(pid)] = int(fields[11]) + int(fields[12])
    return ticks


def _cpu_since(conn: psycopg.Connection[Any], database: str, before: dict[int, int]) -> float:
    """CPU seconds the client backends of ``database`` used since ``before`` (new ones whole)."""
    after = _backend_ticks(conn, database)
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / TICKS


def bench_idle(work: Path) -> None:
    """Fifty idle kiosks of one site: the centre's CPU per round, and per hour."""
    name, url = throwaway_database.create("bench_latency")
    services: list[SyncService] = []
    try:
        _centre(url)
        replica = _replica(url, work)
        for k in range(IDLE_KIOSKS):
            path = work / f"idle-{k}.sqlite"
            shutil.copy(replica, path)
            services.append(_service(path, url, k + 1))
        for service in services:  # connected, and caught up
            assert not service.run_round().error
        with psycopg.connect(throwaway_database.libpq(url), autocommit=True) as admin:
            before = _backend_ticks(admin, name)
            started = time.perf_counter()
            for _ in range(IDLE_ROUNDS):
                for service in services:
                    service.run_round()
            seconds = time.perf_counter() - started
            cpu_s = _cpu_since(admin, name, before)
        rounds = IDLE_ROUNDS * IDLE_KIOSKS
        per_round_ms = 1000 * cpu_s / rounds
        print(
            f"idle pull, {IDLE_KIOSKS} kiosks of one site ({PATIENTS:,} patients), "
            f"{rounds} rounds: centre CPU {per_round_ms:.2f} ms per round "
            f"(wall {1000 * seconds / rounds:.1f} ms)"
        )
        for label, interval in (
            ("baseline, timer every 15 s", INTERVAL_S),
            ("listening, timer every 60 s", LISTENING_INTERVAL_S),
        ):
            per_hour = per_round_ms / 1000 * IDLE_KIOSKS * 3600 / interval
            print(f"  {label}: {per_hour:.1f} CPU s per hour at {IDLE_KIOSKS} kiosks")
    finally:
        for service in services:
            service.close()
        throwaway_database.drop(name)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        bench_idle(Path(tmp))
        bench_latency(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
