"""What sync derives from the event declarations (kiosk/domain/events.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec
import pytest

from kiosk.domain.event_parts import Delete, Insert, Kind, Update
from kiosk.domain.events import KINDS
from sync.kinds import COMMUTING, FORMS, decode
from sync.pull import KIOSK_OWNED
from sync.site_rows import SITE_OF_ROW

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
_SAMPLES: dict[str, Any] = {
    "text": "x",
    "text_or_empty": "y",
    "opt_text": "z",
    "instant": NOW,
    "opt_instant": NOW,
    "flag": True,
    "integer": 12,
    "object": {"a": 1},
}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_what_the_domain_emits_the_centre_decodes(kind: Kind) -> None:
    """The emitter's payload, through the outbox's JSON, decodes to the same values."""
    values = {f.name: _SAMPLES[f.form] for f in FORMS[kind.name]}
    payload = kind.payload(**values)
    decoded = decode(kind, json.loads(json.dumps(payload.wire())))
    assert decoded == values
    # An instant comes back in UTC, the same moment.
    assert all(v.tzinfo == dt.UTC for v in decoded.values() if isinstance(v, dt.datetime))


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_an_absent_field_decodes_to_its_default(kind: Kind) -> None:
    """An older kiosk's payload, without a field added later, means the field's default."""
    required = {f.name: _SAMPLES[f.form] for f in FORMS[kind.name] if f.required}
    sent = {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in required.items()}
    assert decode(kind, sent) == msgspec.structs.asdict(kind.payload(**required))


def test_every_row_an_event_updates_or_deletes_is_scoped_to_the_site() -> None:
    """An update or delete names its row by id; both paths add the row's site (the id alone
    could be another site's)."""
    for kind in KINDS:
        for effect in kind.effects:
            if isinstance(effect, Update | Delete):
                assert effect.table.name in SITE_OF_ROW, (kind.name, effect.table.name)


def test_commuting_kinds_are_plain_inserts_and_a_pull_spares_unsent_changes() -> None:
    assert {"checkin", "parking_ticket", "audit", "alert"} == COMMUTING
    assert all(isinstance(k.effects[0], Insert) for k in KINDS if k.name in COMMUTING)
    assert KIOSK_OWNED["ticket_printed"] == (("parking_tickets", "id", "id"),)
    assert ("bookings", "id", "booking_id") in KIOSK_OWNED["cancellation"]
    assert "audit" not in KIOSK_OWNED  # never pulled
