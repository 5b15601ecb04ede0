"""The set-based push on PostgreSQL does what the per-event path does, event for event."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from kiosk.db.engine import make_engine
from kiosk.programme import Programme
from sync import central
from sync.apply import Applied, OutgoingEvent, apply_each
from sync.set_apply import apply_events
from tests.postgres import create_database, drop_database
from tests.sync.conftest import NOW, fill_centre

pytestmark = pytest.mark.postgres
AT = NOW.isoformat()
# Every table an event can change, with the columns compared (change numbers differ by design).
TABLES = {
    # The payload as the same JSON value (the push function keeps it as jsonb keeps it).
    "sync_events": "id, site_id, kiosk_id, seq, kind, schema_version, created_at, "
    "payload::jsonb::text",
    "checkins": "id, booking_id, patient_id, kiosk_id, checked_in_at, late, identity_method, "
    "card_number, document_type, identity_note",
    "parking_tickets": "id, site_id, ticket_number, booking_id, key_id, issued_at, expires_at, "
    "payload, printed_at, print_error",
    "audit": "id, at, kiosk_id, actor, action, outcome, patient_id, booking_id, detail::text",
    "alerts": "id, raised_at, kind, site_id, patient_id, enrolment_id, message",
    "absences": "booking_id, enrolment_id, excused, reason",
    "cancellations": "id, booking_id, notice_minutes, fee_cents",
    "bookings": "id, status",
}


@pytest.fixture(scope="module")
def centres(programmes: dict[str, Programme]) -> Iterator[tuple[str, str]]:
    """Two identical demo centres: one for each path."""
    first = create_database("sync_test")
    fill_centre(first, programmes)
    second = create_database("sync_test", template=first)
    yield first, second
    drop_database(first)
    drop_database(second)


def _bookings(engine: Engine, site: str) -> list[tuple[str, str, str]]:
    """(booking, patient, enrolment) of a site's bookings without attendance or ticket yet."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT b.id, b.patient_id, b.enrolment_id FROM bookings b "
                "JOIN sessions s ON s.id = b.session_id WHERE s.site_id = :site "
                # A ticket expires three hours after NOW: at most a day after its session.
                "AND s.ends_at >= '2026-03-01 10:00:00+00' "
                "AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.booking_id = b.id) "
                "AND NOT EXISTS (SELECT 1 FROM parking_tickets t WHERE t.booking_id = b.id) "
                "ORDER BY b.id LIMIT 12"
            ),
            {"site": site},
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _checkin(booking: tuple[str, str, str], **changes: object) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "booking_id": booking[0],
        "patient_id": booking[1],
        "site_id": "GENK",
        "kiosk_id": "GENK-1",
        "checked_in_at": AT,
        "late": False,
        "identity_method": "chip",
        "card_number": "592123456789",
        "document_type": "1",
        "identity_note": "",
        **changes,
    }


# A ticket number names one ticket at a site, and the centres live for the module: each ticket
# made here takes a number of its own.
TICKET_NUMBERS = itertools.count(1)


def _ticket(booking: tuple[str, str, str], **changes: object) -> dict[str, Any]:
    ticket: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "site_id": "GENK",
        "ticket_number": next(TICKET_NUMBERS),
        "booking_id": booking[0],
        "key_id": "K1",
        "issued_at": AT,
        "expires_at": (NOW + dt.timedelta(hours=3)).isoformat(),
        **changes,
    }
    number, expires = int(ticket["ticket_number"]), dt.datetime.fromisoformat(ticket["expires_at"])
    site = ticket["site_id"]
    return {
        "payload": f"RK1:K1:{site}:{number:010d}:{expires:%Y%m%d%H%M}:ZWD4LN7OFUY2AN7R",
        **ticket,
    }


def _audit(**changes: object) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "at": AT,
        "kiosk_id": "GENK-1",
        "actor": "patient",
        "action": "checkin",
        "outcome": "checked_in",
        "patient_id": None,
        "booking_id": None,
        "detail": {"method": "chip"},
        **changes,
    }


def _batch(genk: list[tuple[str, str, str]], hasselt: list[tuple[str, str, str]]) -> list[Any]:
    """(kind, payload, schema version) of every case the centre must tell apart, in kiosk order."""
    undone = _checkin(genk[0])
    return [
        ("checkin", undone, 1),
        ("parking_ticket", _ticket(genk[0]), 1),
        ("audit", _audit(patient_id=genk[0][1], booking_id=genk[0][0]), 1),
        (
            "alert",
            {
                "id": str(uuid.uuid4()),
                "raised_at": AT,
                "kind": "absences",
                "site_id": "GENK",
                "patient_id": genk[0][1],
                "enrolment_id": genk[0][2],
                "message": "second absence",
            },
            1,
        ),
        ("checkin", _checkin(hasselt[0]), 1),
        ("checkin", _checkin(genk[1], patient_id="nobody"), 1),
        ("parking_ticket", _ticket(genk[1], site_id="HASSELT"), 1),
        ("parking_ticket", _ticket(hasselt[1]), 1),
        ("audit", _audit(kiosk_id="GENK-2"), 1),
        (
            "alert",
            {
                "id": str(uuid.uuid4()),
                "raised_at": AT,
                "kind": "x",
                "site_id": "GENK",
                "enrolment_id": "nobody",
                "message": "m",
            },
            1,
        ),
        # Not in the shape the kiosk writes: refused, the first such field named.
        ("checkin", _checkin(genk[2], checked_in_at="2026-03-02T07:00:00Z"), 1),
        ("checkin", _checkin(genk[3], checked_in_at="2026-03-02T07:00:00"), 1),
        ("checkin", _checkin(genk[4], id=5), 1),
        ("checkin", _checkin(genk[5], late=1, card_number=None), 1),
        (
            "parking_ticket",
            _ticket(genk[5], ticket_number=str(next(TICKET_NUMBERS)), printed_at=""),
            1,
        ),
        ("audit", _audit(detail=["not", "an", "object"], patient_id=7), 1),
        # Kinds applied in kiosk order: undo the first check-in, then check the booking in again.
        ("checkin_undone", {"id": undone["id"], "booking_id": genk[0][0]}, 1),
        ("checkin", _checkin(genk[0]), 1),
        ("checkin", _checkin(genk[0]), 1),
        (
            "absence",
            {
                "id": str(uuid.uuid4()),
                "booking_id": genk[6][0],
                "enrolment_id": genk[6][2],
                "recorded_at": AT,
                "excused": True,
                "reason": "ill",
            },
            1,
        ),
        (
            "cancellation",
            {
                "id": str(uuid.uuid4()),
                "booking_id": genk[7][0],
                "cancelled_at": AT,
                "notice_minutes": 30,
                "fee_cents": 2900,
            },
            1,
        ),
        ("parking_ticket", _ticket(genk[8], printed_at=AT), 1),
        ("teleport", {}, 1),
        ("checkin", _checkin(genk[9]), 2),
        ("checkin", [1, 2], 1),
        # Another ticket's code.
        ("parking_ticket", _ticket(genk[10], payload=_ticket(genk[10])["payload"]), 1),
    ]


def _events(cases: list[Any]) -> list[OutgoingEvent]:
    return [
        OutgoingEvent(str(uuid.uuid4()), seq, kind, version, NOW, json.dumps(payload))
        for seq, (kind, payload, version) in enumerate(cases, start=1)
    ]


def _contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            table: [tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM {table} ORDER BY 1"))]
            for table, cols in TABLES.items()
        }


def test_set_based_and_per_event_paths_agree(centres: tuple[str, str]) -> None:
    set_based, per_event = make_engine(centres[0]), make_engine(centres[1])
    events = _events(_batch(_bookings(set_based, "GENK"), _bookings(set_based, "HASSELT")))
    fast = apply_events(set_based, events, site_id="GENK", kiosk_id="GENK-1", now=NOW)
    slow = apply_each(per_event, events, site_id="GENK", kiosk_id="GENK-1", now=NOW)
    assert fast == slow
    assert len(fast.new) == 11 and not fast.duplicates
    assert {events.index(e): fast.refused[e.id] for e in events if e.id in fast.refused} == {
        4: "unknown booking for site GENK",
        5: "unknown patient for site GENK",
        6: "the parking ticket is for another site",
        7: "unknown booking for site GENK",
        8: "the audit entry is for another kiosk",
        9: "unknown enrolment for site GENK",
        10: "field checked_in_at is not an instant with its UTC offset",
        11: "field checked_in_at is not an instant with its UTC offset",
        12: "field id is missing or not text",
        13: "field late is not true or false",
        14: "field ticket_number is not a whole number of at most 18 digits",
        22: "unknown event kind 'teleport'",
        23: "schema version 2 is not supported by this centre",
        24: "malformed checkin payload",
        25: "the parking code does not match the ticket",
    }
    assert _contents(set_based) == _contents(per_event)
    # Sent again (the acknowledgement was lost): nothing changes.
    again = apply_events(set_based, events, site_id="GENK", kiosk_id="GENK-1", now=NOW)
    assert again == Applied(duplicates=fast.new, refused=fast.refused)
    assert _contents(set_based) == _contents(per_event)
    set_based.dispose()
    per_event.dispose()


@pytest.mark.parametrize(
    "cases",
    [slice(0, 10), slice(0, 16)],
    ids=["well formed", "with payloads not in the shape the kiosk writes"],
)
def test_a_batch_of_commuting_kinds_matches_the_per_event_path(
    centres: tuple[str, str], cases: slice
) -> None:
    set_based, per_event = make_engine(centres[0]), make_engine(centres[1])
    genk, hasselt = _bookings(set_based, "GENK"), _bookings(set_based, "HASSELT")
    events = _events(_batch(genk, hasselt)[cases])
    fast = apply_events(set_based, events, site_id="GENK", kiosk_id="GENK-1", now=NOW)
    slow = apply_each(per_event, events, site_id="GENK", kiosk_id="GENK-1", now=NOW)
    assert fast == slow and len(fast.refused) == {10: 6, 16: 11}[cases.stop]
    assert _contents(set_based) == _contents(per_event)
    again = apply_events(set_based, events, site_id="GENK", kiosk_id="GENK-1", now=NOW)
    assert again == Applied(duplicates=fast.new, refused=fast.refused)
    set_based.dispose()
    per_event.dispose()


def test_a_value_the_database_rejects_sends_the_batch_event_by_event(pg_url: str) -> None:
    engine = make_engine(pg_url)
    central.init(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sites (id, name) VALUES ('GENK', 'Genk')"))
    events = _events(
        [
            ("audit", _audit(), 1),
            ("audit", _audit(at="2026-02-30T07:00:00+00:00"), 1),
            ("audit", _audit(actor="x" * 41), 1),
        ]
    )
    applied = apply_events(engine, events, site_id="GENK", kiosk_id="GENK-1", now=NOW)
    assert applied.new == [events[0].id]
    assert applied.refused == {
        events[1].id: "field at is not an instant with its UTC offset",
        events[2].id: "the centre refused it (StringDataRightTruncation)",
    }
    engine.dispose()


def test_an_event_the_centre_holds_is_a_duplicate_even_if_now_refused(pg_url: str) -> None:
    """The acknowledgement was lost and the centre changed meanwhile: the kiosk must still hear
    that its event arrived, not set it aside."""
    engine = make_engine(pg_url)
    central.init(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sites (id, name) VALUES ('GENK', 'Genk')"))
    events = _events([("audit", _audit(), 1)])
    first = apply_events(engine, events, site_id="GENK", kiosk_id="GENK-1", now=NOW)
    # Now judged as another kiosk's entry, which this kiosk may not send.
    again = apply_events(engine, events, site_id="GENK", kiosk_id="GENK-9", now=NOW)
    assert first.new == [events[0].id] and again == Applied(duplicates=first.new)
    engine.dispose()


def test_set_based_push_under_a_kiosk_role(
    pg_url: str, kiosk_role: Callable[[str], str], programmes: dict[str, Programme]
) -> None:
    fill_centre(pg_url, programmes)
    admin = make_engine(pg_url)
    role = kiosk_role("kiosk_set")
    central.add_kiosk(admin, role, site_id="GENK", kiosk_id="GENK-1", kiosk_number=1)
    kiosk = make_engine(pg_url.replace("postgres@", f"{role}@"))
    genk, hasselt = _bookings(admin, "GENK"), _bookings(admin, "HASSELT")
    events = _events(
        [
            ("checkin", _checkin(genk[0]), 1),
            ("parking_ticket", _ticket(genk[0]), 1),
            ("audit", _audit(), 1),
            ("checkin", _checkin(hasselt[0]), 1),
        ]
    )
    tables = ("sync_events", "checkins", "parking_tickets", "audit")

    def counts() -> list[int]:
        with admin.connect() as conn:
            return [int(conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in tables]

    before = counts()
    for _ in range(2):
        applied = apply_events(kiosk, events, site_id="GENK", kiosk_id="GENK-1", now=NOW)
        assert applied.refused == {events[3].id: "unknown booking for site GENK"}
    assert applied.duplicates == [e.id for e in events[:3]]
    assert [after - was for after, was in zip(counts(), before, strict=True)] == [3, 1, 1, 1]
    kiosk.dispose()
    admin.dispose()
