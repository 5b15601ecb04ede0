"""The centre's side of the wake-up: a change for a site is announced on that site's channel.

A statement-level trigger on every replicated table (the rows a pull reads) sends, at commit,
one ``NOTIFY`` per site the statement touched, with an empty payload, on the site's channel.
A kiosk that listens on it pulls at once instead of at its next timer round.

What a listener can learn is only "something changed for this site, now": no row id, no table.
A channel name is not the site id but a keyed hash of it (``sync_wake_channel``), with a secret
only the owner can read, and a kiosk role gets just its own site's name (``kiosk_wake_channel``).
PostgreSQL lets any role ``LISTEN`` on any channel, so a stolen kiosk credential could otherwise
watch when another site is busy; it cannot name another site's channel without the secret.

A row whose site cannot be found (a programme, which every site holds, or a booking deleted
together with its session) is announced to every site: a spare pull costs little, a missed one
waits for the timer.
"""

# ruff: noqa: S608 (the schema is quoted by the server; every other name is this module's own)
from __future__ import annotations

from sqlalchemy import Connection, text

# The site of a changed row, as an expression over the transition table ``changed``; NULL means
# every site.
_SITE_OF_ATTENDANCE = (
    "(SELECT s.site_id FROM {s}.bookings b JOIN {s}.sessions s ON s.id = b.session_id "
    "WHERE b.id = changed.booking_id)"
)
SITE_OF_CHANGE = {
    "sites": "changed.id",
    "programmes": "NULL::text",
    "patients": "changed.site_id",
    "enrolments": "changed.site_id",
    "sessions": "changed.site_id",
    "bookings": "(SELECT s.site_id FROM {s}.sessions s WHERE s.id = changed.session_id)",
    "checkins": _SITE_OF_ATTENDANCE,
    "absences": _SITE_OF_ATTENDANCE,
    "cancellations": _SITE_OF_ATTENDANCE,
    "parking_tickets": "changed.site_id",
}
EVENTS = {"insert": "NEW", "update": "NEW", "delete": "OLD"}
# The one a kiosk role may call: its own site's channel name.
KIOSK_CHANNEL = "kiosk_wake_channel(text)"


def install(conn: Connection, *, group_role: str) -> None:
    """Create or replace the channel functions and the announcing triggers (PostgreSQL only;
    ``group_role`` is the kiosks' group, which may ask for its own channel's name)."""
    s = conn.scalar(text("SELECT quote_ident(current_schema())"))
    conn.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {s}.sync_wake_secret ("
            "id integer PRIMARY KEY CHECK (id = 1), secret text NOT NULL)"
        )
    )
    conn.execute(
        text(
            f"INSERT INTO {s}.sync_wake_secret (id, secret) "
            "VALUES (1, gen_random_uuid()::text || gen_random_uuid()::text) "
            "ON CONFLICT (id) DO NOTHING"
        )
    )
    conn.execute(text(f"REVOKE ALL ON {s}.sync_wake_secret FROM PUBLIC, {group_role}"))
    # 'sync_' and 32 hex digits: a valid identifier of a fixed length, whatever the site id.
    conn.execute(
        text(
            f"CREATE OR REPLACE FUNCTION {s}.sync_wake_channel(site text) RETURNS text "
            f"LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {s}, pg_temp AS $$ "
            "SELECT 'sync_' || left(encode(sha256(convert_to(secret || ':' || site, 'UTF8')), "
            f"'hex'), 32) FROM {s}.sync_wake_secret WHERE id = 1 $$"
        )
    )
    conn.execute(text(f"REVOKE ALL ON FUNCTION {s}.sync_wake_channel(text) FROM PUBLIC"))
    # A kiosk role gets its own site's channel whatever it asks; the owner (a demo or a test
    # syncing as the owner) the one of the site it names.
    conn.execute(
        text(
            f"CREATE OR REPLACE FUNCTION {s}.kiosk_wake_channel(site text) RETURNS text "
            f"LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {s}, pg_temp AS $$ "
            f"SELECT {s}.sync_wake_channel(coalesce((SELECT site_id FROM {s}.sync_kiosk_roles "
            "WHERE role_name = session_user), site)) $$"
        )
    )
    conn.execute(text(f"REVOKE ALL ON FUNCTION {s}.kiosk_wake_channel(text) FROM PUBLIC"))
    conn.execute(text(f"GRANT EXECUTE ON FUNCTION {s}.kiosk_wake_channel(text) TO {group_role}"))
    for table, site in SITE_OF_CHANGE.items():
        _announce(conn, s, table, site.replace("{s}", s))


def _announce(conn: Connection, s: str, table: str, site: str) -> None:
    """One function and three statement-level triggers (one per event: PostgreSQL allows a
    transition table only on a trigger of one event) that announce ``table``'s changes."""
    conn.execute(
        text(
            f"CREATE OR REPLACE FUNCTION {s}.sync_wake_{table}() RETURNS trigger "
            f"LANGUAGE plpgsql SECURITY DEFINER SET search_path = {s}, pg_temp AS $$\n"
            "DECLARE\n    site text;\nBEGIN\n"
            f"    FOR site IN SELECT DISTINCT {site} FROM changed LOOP\n"
            "        IF site IS NULL THEN\n"
            f"            PERFORM pg_notify({s}.sync_wake_channel(id), '') FROM {s}.sites;\n"
            "        ELSE\n"
            f"            PERFORM pg_notify({s}.sync_wake_channel(site), '');\n"
            "        END IF;\n    END LOOP;\n    RETURN NULL;\nEND $$"
        )
    )
    for event, row in EVENTS.items():
        name = f"sync_wake_{table}_{event}"
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {s}.{table}"))
        conn.execute(
            text(
                f"CREATE TRIGGER {name} AFTER {event.upper()} ON {s}.{table} "
                f"REFERENCING {row} TABLE AS changed FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {s}.sync_wake_{table}()"
            )
        )
