"""Check-in speed on a year-sized centre: one decision plus its record on the kiosk's SQLite.

Builds 3 sites and 5 000 patients (well over 100 000 bookings) with the demo generator, then
checks in every booking of the day at ten minutes before its start, timing each call of the
engine (lookup, decision, check-in, parking ticket, audit and outbox, commit with
synchronous=FULL). Baseline in the same run: one committed single-row INSERT on the same file.
Targets: median <= 5 ms, 99th percentile <= 20 ms.

    .venv/bin/python bench/bench_checkin.py [--patients 5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select, text

from kiosk.core.clock import BRUSSELS, SettableClock, local_day_bounds
from kiosk.core.config import ParkingSettings, Settings
from kiosk.db.models import Booking, Patient, SessionRow
from kiosk.domain.checkin import IdentityEvidence
from kiosk.domain.context import open_context
from kiosk.domain.demo import DEFAULT_SITES, generate

DAY = dt.date(2026, 11, 23)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            source=None,
            data_dir=Path(tmp),
            local_url=f"sqlite:///{Path(tmp) / 'kiosk.sqlite'}",
            lookup_key=bytes(range(32)),
            parking=ParkingSettings(signing_key="K1", keys={"K1": bytes(range(32))}),
        )
        clock = SettableClock(dt.datetime.combine(DAY, dt.time(6), tzinfo=BRUSSELS), running=False)
        context = open_context(settings, clock=clock, create=True)
        started = time.perf_counter()
        with context.sessions() as db, db.begin():
            summary = generate(
                db,
                context.programmes,
                lookup_key=settings.lookup_key,
                now=clock.now(),
                patients=args.patients,
                sites=DEFAULT_SITES,
                future_weeks=3,
            )
        built = time.perf_counter() - started
        numbers = {p.patient_id: p.national_number for p in summary.patients}
        start, end = local_day_bounds(DAY)
        with context.sessions() as db:
            todays = db.execute(
                select(Booking.patient_id, SessionRow.starts_at, SessionRow.site_id)
                .join(SessionRow, SessionRow.id == Booking.session_id)
                .where(SessionRow.starts_at >= start, SessionRow.starts_at < end)
                .order_by(SessionRow.starts_at)
            ).all()
            patients = db.scalar(select(func.count(Patient.id)))
        engine = context.checkin_engine()
        by_outcome: dict[str, list[float]] = {}
        for patient_id, starts_at, _site in todays:
            evidence = IdentityEvidence(numbers[patient_id], method="chip")
            at = starts_at - dt.timedelta(minutes=10)
            t0 = time.perf_counter()
            result = engine.check_in(evidence, at=at)
            by_outcome.setdefault(str(result.outcome), []).append((time.perf_counter() - t0) * 1e3)
        baseline = []
        with context.engine.connect() as connection:
            connection.execute(text("CREATE TABLE bench_baseline (id INTEGER PRIMARY KEY, v TEXT)"))
            connection.commit()
            for i in range(500):
                t0 = time.perf_counter()
                connection.execute(
                    text("INSERT INTO bench_baseline (v) VALUES (:v)"), {"v": str(i)}
                )
                connection.commit()
                baseline.append((time.perf_counter() - t0) * 1e3)
        context.close()
    print(
        f"check-in benchmark, {dt.date.today()}, {platform.node()} "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()})"
    )
    print(
        f"centre: {patients} patients, {summary.bookings} bookings, {summary.sessions} sessions "
        f"on {len(DEFAULT_SITES)} sites (built in {built:.1f} s)"
    )
    base_median = statistics.median(baseline)
    print(
        f"baseline: committed 1-row INSERT  median {base_median:.2f} ms  "
        f"p99 {percentile(baseline, 0.99):.2f} ms"
    )
    for outcome, times in sorted(by_outcome.items()):
        print(
            f"{outcome:<22} n={len(times):<5} median {statistics.median(times):.2f} ms  "
            f"p95 {percentile(times, 0.95):.2f} ms  p99 {percentile(times, 0.99):.2f} ms  "
            f"max {max(times):.2f} ms  ({statistics.median(times) / base_median:.1f}x baseline)"
        )
    checked = by_outcome.get("checked_in", [])
    ok = checked and statistics.median(checked) <= 5 and percentile(checked, 0.99) <= 20
    print("target (checked_in: median <= 5 ms, p99 <= 20 ms):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
