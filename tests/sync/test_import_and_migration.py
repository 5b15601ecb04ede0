"""The scheduling import, the 0002 migration both ways, and a schema upgrade while offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select, text

from kiosk.db import migrate
from kiosk.db.engine import make_engine
from kiosk.db.models import Booking
from kiosk.programme import Programme
from sync import central
from sync.importer import HEADER, import_csv
from tests.sync.conftest import LOOKUP_KEY, NOW, Kiosk, assert_each_checkin_once, fill_centre

ROW = (
    "85073003328,Zoë,Peeters,1985-07-30,GENK,rugrevalidatie,2026-02-01,individual,"
    "2026-03-02T09:00:00+01:00,2026-03-02T10:00:00+01:00,Zaal 1,booked"
)


def test_csv_import_is_idempotent(
    central_url: str, tmp_path: Path, programmes: dict[str, Programme]
) -> None:
    fill_centre(central_url, programmes, patients=3, sites=1)
    path = tmp_path / "export.csv"
    path.write_text(",".join(HEADER) + "\n" + ROW + "\n", encoding="utf-8")
    engine = make_engine(central_url)
    assert import_csv(engine, path, LOOKUP_KEY).rows == 1
    with engine.connect() as conn:
        bookings = conn.scalar(select(func.count(Booking.id)))
        counter = conn.scalar(select(func.max(Booking.change_seq)))
    import_csv(engine, path, LOOKUP_KEY)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(Booking.id))) == bookings
        assert conn.scalar(select(func.max(Booking.change_seq))) == counter
    engine.dispose()


def test_migration_0002_down_and_up_with_data(
    central_url: str, programmes: dict[str, Programme]
) -> None:
    fill_centre(central_url, programmes, patients=10, sites=1)
    engine = make_engine(central_url)
    migrate.downgrade(engine, "0001")
    assert migrate.current_revision(engine) == "0001"
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM bookings WHERE change_seq IS NULL")).scalar()
            == 0
        )
    engine.dispose()


def test_schema_upgrade_while_a_kiosk_is_offline(
    central_url: str, programmes: dict[str, Programme], make_kiosk: Callable[..., Kiosk]
) -> None:
    fill_centre(central_url, programmes, patients=30, sites=1)
    kiosk = make_kiosk(central_url)
    assert kiosk.sync.run_round().error == ""
    kiosk.check_in_day(NOW.date())
    # While the kiosk is offline the centre is taken down a revision and brought back up.
    engine = make_engine(central_url)
    migrate.downgrade(engine, "0001")
    assert kiosk.sync.run_round().error
    central.init(engine)
    engine.dispose()
    kiosk.sync.run_round()
    assert kiosk.sync.run_round().error == ""
    assert_each_checkin_once(central_url, [kiosk])
