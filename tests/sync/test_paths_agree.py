"""The two apply paths agree on any batch: the per-event reference (on SQLite and PostgreSQL)
and the set-based path (PostgreSQL) leave the same rows and set the same events aside, with the
same reasons. Batches are generated: every declared kind, well-formed or not, for this site or
another, referring to rows that exist or not, in any order."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from kiosk.db.engine import make_engine
from kiosk.db.models import Base
from kiosk.domain.events import KINDS
from kiosk.programme import Programme
from sync.apply import Applied, OutgoingEvent, apply_each
from sync.set_apply import apply_events
from tests.postgres import create_database, drop_database
from tests.sync.conftest import NOW, fill_centre

pytestmark = pytest.mark.postgres
AT = NOW.isoformat()
BOOKINGS = 6
# The rows a batch can change, with the columns compared (change numbers differ by design).
TABLES = {
    "sync_events": "id, kiosk_id, seq, kind, schema_version, created_at",
    "checkins": "id, booking_id, patient_id, kiosk_id, checked_in_at, late, identity_method, "
    "card_number, document_type, identity_note",
    "parking_tickets": "id, site_id, ticket_number, booking_id, key_id, issued_at, expires_at, "
    "payload, printed_at, print_error",
    "audit": "id, at, kiosk_id, actor, action, outcome, patient_id, booking_id",
    "alerts": "id, raised_at, kind, site_id, patient_id, enrolment_id, message, seen_at, "
    "resolved_at, resolved_by, resolution",
    "absences": "booking_id, enrolment_id, excused, reason",
    "cancellations": "id, booking_id, cancelled_at, notice_minutes, fee_cents, reason",
    "bookings": "id, status",
    "enrolments": "id, status, stopped_at, stop_reason",
}
# The same bookings in every centre (ids differ between centres filled apart): by site, start
# and the patient's keyed hash, which the demo's seed fixes.
_CANDIDATES = (
    "SELECT b.id, b.patient_id, b.enrolment_id FROM bookings b "
    "JOIN sessions s ON s.id = b.session_id JOIN patients p ON p.id = b.patient_id "
    "JOIN enrolments e ON e.id = b.enrolment_id WHERE s.site_id = :site "
    # A ticket expires three hours after NOW: at most a day after its session (text on SQLite).
    "AND s.ends_at >= '2026-03-01 10:00:00+00' "
    "AND b.status = 'BOOKED' AND e.status = 'ACTIVE' "
    "AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.booking_id = b.id) "
    "AND NOT EXISTS (SELECT 1 FROM parking_tickets t WHERE t.booking_id = b.id) "
    "AND NOT EXISTS (SELECT 1 FROM absences a WHERE a.booking_id = b.id) "
    "ORDER BY s.starts_at, p.nn_hash LIMIT :n"
)


@pytest.fixture(scope="module")
def templates(
    programmes: dict[str, Programme], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A PostgreSQL and a SQLite demo centre, filled alike, copied for every example."""
    postgres = create_database("sync_paths")
    fill_centre(postgres, programmes, patients=16, sites=2)
    sqlite = tmp_path_factory.mktemp("paths") / "centre.sqlite"
    fill_centre(f"sqlite:///{sqlite}", programmes, patients=16, sites=2)
    yield postgres, sqlite
    drop_database(postgres)


def _labels(engine: Engine) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """GENK's candidate bookings then HASSELT's, and a label for each of their ids."""
    with engine.connect() as conn:
        rows = [
            tuple(r)
            for site in ("GENK", "HASSELT")
            for r in conn.execute(text(_CANDIDATES), {"site": site, "n": BOOKINGS})
        ]
    labels = {}
    for n, (booking, patient, enrolment) in enumerate(rows):
        labels.update({booking: f"b{n}", patient: f"p{n}", enrolment: f"e{n}"})
    return [(str(b), str(p), str(e)) for b, p, e in rows], labels


def _plain(value: Any, labels: dict[str, str]) -> Any:
    if isinstance(value, dt.datetime):
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    return labels.get(value, value) if isinstance(value, str) else value


def _contents(engine: Engine, labels: dict[str, str]) -> set[tuple[Any, ...]]:
    """(table, row) of the rows a batch can change, ids of the centre's own rows replaced by
    their labels, values typed by the models (SQLite keeps instants as text)."""
    found = set()
    with engine.connect() as conn:
        for name, columns in TABLES.items():
            table = Base.metadata.tables[name]
            query = select(*(table.c[c.strip()] for c in columns.split(",")))
            for row in conn.execute(query):
                plain = tuple(_plain(v, labels) for v in row)
                if name not in ("bookings", "enrolments") or plain[0] in labels.values():
                    found.add((name, *plain))
    return found


def _outcome(applied: Applied) -> tuple[list[str], list[str], dict[str, str]]:
    """The outcome, a database's own error name left out (SQLite's and psycopg's differ)."""
    refused = {
        event_id: reason.split(" (")[0] if reason.startswith("the centre refused") else reason
        for event_id, reason in applied.refused.items()
    }
    return sorted(applied.new), sorted(applied.duplicates), refused


# An event as drawn: (kind, booking index, which variant, a number for ids and tickets).
_EVENT = st.tuples(
    st.sampled_from([k.name for k in KINDS] + ["teleport"]),
    st.integers(0, 2 * BOOKINGS - 1),
    st.sampled_from(["ok", "ok", "ok", "other_site", "other_kiosk", "other_patient", "irregular"]),
    st.integers(0, 2),
)


def _payload(draw: tuple[str, int, str, int], bookings: list[tuple[str, str, str]]) -> Any:
    kind, index, variant, n = draw
    booking, patient, enrolment = bookings[index]
    if variant == "other_patient":
        patient, enrolment = bookings[(index + 1) % len(bookings)][1:]
    site = "HASSELT" if variant == "other_site" else "GENK"
    kiosk = "GENK-2" if variant == "other_kiosk" else "GENK-1"
    key = f"{index}-{n}"
    payloads: dict[str, dict[str, Any]] = {
        "checkin": {
            "id": f"c{key}",
            "booking_id": booking,
            "patient_id": patient,
            "site_id": site,
            "kiosk_id": kiosk,
            "checked_in_at": AT,
            "late": n == 1,
            "identity_method": "chip",
        },
        "checkin_undone": {"id": f"c{key}", "booking_id": booking, "at": AT},
        "parking_ticket": {
            "id": f"t{key}",
            "site_id": site,
            "ticket_number": 1000 + index + n,
            "booking_id": booking,
            "key_id": "K1",
            "issued_at": AT,
            "expires_at": (NOW + dt.timedelta(hours=3)).isoformat(),
            # The code of this ticket, but on variant 1 of the second booking (another's code).
            "payload": f"RK1:K1:{site}:{1000 + index + n:010d}:202603021000:ZWD4LN7OFUY2AN7R"
            if (index, n) != (1, 2)
            else "RK1:K1:GENK:0000000999:202603021000:ZWD4LN7OFUY2AN7R",
        },
        "ticket_printed": {"id": f"t{key}", "printed_at": AT if n else None, "print_error": ""},
        "audit": {"id": f"u{key}", "at": AT, "kiosk_id": kiosk, "actor": "a", "action": "x"},
        "alert": {
            "id": f"a{n}",
            "raised_at": AT,
            "kind": "k",
            "site_id": site,
            "patient_id": patient if n else None,
            "enrolment_id": enrolment,
            "message": "m",
        },
        "alert_seen": {"id": f"a{n}", "at": AT, "actor": "r"},
        "alert_resolved": {"id": f"a{n}", "at": AT, "actor": "r", "resolution": "done"},
        "absence": {
            "id": f"x{index}",
            "booking_id": booking,
            "enrolment_id": enrolment,
            "recorded_at": AT,
            "excused": n == 2,
            "reason": "ill" if n == 2 else "",
        },
        "absence_withdrawn": {"id": f"x{index}", "booking_id": booking, "at": AT},
        "cancellation": {
            "id": f"k{index}",
            "booking_id": booking,
            "cancelled_at": AT,
            "notice_minutes": 30 * n,
            "fee_cents": 2900 if n < 2 else 0,
        },
        "cancellation_undone": {"id": f"k{index}", "booking_id": booking, "at": AT},
        "enrolment_stopped": {"id": enrolment, "at": AT, "reason": "3 absences"},
        "enrolment_resumed": {"id": enrolment, "at": AT, "reason": "dr. X"},
        "enrolment_decided": {"id": enrolment, "at": AT, "decisions": "pre:go"},
        "enrolment_finished": {"id": enrolment, "at": AT},
        "teleport": {},
    }
    payload = payloads[kind]
    if variant == "irregular" and payload:
        # Not the shape the kiosk writes: an instant with Z, a number for a text, a field missing.
        field = sorted(payload)[n % len(payload)]
        payload[field] = {0: "2026-03-02T07:00:00Z", 1: 7, 2: None}[n]
    return payload


def _events(draws: list[tuple[str, int, str, int]], bookings: list[Any]) -> list[OutgoingEvent]:
    ids = (str(uuid.UUID(int=i)) for i in itertools.count(1))
    return [
        OutgoingEvent(next(ids), seq, d[0], 1, NOW, json.dumps(_payload(d, bookings)))
        for seq, d in enumerate(draws, start=1)
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(draws=st.lists(_EVENT, min_size=1, max_size=40))
# Every kind once, well-formed, on one booking, in declaration order; then each refused once.
@example(draws=[(k.name, 1, "ok", 1) for k in KINDS])
@example(draws=[("parking_ticket", 1, "ok", 2), ("parking_ticket", 3, "ok", 0)])
@example(
    draws=[(k.name, 2, v, 0) for v in ("other_site", "other_kiosk", "other_patient") for k in KINDS]
)
def test_the_two_paths_agree_on_sqlite_and_postgresql(
    templates: tuple[str, Path], tmp_path: Path, draws: list[tuple[str, int, str, int]]
) -> None:
    set_url, each_url = (create_database("sync_paths", template=templates[0]) for _ in "12")
    sqlite = tmp_path / f"{uuid.uuid4().hex}.sqlite"
    shutil.copy(templates[1], sqlite)
    engines = {
        "set-based, PostgreSQL": make_engine(set_url),
        "per event, PostgreSQL": make_engine(each_url),
        "per event, SQLite": make_engine(f"sqlite:///{sqlite}"),
    }
    try:
        outcomes, contents = {}, {}
        for name, engine in engines.items():
            bookings, labels = _labels(engine)
            events = _events(draws, bookings)
            apply = apply_events if name.startswith("set") else apply_each
            before = _contents(engine, labels)
            for _ in range(2):  # the second time, the acknowledgement was lost
                applied = apply(engine, events, site_id="GENK", kiosk_id="GENK-1", now=NOW)
                outcomes.setdefault(name, []).append(_outcome(applied))
            after = _contents(engine, labels)
            contents[name] = (after - before, before - after)
        if draws == [(k.name, 1, "ok", 1) for k in KINDS]:
            # The well-formed batch is taken whole (a sanity check of the generator).
            assert not outcomes[next(iter(engines))][0][2]
        first = next(iter(engines))
        for name in engines:
            assert outcomes[name] == outcomes[first], name
            assert contents[name] == contents[first], name
    finally:
        for engine in engines.values():
            engine.dispose()
        drop_database(set_url)
        drop_database(each_url)
