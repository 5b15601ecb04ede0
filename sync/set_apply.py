"""The kiosk's side of a push: the batch goes up as stored, the centre decodes, checks and applies
it (set-based, in SQL, in the ``sync_push`` function of :mod:`sync.push_function` on PostgreSQL;
per event, :func:`sync.apply.apply_each`, on a SQLite centre).

The batch is one ``jsonb`` array whose payloads are the JSON texts the kiosk stored, put in as
they are. A database error from an event's content (a value too long for its column, a key that
clashes) rolls the whole call back: the batch then goes again event by event, each under a
savepoint, and an event the centre still rejects alone is refused with the error's name, as the
reference path does. A payload that is not JSON at all goes up as a JSON string then, which the
centre refuses as a malformed payload.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from sync.apply import (
    DATABASE_ERRORS,
    Applied,
    OutgoingEvent,
    apply_each,
    error_name,
    is_content_error,
)

_PUSH = "SELECT event_id, outcome, reason FROM sync_push(%s::jsonb, %s, %s, %s)"


def _payload(event: OutgoingEvent, *, checked: bool) -> str:
    if checked:
        try:
            json.loads(event.payload_json)
        except ValueError:
            return json.dumps(event.payload_json)
    return event.payload_json


def batch_json(events: Sequence[OutgoingEvent], *, checked: bool = False) -> str:
    """The batch as ``sync_push`` takes it; ``checked``: each payload parsed first."""
    return (
        "["
        + ",".join(
            f'{{"id":{json.dumps(e.id)},"seq":{e.seq:d},"kind":{json.dumps(e.kind)},'
            f'"schema_version":{e.schema_version:d},"created_at":"{e.created_at.isoformat()}",'
            f'"p":{_payload(e, checked=checked)}}}'
            for e in events
        )
        + "]"
    )


def _call(conn: Connection, batch: str, site_id: str, kiosk_id: str, now: dt.datetime) -> Any:
    return conn.exec_driver_sql(_PUSH, (batch, site_id, kiosk_id, now)).all()


def _applied(events: Sequence[OutgoingEvent], rows: Sequence[Any]) -> Applied:
    refused = {event_id: reason for event_id, outcome, reason in rows if outcome == "refused"}
    duplicates = {event_id for event_id, outcome, _ in rows if outcome == "duplicate"}
    return Applied(
        new=[e.id for e in events if e.id not in refused and e.id not in duplicates],
        duplicates=[e.id for e in events if e.id in duplicates],
        refused=refused,
    )


def _push(
    engine: Engine, events: Sequence[OutgoingEvent], site_id: str, kiosk_id: str, now: dt.datetime
) -> Applied:
    with engine.begin() as conn:
        return _applied(events, _call(conn, batch_json(events), site_id, kiosk_id, now))


def _push_each(
    engine: Engine, events: Sequence[OutgoingEvent], site_id: str, kiosk_id: str, now: dt.datetime
) -> Applied:
    """The batch event by event, in one transaction: an event the database rejects alone is
    refused and the others still go in."""
    rows: list[Any] = []
    with engine.begin() as conn:
        for event in events:
            savepoint = conn.begin_nested()
            try:
                rows += _call(conn, batch_json([event], checked=True), site_id, kiosk_id, now)
                savepoint.commit()
            except DATABASE_ERRORS as exc:
                savepoint.rollback()
                if not is_content_error(exc):
                    raise
                rows.append((event.id, "refused", f"the centre refused it ({error_name(exc)})"))
    return _applied(events, rows)


def apply_events(
    engine: Engine,
    events: Sequence[OutgoingEvent],
    *,
    site_id: str,
    kiosk_id: str,
    now: dt.datetime,
    run: Callable[[Callable[[], Applied]], Applied] = lambda call: call(),
) -> Applied:
    """Store and apply one batch in one central transaction.

    ``run`` wraps each database round (the caller's deadline). On PostgreSQL a kiosk role's own
    site and kiosk id apply, whatever ``site_id`` and ``kiosk_id`` say (only the owner's are
    taken), and the centre's clock gives the time received.
    """
    if engine.dialect.name != "postgresql":
        return run(lambda: apply_each(engine, events, site_id=site_id, kiosk_id=kiosk_id, now=now))
    if not events:
        return Applied()
    events = sorted(events, key=lambda e: e.seq)
    try:
        return run(lambda: _push(engine, events, site_id, kiosk_id, now))
    except DATABASE_ERRORS as exc:
        if not is_content_error(exc):
            raise
        return run(lambda: _push_each(engine, events, site_id, kiosk_id, now))
