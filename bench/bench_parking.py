"""Parking ticket speed: signing, verifying, issuing in SQLite, QR rendering.

Each figure is compared with a baseline measured in the same run on the same machine:
a bare HMAC-SHA256 for the code, a bare INSERT for issuing. Run: ``.venv/bin/python
bench/bench_parking.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from kiosk.core.config import ParkingSettings, Settings
from kiosk.db.engine import create_schema, make_engine, session_factory
from kiosk.db.models import Booking, Enrolment, Patient, ProgrammeRow, SessionRow, Site
from kiosk.domain.parking import qr
from kiosk.domain.parking.code import TicketCode, verify_payload
from kiosk.domain.parking.issue import issue_ticket

KEY = bytes(range(32))
AT = dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC)


def per_second(action: Callable[[], object], seconds: float = 0.5) -> float:
    """How many times ``action`` runs per second."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        action()
        count += 1
    return count / elapsed


def report(name: str, rate: float, baseline: float) -> None:
    print(f"{name:<40} {rate:>12,.0f}/s   {rate / baseline:6.2f} x baseline")


def main() -> None:
    code = TicketCode("K1", "GENK", 100000001, AT)
    payload = code.payload(KEY)
    message = code.message.encode()
    baseline = per_second(lambda: hmac.new(KEY, message, hashlib.sha256).digest())
    print(f"{'baseline: bare HMAC-SHA256':<40} {baseline:>12,.0f}/s")
    report("sign a payload", per_second(lambda: code.payload(KEY)), baseline)
    keys = {"K1": KEY}
    report(
        "verify a payload offline",
        per_second(lambda: verify_payload(payload, keys=keys, site_id="GENK", at=AT)),
        baseline,
    )
    report("QR as screen text", per_second(lambda: qr.screen_text(payload)), baseline)

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        engine = make_engine(url)
        create_schema(engine)
        sessions = session_factory(engine)
        settings = Settings(
            source=None,
            data_dir=Path(folder),
            local_url=url,
            parking=ParkingSettings(signing_key="K1", keys=keys),
        )
        with sessions() as db, db.begin():
            db.add_all([Site(id="GENK", name="Genk"), ProgrammeRow(code="rug", name="Rug")])
            db.flush()
            patient = Patient(nn_hash="h", first_name="An", site_id="GENK")
            db.add(patient)
            db.flush()
            enrolment = Enrolment(
                patient_id=patient.id, programme_code="rug", site_id="GENK", started_on=AT.date()
            )
            db.add(enrolment)
            db.flush()
            bookings = []
            for n in range(400):
                slot = SessionRow(
                    site_id="GENK",
                    programme_code="rug",
                    kind=f"k{n}",
                    starts_at=AT,
                    ends_at=AT + dt.timedelta(hours=2),
                )
                db.add(slot)
                db.flush()
                booking = Booking(
                    session_id=slot.id, enrolment_id=enrolment.id, patient_id=patient.id
                )
                db.add(booking)
                db.flush()
                bookings.append(booking.id)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_baseline (id INTEGER PRIMARY KEY, v TEXT)"))

        def bare_insert() -> None:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO bench_baseline (v) VALUES (:v)"), {"v": payload})

        pending = iter(bookings)

        def issue() -> None:
            with sessions() as db, db.begin():
                issue_ticket(
                    db, settings=settings, booking_id=next(pending), session_end=AT, now=AT
                )

        insert_rate = per_second(bare_insert, 0.3)
        print(f"{'baseline: bare committed INSERT (WAL)':<40} {insert_rate:>12,.0f}/s")
        started = time.perf_counter()
        for _ in range(200):
            issue()
        issue_rate = 200 / (time.perf_counter() - started)
        report("issue a ticket (own commit)", issue_rate, insert_rate)
        engine.dispose()


if __name__ == "__main__":
    main()
