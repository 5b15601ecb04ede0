"""The bulk paths of a push: ids as one JSON parameter, COPY staging, one change number per
transaction on PostgreSQL without writers waiting for each other, and a push batch read as plain
columns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Table, insert, select, text

from kiosk.db import migrate
from kiosk.db.engine import make_engine, session_factory
from kiosk.db.models import CentralEvent, OutboxEvent, Site
from sync import central
from sync.id_sets import one_of
from sync.pull import change_horizon
from sync.push import pending_batch
from sync.staging import RawJSON, copy_insert
from tests.sync.conftest import NOW


def test_one_of_matches_a_long_id_list(central_url: str) -> None:
    engine = make_engine(central_url)
    migrate.upgrade(engine)
    ids = [f"S{n}" for n in range(5000)]
    with engine.begin() as conn:
        conn.execute(insert(Site), [{"id": i, "name": "x"} for i in ids[:40]])
        wanted = [*ids[20:], 'it\'s, "odd"']
        found = set(conn.scalars(select(Site.id).where(one_of(conn, Site.id, wanted))))
        assert found == set(ids[20:40])
        assert not list(conn.scalars(select(Site.id).where(one_of(conn, Site.id, []))))
    engine.dispose()


def _event(event_id: str, payload: object) -> dict[str, object]:
    return {
        "id": event_id,
        "site_id": "GENK",
        "kiosk_id": "GENK-1",
        "seq": 1,
        "kind": "audit",
        "schema_version": 1,
        "created_at": NOW,
        "received_at": NOW,
        "payload": payload,
    }


def test_copy_insert_skips_conflicts_and_returns_new_keys(pg_url: str) -> None:
    engine = make_engine(pg_url)
    central.init(engine)
    table = CentralEvent.__table__
    assert isinstance(table, Table)
    with engine.begin() as conn:
        first = copy_insert(
            conn,
            table,
            [_event("a", {"n": 1}), _event("b", RawJSON('{"n": 2}'))],
            conflict=["id"],
            returning="id",
        )
        # Twice in one transaction: the stage starts empty again.
        second = copy_insert(
            conn,
            table,
            [_event("b", {"n": 9}), _event("c", ["x"])],
            conflict=["id"],
            returning="id",
        )
    assert sorted(first) == ["a", "b"] and second == ["c"]
    with engine.connect() as conn:
        payloads = {
            r.id: r.payload for r in conn.execute(select(CentralEvent.id, CentralEvent.payload))
        }
        assert payloads == {"a": {"n": 1}, "b": {"n": 2}, "c": ["x"]}
    engine.dispose()


def test_one_change_number_per_transaction_on_postgres(pg_url: str) -> None:
    engine = make_engine(pg_url)
    central.init(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sites (id, name) VALUES ('A', 'a'), ('B', 'b')"))
        savepoint = conn.begin_nested()
        conn.execute(text("INSERT INTO sites (id, name) VALUES ('C', 'c')"))
        savepoint.rollback()
    with engine.begin() as conn:
        # The number taken in a rolled-back savepoint is left unused: a gap, never a reuse.
        savepoint = conn.begin_nested()
        conn.execute(text("INSERT INTO sites (id, name) VALUES ('D', 'd')"))
        savepoint.rollback()
        conn.execute(text("INSERT INTO sites (id, name) VALUES ('E', 'e')"))
        conn.execute(text("UPDATE sites SET name = 'z' WHERE id = 'A'"))
    with engine.connect() as conn:
        stamps = {r.id: r.change_seq for r in conn.execute(select(Site.id, Site.change_seq))}
        assert conn.scalar(text("SELECT sync_horizon()")) == 3
    assert stamps == {"A": 3, "B": 1, "E": 3}
    # Down to the counter of migration 0003: it carries on after the sequence.
    migrate.downgrade(engine, "0003")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sites (id, name) VALUES ('F', 'f'), ('G', 'g')"))
        fresh = conn.scalars(select(Site.change_seq).where(Site.id.in_(["F", "G"])))
        assert sorted(n or 0 for n in fresh) == [4, 4]
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sites (id, name) VALUES ('H', 'h')"))
        assert conn.scalar(select(Site.change_seq).where(Site.id == "H")) == 5
    engine.dispose()


def test_the_horizon_stays_below_a_transaction_still_open(pg_url: str) -> None:
    """Writers do not wait for each other; a reader never reads past one still writing."""
    engine = make_engine(pg_url)
    central.init(engine)
    with engine.connect() as slow, engine.connect() as quick, engine.connect() as reader:
        slow.begin()
        slow.execute(text("INSERT INTO sites (id, name) VALUES ('S', 'slow')"))
        with quick.begin():  # takes a higher number and commits first, without waiting
            quick.execute(text("INSERT INTO sites (id, name) VALUES ('Q', 'quick')"))
        with reader.begin():
            assert change_horizon(reader) == 0
        slow.commit()
        with reader.begin():
            assert change_horizon(reader) == 2
            stamps = {r.id: r.change_seq for r in reader.execute(select(Site.id, Site.change_seq))}
    assert stamps == {"S": 1, "Q": 2}
    engine.dispose()


@pytest.mark.parametrize("size", [1, 3])
def test_pending_batch_reads_the_stored_payload_text(tmp_path: Path, size: int) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'k.sqlite'}")
    migrate.upgrade(engine)
    with session_factory(engine)() as db, db.begin():
        for seq in (1, 2, 3):
            db.add(
                OutboxEvent(
                    id=f"e{seq}",
                    seq=seq,
                    created_at=NOW + dt.timedelta(seconds=seq),
                    kind="audit",
                    schema_version=1,
                    payload={"n": seq, "text": "é"},
                    attempts=0,
                    last_error="",
                    set_aside=seq == 2,
                )
            )
    with session_factory(engine)() as db:
        batch = pending_batch(db, size)
    assert [e.id for e in batch] == ["e1", "e3"][:size]
    assert batch[0].payload == {"n": 1, "text": "é"}
    assert batch[0].payload_json is not None and '"n": 1' in batch[0].payload_json
    assert batch[0].created_at == NOW + dt.timedelta(seconds=1)
    engine.dispose()
