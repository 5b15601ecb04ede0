# ruff: noqa: S608 (every name comes from the declarations, the models or the server's quoting)
"""The centre's push on PostgreSQL: one ``SECURITY DEFINER`` function, ``sync_push``, generated
at ``kiosk central init`` from the event declarations (:mod:`sync.push_sql`).

A kiosk role holds no privilege on any table: a push is ``SELECT * FROM sync_push(batch)``, the
batch a ``jsonb`` array of its outbox rows (``id``, ``seq``, ``kind``, ``schema_version``,
``created_at`` and the payload as ``p``). The function takes the site and kiosk id from the role
map by ``session_user`` (a kiosk cannot name them) and the time from the server; only the owner
(a demo, a test, an administrator: no kiosk role) names them, as arguments. It clears the
``sync.change_seq`` a client may have set, so every row it writes gets a fresh change number.

Set-based: the batch is decoded and judged in one statement into a temporary table the owner
makes (a kiosk role may make none), the events taken are stored in one more, and their effects are
written kind by kind: in one statement per kind when the batch holds only kinds that commute (the
common case), else run by run in kiosk order (a run ends at an event of a kind that does not
commute, applied in its place). It returns the events that are not simply new: ``refused`` with
the reason, or ``duplicate`` (the centre had it already, refused now or not).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from kiosk.domain.events import BY_NAME, KINDS
from sync.kinds import FLUSH_ORDER
from sync.push_sql import KIOSK_MEMBER, batch_lookups, batch_reason, effect_sql, quoted

SIGNATURE = "sync_push(jsonb, text, text, timestamptz)"
_OTHERS = [k for k in KINDS if not k.commutes]


def _commuting(rows: str) -> str:
    """The inserts of the commuting kinds' events that ``rows`` selects, in flush order."""
    return "\n".join(
        effect_sql(BY_NAME[name], BY_NAME[name].effects[0], rows) + ";" for name in FLUSH_ORDER
    )


def _in_place() -> str:
    """The effects of the one event ``v_one`` of a kind that does not commute."""
    branches = [
        f"{'IF' if n == 0 else 'ELSIF'} r.kind = {quoted(kind.name)} THEN\n"
        + "\n".join(effect_sql(kind, e, "x.new AND x.seq = v_one") + ";" for e in kind.effects)
        for n, kind in enumerate(_OTHERS)
    ]
    return "\n".join(branches) + "\nEND IF;"


def body() -> str:
    """The function's PL/pgSQL body, ``{S}`` standing for the schema."""
    others = ", ".join(quoted(k.name) for k in _OTHERS)
    return f"""
#variable_conflict use_column
DECLARE
    v_site text;
    v_kiosk text;
    v_now timestamptz;
    v_lo integer;
    v_hi integer;
    v_one integer;
    r record;
BEGIN
    SELECT m.site_id, m.kiosk_id INTO v_site, v_kiosk
        FROM {{S}}.sync_kiosk_roles m WHERE m.role_name = session_user;
    IF v_site IS NOT NULL THEN
        v_now := statement_timestamp();
    ELSIF {KIOSK_MEMBER} THEN
        RAISE EXCEPTION 'this kiosk role has no site in the role map'
            USING ERRCODE = 'insufficient_privilege';
    ELSE
        v_site := p_site;
        v_kiosk := p_kiosk;
        v_now := coalesce(p_at, statement_timestamp());
        IF v_site IS NULL OR v_kiosk IS NULL THEN
            RAISE EXCEPTION 'the owner names the site and the kiosk of a push'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    -- A number the client set is no number of this transaction's.
    PERFORM set_config('sync.change_seq', '', true);
    -- A batch's statements touch a few thousand rows: compiling them took longer than running.
    PERFORM set_config('jit', 'off', true);
    IF to_regclass('pg_temp.sync_push_judged') IS NULL THEN
        CREATE TEMPORARY TABLE sync_push_judged (event_id text, seq integer, kind text,
            schema_version integer, created_at timestamptz, p jsonb, reason text,
            new boolean NOT NULL) ON COMMIT DELETE ROWS;
    END IF;
    DELETE FROM pg_temp.sync_push_judged;
    -- Every event taken counts as new until the centre's events say otherwise (OFFSET 0: the
    -- reason is worked out once, not once more for the flag).
    INSERT INTO pg_temp.sync_push_judged (event_id, seq, kind, schema_version, created_at, p,
            reason, new)
        SELECT j.*, j.reason IS NULL FROM (
            SELECT x.id, x.seq, x.kind, x.schema_version, x.created_at, x.p,
                {batch_reason()} AS reason
            FROM jsonb_to_recordset(batch) AS x(id text, seq integer, kind text,
                schema_version integer, created_at timestamptz, p jsonb)
            {batch_lookups()}
            OFFSET 0) j;
    -- The ones the centre had already are not (a batch sent again: rare, so few rows change).
    WITH stored AS (
        INSERT INTO {{S}}.sync_events (id, site_id, kiosk_id, seq, kind, schema_version,
            created_at, received_at, payload)
        SELECT x.event_id, v_site, v_kiosk, x.seq, x.kind, x.schema_version, x.created_at,
            v_now, x.p::json
        FROM pg_temp.sync_push_judged x WHERE x.new ORDER BY x.seq
        ON CONFLICT (id) DO NOTHING RETURNING id)
    UPDATE pg_temp.sync_push_judged x SET new = false
        WHERE x.new AND NOT EXISTS (SELECT 1 FROM stored WHERE stored.id = x.event_id);
    IF NOT EXISTS (SELECT 1 FROM pg_temp.sync_push_judged x WHERE x.new AND x.kind IN ({others}))
    THEN
{_commuting("x.new")}
    ELSE
        FOR r IN SELECT x.seq, x.kind FROM pg_temp.sync_push_judged x WHERE x.new ORDER BY x.seq
        LOOP
            IF r.kind NOT IN ({others}) THEN
                v_lo := coalesce(v_lo, r.seq);
                v_hi := r.seq;
                CONTINUE;
            END IF;
            IF v_lo IS NOT NULL THEN
{_commuting("x.new AND x.seq BETWEEN v_lo AND v_hi")}
                v_lo := NULL;
            END IF;
            v_one := r.seq;
{_in_place()}
        END LOOP;
        IF v_lo IS NOT NULL THEN
{_commuting("x.new AND x.seq BETWEEN v_lo AND v_hi")}
        END IF;
    END IF;
    RETURN QUERY SELECT x.event_id,
            CASE WHEN x.reason IS NULL OR EXISTS (
                SELECT 1 FROM {{S}}.sync_events e WHERE e.id = x.event_id)
            THEN 'duplicate' ELSE 'refused' END,
            x.reason
        FROM pg_temp.sync_push_judged x WHERE NOT x.new ORDER BY x.seq;
END"""


def install(conn: Connection, *, schema: str) -> None:
    """Create or replace ``sync_push`` (granted to the kiosks by :mod:`sync.central`)."""
    conn.execute(text(f"DROP FUNCTION IF EXISTS {schema}.{SIGNATURE}"))
    conn.exec_driver_sql(
        f"CREATE FUNCTION {schema}.sync_push(batch jsonb, p_site text DEFAULT NULL, "
        "p_kiosk text DEFAULT NULL, p_at timestamptz DEFAULT NULL) "
        "RETURNS TABLE (event_id text, outcome text, reason text) LANGUAGE plpgsql "
        f"VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$"
        + body().replace("{S}", schema)
        + " $fn$"
    )
