# ruff: noqa: S608 (every name is this module's own or the server's quoting of the schema)
"""The car park exit's doors into a PostgreSQL centre: two ``SECURITY DEFINER`` functions that an
exit role (``kiosk central add-exit``, group ``kiosk_exit``) may call, and nothing else.

``exit_ticket(number)`` gives the ticket of that number at the role's site (what verifying needs:
id, key id, number, expiry, when redeemed), and ``exit_redeem(id, at)`` marks it used at ``at`` if
it was not, returning the moment it was marked or NULL. The site is the exit role map's for
``session_user``; only the owner (no exit role: a test, an administrator) names one. The exit's
code (:mod:`kiosk.domain.parking.verify`) calls them on a PostgreSQL centre, whatever its role.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from kiosk.domain.parking.verify import REDEEM_FUNCTION, TICKET_FUNCTION

EXIT_GROUP = "kiosk_exit"
SIGNATURES = (f"{TICKET_FUNCTION}(bigint, text)", f"{REDEEM_FUNCTION}(text, timestamptz, text)")
# The role's site, or the owner's p_site; an exit role missing from the map is refused.
_SITE = """
    SELECT m.site_id INTO v_site FROM {s}.sync_exit_roles m WHERE m.role_name = session_user;
    IF v_site IS NULL THEN
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members a
                WHERE a.member = session_user::text::regrole
                AND a.roleid IN ('kiosk_exit'::regrole, 'kiosk'::regrole)) THEN
            RAISE EXCEPTION 'this role has no site in the exit role map'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        v_site := p_site;
    END IF;"""


def install(conn: Connection, *, schema: str) -> None:
    """Create the exit role map and create or replace the two functions (granted by
    :mod:`sync.central`)."""
    s = schema
    conn.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {s}.sync_exit_roles ("
            "role_name text PRIMARY KEY, site_id varchar(16) NOT NULL)"
        )
    )
    site = _SITE.replace("{s}", s)
    conn.exec_driver_sql(
        f"CREATE OR REPLACE FUNCTION {s}.{TICKET_FUNCTION}(p_number bigint, "
        "p_site text DEFAULT NULL) RETURNS TABLE (id text, site_id text, ticket_number bigint, "
        "key_id text, expires_at timestamptz, redeemed_at timestamptz) LANGUAGE plpgsql STABLE "
        f"SECURITY DEFINER SET search_path = {s}, pg_temp AS $fn$\n"
        f"#variable_conflict use_column\nDECLARE\n    v_site text;\nBEGIN{site}\n"
        "    RETURN QUERY SELECT t.id::text, t.site_id::text, t.ticket_number::bigint, "
        "t.key_id::text, t.expires_at, t.redeemed_at "
        f"FROM {s}.parking_tickets t WHERE t.site_id = v_site AND t.ticket_number = p_number;\n"
        "END $fn$"
    )
    conn.exec_driver_sql(
        f"CREATE OR REPLACE FUNCTION {s}.{REDEEM_FUNCTION}(p_id text, p_at timestamptz, "
        "p_site text DEFAULT NULL) RETURNS timestamptz LANGUAGE plpgsql VOLATILE "
        f"SECURITY DEFINER SET search_path = {s}, pg_temp AS $fn$\n"
        "DECLARE\n    v_site text;\n    v_marked timestamptz;\n"
        f"BEGIN{site}\n"
        "    -- A number the client set is no number of this transaction's.\n"
        "    PERFORM set_config('sync.change_seq', '', true);\n"
        f"    UPDATE {s}.parking_tickets t SET redeemed_at = p_at WHERE t.id = p_id "
        "AND t.site_id = v_site AND t.redeemed_at IS NULL RETURNING t.redeemed_at INTO v_marked;\n"
        "    RETURN v_marked;\nEND $fn$"
    )
