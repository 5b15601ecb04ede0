"""A stolen kiosk credential against the centre: shadowing the owner's names in the session's
temporary schema gains nothing (neither another site's rows nor the owner's rights)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import Engine, text

from tests.postgres import HOST_URL

pytestmark = pytest.mark.postgres


def _as_kiosk(pg_url: str, role: str) -> psycopg.Connection[tuple[object, ...]]:
    database = pg_url.rsplit("/", 1)[1]
    host = HOST_URL.split("@", 1)[1].split(":")[0]
    return psycopg.connect(f"host={host} port=5432 user={role} dbname={database}", autocommit=True)


def test_a_temporary_role_map_does_not_open_another_site(
    pg_url: str, kiosk_centre: tuple[str, Engine]
) -> None:
    role, admin = kiosk_centre
    with admin.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM patients WHERE site_id = 'HASSELT'"))
    with _as_kiosk(pg_url, role) as kiosk:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            kiosk.execute("SELECT * FROM sync_kiosk_roles")
        kiosk.execute(
            "CREATE TEMP TABLE sync_kiosk_roles (role_name text, site_id text, kiosk_id text)"
        )
        kiosk.execute("INSERT INTO sync_kiosk_roles VALUES (current_user, 'HASSELT', 'X')")
        seen = kiosk.execute("SELECT DISTINCT site_id FROM patients").fetchall()
        assert seen == [("GENK",)]


def test_a_shadowing_trigger_never_runs_with_the_owners_rights(
    pg_url: str, kiosk_centre: tuple[str, Engine]
) -> None:
    role, admin = kiosk_centre
    with admin.connect() as conn:
        checkin = conn.scalar(
            text(
                "SELECT c.id FROM checkins c JOIN bookings b ON b.id = c.booking_id "
                "JOIN sessions s ON s.id = b.session_id WHERE s.site_id = 'GENK' LIMIT 1"
            )
        )
    assert checkin is not None
    with _as_kiosk(pg_url, role) as kiosk:
        kiosk.execute(
            "CREATE TEMP TABLE sync_deletions (change_seq bigint, table_name text, row_id text)"
        )
        kiosk.execute(
            f"CREATE FUNCTION pg_temp.escalate() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN EXECUTE 'ALTER ROLE {role} SUPERUSER'; RETURN NEW; END $$"
        )
        kiosk.execute(
            "CREATE TRIGGER escalate BEFORE INSERT ON pg_temp.sync_deletions "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.escalate()"
        )
        kiosk.execute("DELETE FROM checkins WHERE id = %s", (checkin,))
    with admin.connect() as conn:
        assert not conn.scalar(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}
        )
        # The owner's tombstone went into the real table.
        assert conn.scalar(
            text("SELECT count(*) FROM sync_deletions WHERE row_id = :id"), {"id": checkin}
        )
