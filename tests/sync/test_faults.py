"""Faults between kiosks and a PostgreSQL centre; each ends with every check-in there once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from kiosk.db.engine import make_engine
from kiosk.db.models import Patient
from kiosk.programme import Programme
from sync import central
from tests.postgres import PostgresServer
from tests.sync.conftest import (
    NOW,
    Kiosk,
    assert_each_checkin_once,
    fill_centre,
)
from tests.sync.proxy import FaultProxy

TODAY = dt.date(2026, 3, 2)
pytestmark = pytest.mark.postgres


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    proxy = FaultProxy(("127.0.0.1", 5432))
    yield proxy
    proxy.close()


def _via(proxy: FaultProxy, pg_url: str, role: str = "postgres") -> str:
    return proxy.url(role, pg_url.rsplit("/", 1)[1])


def _drain(kiosk: Kiosk, rounds: int = 20) -> None:
    for _ in range(rounds):
        report = kiosk.sync.run_round()
        if not report.error and kiosk.pending() == 0:
            return
    raise AssertionError(f"the queue did not drain: {report.error}")


@pytest.mark.parametrize("mode", ["drop", "stall", "reset_after_commit"])
def test_network_faults_mid_batch(
    mode: str,
    pg_url: str,
    proxy: FaultProxy,
    programmes: dict[str, Programme],
    make_kiosk: Callable[..., Kiosk],
) -> None:
    fill_centre(pg_url, programmes)
    # The deadline is short for the stall to end in it, yet long enough for the first full pull
    # on a loaded machine (1.5 s was not, under faketime at a load average of 5).
    kiosk = make_kiosk(_via(proxy, pg_url), deadline_s=5.0, statement_timeout_ms=10000)
    assert kiosk.sync.run_round().error == ""
    assert kiosk.check_in_day(TODAY) > 5
    proxy.set(mode, drop_after=2000)
    failed = kiosk.sync.run_round()
    assert failed.error, "the fault did not reach the kiosk"
    if mode == "stall":
        assert "DeadlineExceeded" in failed.error
        proxy.set("pass")
    else:
        assert proxy.faults == 1
    _drain(kiosk)
    assert_each_checkin_once(pg_url, [kiosk])


def test_postgres_restarted_while_kiosks_sync(
    own_postgres: PostgresServer,
    programmes: dict[str, Programme],
    make_kiosk: Callable[..., Kiosk],
) -> None:
    # A server of the test's own: restarting the machine's would cut everyone else's tests.
    url = own_postgres.create_database("sync_test")
    fill_centre(url, programmes)
    kiosks = [make_kiosk(url, site_id=site) for site in ("GENK", "HASSELT")]
    for kiosk in kiosks:
        assert kiosk.sync.run_round().error == ""
        kiosk.check_in_day(TODAY)
    started = own_postgres.started_at()
    own_postgres.restart()
    assert own_postgres.started_at() > started
    for kiosk in kiosks:
        kiosk.check_in_day(TODAY + dt.timedelta(days=1))
        _drain(kiosk)
    assert_each_checkin_once(url, kiosks)


SYNC_CHILD = textwrap.dedent(
    """
    import sys
    from kiosk.core.clock import SettableClock
    from kiosk.db.engine import make_engine, session_factory
    from sync.push import push
    from sync.connect import central_engine
    from tests.sync.conftest import NOW
    local = session_factory(make_engine(sys.argv[1]))
    central = central_engine(sys.argv[2])
    while True:
        push(local, central, None, site_id="GENK", kiosk_id="GENK-1",
             clock=SettableClock(NOW, running=False), batch_size=int(sys.argv[3]))
    """
)


def test_sync_killed_mid_batch(
    pg_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(pg_url, programmes, patients=120, sites=1)
    kiosk = make_kiosk(pg_url)
    kiosk.sync.run_round()
    for day in range(5):
        kiosk.check_in_day(TODAY + dt.timedelta(days=day))
    child = subprocess.Popen(
        [sys.executable, "-c", SYNC_CHILD, kiosk.settings.local_url, pg_url, "3"],
        cwd=Path(__file__).parents[2],
    )
    time.sleep(1.5)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    _drain(kiosk)
    assert_each_checkin_once(pg_url, [kiosk])


CHECKIN_CHILD = textwrap.dedent(
    """
    import sys, datetime as dt
    from tests.sync.conftest import *
    from kiosk.domain.checkin import CheckinEngine
    from kiosk.core.clock import SettableClock
    from kiosk.core.config import Settings
    from kiosk.db.engine import make_engine, session_factory
    from kiosk.programme import load_programmes
    from sqlalchemy import select
    from kiosk.db.models import Booking, CheckIn, SessionRow as S
    sessions = session_factory(make_engine(sys.argv[1]))
    settings = Settings(source=None, data_dir=".", lookup_key=LOOKUP_KEY, kiosk_id="GENK-1")
    clock = SettableClock(NOW, running=False)
    engine = CheckinEngine(sessions, load_programmes(None), settings, clock)
    with sessions() as db:
        rows = db.execute(select(Booking.patient_id, S.starts_at).join(S).outerjoin(CheckIn)
                          .where(CheckIn.id.is_(None)).order_by(S.starts_at)).all()
    print("ready", flush=True)
    for patient_id, starts in rows:
        engine.check_in_patient(patient_id, actor="t", note="t", at=starts)
    """
)


def test_kiosk_killed_during_checkin_writes(
    pg_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(pg_url, programmes, patients=120, sites=1)
    kiosk = make_kiosk(pg_url)
    kiosk.sync.run_round()
    child = subprocess.Popen(
        [sys.executable, "-c", CHECKIN_CHILD, kiosk.settings.local_url],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
    time.sleep(0.4)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with kiosk.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        # Each check-in row has its event: both were in one transaction.
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM checkins c WHERE c.kiosk_id = 'GENK-1' AND NOT EXISTS ("
                "SELECT 1 FROM outbox o "
                "WHERE o.kind = 'checkin' AND json_extract(o.payload, '$.id') = c.id)"
            )
        ).scalar()
        assert orphans == 0
    _drain(kiosk)
    assert_each_checkin_once(pg_url, [kiosk])


def test_three_kiosks_offline_for_a_week_then_back_at_once(
    pg_url: str,
    proxy: FaultProxy,
    programmes: dict[str, Programme],
    make_kiosk: Callable[..., Kiosk],
) -> None:
    import threading

    fill_centre(pg_url, programmes, patients=90)
    kiosks = [make_kiosk(_via(proxy, pg_url), site_id=s) for s in ("GENK", "HASSELT", "LEUVEN")]
    for kiosk in kiosks:
        assert kiosk.sync.run_round().error == ""
    proxy.set("down")
    proxy.cut_all()
    for day in range(7):
        for kiosk in kiosks:
            kiosk.clock.set(NOW + dt.timedelta(days=day))
            kiosk.check_in_day(TODAY + dt.timedelta(days=day))
            assert kiosk.sync.run_round().error
    proxy.set("pass")
    threads = [threading.Thread(target=_drain, args=(k,)) for k in kiosks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_each_checkin_once(pg_url, kiosks)


def test_a_kiosk_role_syncs_through_the_functions_and_reads_no_table(
    pg_url: str,
    kiosk_role: Callable[[str], str],
    programmes: dict[str, Programme],
    make_kiosk: Callable[..., Kiosk],
) -> None:
    fill_centre(pg_url, programmes)
    admin = make_engine(pg_url)
    role = kiosk_role("kiosk_genk")
    central.add_kiosk(admin, role, site_id="GENK", kiosk_id="GENK-1", kiosk_number=1)
    role_url = pg_url.replace("postgres@", f"{role}@")
    kiosk = make_kiosk(role_url)
    assert kiosk.sync.run_round().error == ""
    with kiosk.sessions() as db:
        assert set(db.scalars(select(Patient.site_id))) == {"GENK"}
    as_kiosk = make_engine(role_url)
    with pytest.raises(DBAPIError), as_kiosk.connect() as conn:
        conn.execute(select(Patient.site_id))
    with admin.connect() as conn:
        other = conn.execute(
            text(
                "SELECT b.id, b.patient_id FROM bookings b JOIN sessions s ON s.id = b.session_id "
                "WHERE s.site_id = 'HASSELT' LIMIT 1"
            )
        ).one()
    with pytest.raises(DBAPIError), as_kiosk.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO checkins (id, booking_id, patient_id, kiosk_id, checked_in_at, late, "
                "identity_method, card_number, document_type, identity_note) VALUES "
                "('x', :b, :p, 'GENK-1', now(), false, 'manual', '', '', '')"
            ),
            {"b": other[0], "p": other[1]},
        )
    kiosk.check_in_day(TODAY)
    _drain(kiosk)
    assert_each_checkin_once(pg_url, [kiosk])
    as_kiosk.dispose()
    admin.dispose()
