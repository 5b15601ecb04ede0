"""A stolen kiosk credential against the centre, as a hostile tester would use it: the role
``add-kiosk`` made holds no table, sequence or temporary table, reads no role map, cannot set
its change numbers, and the push and pull functions, its only doors, judge every event for the
role's own site and kiosk and hand out only what a replica holds. Each attack fails and changes
nothing; sync still works through the doors."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from kiosk.db.models import Base
from sync import central
from tests.postgres import HOST_URL
from tests.sync.conftest import NOW

pytestmark = pytest.mark.postgres
AT = NOW.isoformat()
# Every table of the centre, the owner's own ones included.
TABLES = (*Base.metadata.tables, "sync_kiosk_roles", "sync_wake_secret", "alembic_version")


def _as_kiosk(pg_url: str, role: str) -> psycopg.Connection[tuple[Any, ...]]:
    database = pg_url.rsplit("/", 1)[1]
    host = HOST_URL.split("@", 1)[1].split(":")[0]
    return psycopg.connect(f"host={host} port=5432 user={role} dbname={database}", autocommit=True)


@pytest.fixture
def kiosk(pg_url: str, kiosk_centre: tuple[str, Engine]) -> Iterator[psycopg.Connection[Any]]:
    """The kiosk role's own connection, as a thief would open it."""
    with _as_kiosk(pg_url, kiosk_centre[0]) as connection:
        yield connection


def _state(admin: Engine) -> dict[str, Any]:
    """What an attack must leave as it was: every table's rows (as text) and the roles."""
    with admin.connect() as conn:
        found: dict[str, Any] = {
            table: sorted(str(r) for r in conn.execute(text(f"SELECT t::text FROM {table} t")))
            for table in TABLES
        }
        found["roles"] = sorted(
            tuple(r) for r in conn.execute(text("SELECT rolname, rolsuper FROM pg_roles"))
        )
    return found


def _booking(admin: Engine, site: str) -> tuple[str, str, dt.datetime]:
    """(booking, patient, session end) of one of ``site``'s bookings without a check-in."""
    with admin.connect() as conn:
        row = conn.execute(
            text(
                "SELECT b.id, b.patient_id, s.ends_at FROM bookings b "
                "JOIN sessions s ON s.id = b.session_id WHERE s.site_id = :s AND NOT EXISTS "
                "(SELECT 1 FROM checkins c WHERE c.booking_id = b.id) ORDER BY s.starts_at, b.id"
            ),
            {"s": site},
        ).first()
    assert row is not None
    return str(row[0]), str(row[1]), row[2]


def _push(kiosk: psycopg.Connection[Any], *events: tuple[str, dict[str, Any]], **args: Any) -> Any:
    batch = [
        {"id": str(uuid.uuid4()), "seq": n, "kind": kind, "schema_version": 1,
         "created_at": AT, "p": payload}
        for n, (kind, payload) in enumerate(events, start=1)
    ]  # fmt: skip
    site, kiosk_id = args.get("site"), args.get("kiosk_id")
    rows = kiosk.execute(
        "SELECT event_id, outcome, reason FROM sync_push(%s::jsonb, %s, %s)",
        (json.dumps(batch), site, kiosk_id),
    ).fetchall()
    by_id = {r[0]: r[2] for r in rows if r[1] == "refused"}
    return [by_id.get(e["id"]) for e in batch]


def _checkin(booking: str, patient: str, **changes: Any) -> tuple[str, dict[str, Any]]:
    return "checkin", {
        "id": str(uuid.uuid4()),
        "booking_id": booking,
        "patient_id": patient,
        "site_id": "GENK",
        "kiosk_id": "GENK-1",
        "checked_in_at": AT,
        "identity_method": "chip",
        **changes,
    }


def _ticket(booking: str, expires: dt.datetime, **changes: Any) -> tuple[str, dict[str, Any]]:
    number = 4242
    code = f"RK1:K1:GENK:{number:010d}:{expires.astimezone(dt.UTC):%Y%m%d%H%M}:ZWD4LN7OFUY2AN7R"
    return "parking_ticket", {
        "id": str(uuid.uuid4()),
        "site_id": "GENK",
        "ticket_number": number,
        "booking_id": booking,
        "key_id": "K1",
        "issued_at": AT,
        "expires_at": expires.isoformat(),
        "payload": code,
        **changes,
    }


@pytest.mark.parametrize(
    "statement",
    [
        *(f"SELECT * FROM {table}" for table in TABLES),
        "UPDATE parking_tickets SET expires_at = '2099-01-01'",
        "DELETE FROM checkins",
        "UPDATE bookings SET status = 'CANCELLED'",
        "INSERT INTO sync_kiosk_roles VALUES ('x', 'HASSELT', 'X', 9)",
        "SELECT nextval('sync_change_numbers')",
        "SELECT sync_change_seq()",
        "SELECT sync_wake_channel('HASSELT')",
        "CREATE TABLE public.sync_kiosk_roles_copy (x int)",
        "CREATE TEMP TABLE sync_kiosk_roles (role_name text, site_id text, kiosk_id text)",
        "CREATE TEMP TABLE sync_deletions (change_seq bigint, table_name text, row_id text)",
        "CREATE FUNCTION pg_temp.escalate() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE OR REPLACE FUNCTION public.sync_stall_seconds() RETURNS int "
        "LANGUAGE sql AS 'SELECT 0'",
        "SELECT sync_stall_seconds()",
    ],
)
def test_no_table_sequence_temporary_table_or_owner_function_is_open(
    kiosk: psycopg.Connection[Any], kiosk_centre: tuple[str, Engine], statement: str
) -> None:
    before = _state(kiosk_centre[1])
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        kiosk.execute(statement)
    assert _state(kiosk_centre[1]) == before


def test_no_temporary_table_even_once_the_owner_made_the_sessions_temporary_schema(
    kiosk: psycopg.Connection[Any], kiosk_centre: tuple[str, Engine]
) -> None:
    """A push makes the owner's batch table in the session's temporary schema; the kiosk can
    neither add a table there (to shadow a name) nor touch the owner's."""
    booking, patient, _ = _booking(kiosk_centre[1], "GENK")
    assert _push(kiosk, _checkin(booking, patient), ("cancellation_undone", {})) == [
        None,
        "field id is missing or not text",
    ]
    for statement in (
        "CREATE TEMP TABLE sync_deletions (change_seq bigint, table_name text, row_id text)",
        "SELECT * FROM pg_temp.sync_push_judged",
        "CREATE TRIGGER t BEFORE INSERT ON pg_temp.sync_push_judged "
        "FOR EACH ROW EXECUTE FUNCTION sync_stamp()",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            kiosk.execute(statement)


def test_the_role_knows_its_own_site_and_kiosk_only(
    kiosk: psycopg.Connection[Any], kiosk_centre: tuple[str, Engine]
) -> None:
    row = kiosk.execute("SELECT kiosk_site(), kiosk_kiosk_id()").fetchone()
    assert row == ("GENK", "GENK-1")
    # Its wake channel is its own site's, whichever site it names.
    own = kiosk.execute("SELECT kiosk_wake_channel('GENK')").fetchone()
    assert kiosk.execute("SELECT kiosk_wake_channel('HASSELT')").fetchone() == own


def test_a_client_set_change_number_is_replaced_by_a_fresh_one(
    kiosk: psycopg.Connection[Any], kiosk_centre: tuple[str, Engine]
) -> None:
    admin = kiosk_centre[1]
    booking, patient, _ = _booking(admin, "GENK")
    with admin.connect() as conn:
        horizon = int(conn.scalar(text("SELECT sync_horizon()")) or 0)
    with kiosk.transaction():
        kiosk.execute("SET LOCAL sync.change_seq = '1'")
        assert _push(kiosk, _checkin(booking, patient)) == [None]
    with admin.connect() as conn:
        number = conn.scalar(
            text("SELECT change_seq FROM checkins WHERE booking_id = :b"), {"b": booking}
        )
    assert number is not None and number > horizon


def _hold_a_number(kiosk: psycopg.Connection[Any], admin: Engine) -> tuple[str, int]:
    """Push one check-in in a transaction left open: (its booking, the number it holds)."""
    booking, patient, _ = _booking(admin, "GENK")
    kiosk.execute("BEGIN")
    assert _push(kiosk, _checkin(booking, patient)) == [None]
    number = kiosk.execute("SELECT current_setting('sync.change_seq')").fetchone()
    assert number is not None
    return booking, int(number[0])


def _stall_after_a_second(admin: Engine) -> None:
    """The limit of a held number, 60 s on a centre, is 1 s on this one (the owner's call)."""
    with admin.begin() as conn:
        conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION sync_stall_seconds() RETURNS integer "
                "LANGUAGE sql STABLE AS 'SELECT 1'"
            )
        )


def _horizon(admin: Engine) -> int:
    with admin.connect() as conn:
        return int(conn.scalar(text("SELECT sync_horizon()")) or 0)


def test_a_push_held_open_does_not_hold_every_pull_back(
    pg_url: str, kiosk: psycopg.Connection[Any], kiosk_centre: tuple[str, Engine]
) -> None:
    """A thief pushes one event and keeps its transaction open (or sleeps in it): the horizon
    waits for it only until it has held its number longer than the limit (60 s on a centre,
    1 s here), then ends that transaction, whose push rolls back; a kiosk's next push goes
    through."""
    role, admin = kiosk_centre
    _stall_after_a_second(admin)
    booking, number = _hold_a_number(kiosk, admin)
    assert _horizon(admin) < number
    time.sleep(1.5)
    assert _horizon(admin) >= number
    with pytest.raises(psycopg.OperationalError):
        kiosk.execute("COMMIT")
    with admin.connect() as conn:
        found = conn.scalar(text("SELECT 1 FROM checkins WHERE booking_id = :b"), {"b": booking})
    assert found is None
    with _as_kiosk(pg_url, role) as again:
        booking, patient, _ = _booking(admin, "GENK")
        assert _push(again, _checkin(booking, patient)) == [None]


def test_the_owner_s_long_transaction_is_waited_for(
    kiosk_centre: tuple[str, Engine],
) -> None:
    """The owner's own work (an import of a whole schedule) may take longer than the limit: the
    horizon waits for it and ends nothing."""
    admin = kiosk_centre[1]
    _stall_after_a_second(admin)
    with admin.connect() as owner:
        owner.execute(text("UPDATE sites SET name = name || ' ' WHERE id = 'GENK'"))
        number = int(owner.scalar(text("SELECT current_setting('sync.change_seq')")))
        time.sleep(1.5)
        assert _horizon(admin) < number
        owner.commit()
    assert _horizon(admin) >= number


def test_a_stolen_credential_cannot_take_every_connection(
    pg_url: str, kiosk_centre: tuple[str, Engine]
) -> None:
    role = kiosk_centre[0]
    with ExitStack() as held:
        for _ in range(central.ROLE_CONNECTIONS):
            held.enter_context(_as_kiosk(pg_url, role))
        with pytest.raises(psycopg.OperationalError, match="too many connections for role"):
            _as_kiosk(pg_url, role)
    with _as_kiosk(pg_url, role) as kiosk:
        assert kiosk.execute("SELECT kiosk_site()").fetchone() == ("GENK",)


def test_events_forged_for_another_site_kiosk_or_patient_are_refused(
    kiosk: psycopg.Connection[Any], kiosk_centre: tuple[str, Engine]
) -> None:
    admin = kiosk_centre[1]
    genk, hasselt = _booking(admin, "GENK"), _booking(admin, "HASSELT")
    with admin.connect() as conn:
        stranger = conn.scalar(
            text("SELECT id FROM patients WHERE site_id = 'GENK' AND id <> :p LIMIT 1"),
            {"p": genk[1]},
        )
    before = _state(admin)
    refusals = _push(
        kiosk,
        _checkin(hasselt[0], hasselt[1], site_id="HASSELT"),
        _checkin(hasselt[0], hasselt[1]),
        _checkin(genk[0], genk[1], kiosk_id="GENK-99"),
        _checkin(genk[0], str(stranger)),
        _ticket(genk[0], genk[2] + dt.timedelta(minutes=30), payload="garbage"),
        _ticket(genk[0], dt.datetime(2099, 1, 1, tzinfo=dt.UTC)),
        ("alert_resolved", {"id": "any", "at": AT, "actor": "x"}),
        # The site and kiosk a kiosk role names are not taken: the role map's are.
        site="HASSELT",
        kiosk_id="HASSELT-1",
    )
    assert refusals == [
        "the check-in is for another site",
        "unknown booking for site GENK",
        "the check-in is for another kiosk",
        "the booking is another patient's",
        "the parking code does not match the ticket",
        "the ticket expires too long after its session",
        None,  # taken, and it matches no alert of the site: nothing changes
    ]
    after = _state(admin)
    assert {t: after[t] for t in after if t != "sync_events"} == {
        t: before[t] for t in before if t != "sync_events"
    }


def test_a_ticket_within_its_sessions_grace_is_taken(
    kiosk: psycopg.Connection[Any], kiosk_centre: tuple[str, Engine]
) -> None:
    booking, _patient, ends = _booking(kiosk_centre[1], "GENK")
    assert _push(kiosk, _ticket(booking, ends + dt.timedelta(minutes=60))) == [None]


def test_the_pull_hands_out_only_the_replicas_columns_of_its_own_site(
    kiosk: psycopg.Connection[Any], kiosk_centre: tuple[str, Engine]
) -> None:
    far = ("2000-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00")
    (found,) = kiosk.execute(
        "SELECT sync_pull(0, sync_horizon(), %s, %s, NULL, 'HASSELT')", far
    ).fetchone() or (None,)
    patients = found["patients"]
    assert patients and {p["site_id"] for p in patients} == {"GENK"}
    assert all(len(p["last_name"]) <= 1 for p in patients)
    assert not {"national_number", "birth_date"} & set(patients[0])
    assert {s["site_id"] for s in found["sessions"]} == {"GENK"}
    assert [s["id"] for s in found["sites"]] == ["GENK"]


def test_add_kiosk_will_not_re_point_a_role_it_did_not_make(
    kiosk_centre: tuple[str, Engine],
) -> None:
    admin = kiosk_centre[1]
    before = _state(admin)
    with pytest.raises(central.RoleRefused, match="exists and is not a kiosk's"):
        central.add_kiosk(admin, "postgres", site_id="GENK", kiosk_id="A", kiosk_number=7)
    assert _state(admin) == before
