"""sync: the change horizon no longer waits for a transaction held open on purpose

Every pull reads up to the horizon: the lowest change number a transaction still holds, minus
one. A stolen kiosk credential could push one event, keep its transaction open and hold every
site's pulls back for as long as it liked (``BEGIN``, ``sync_push``, then nothing, or
``pg_sleep``). ``sync_horizon()`` now first ends the transaction of any role but the owner's (and
a superuser's, which the owner may not end) that has held a number for longer than
``sync_stall_seconds()`` (60: a kiosk's own call gives up after 30 s); its work rolls back, and
the kiosk sends it again. The limit is a function of the owner's, which only the owner can
replace (a setting would do for a superuser only: PostgreSQL lets no other role fix a custom
setting on a function). An owner that is no superuser needs ``pg_signal_backend`` and
``pg_read_all_stats`` (``kiosk central init`` grants them).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# As migration 0004 (the gate's advisory key) and 0007 (the search path).
GATE = "1802071923, 1"
STALL_SECONDS = 60

_HORIZON = """
CREATE OR REPLACE FUNCTION {schema}.sync_horizon() RETURNS bigint LANGUAGE plpgsql
SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    handed_out bigint;
    lowest_open bigint;
BEGIN
{ending}    PERFORM pg_catalog.pg_advisory_lock({gate});
    SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END INTO handed_out
        FROM {schema}.sync_change_numbers;
    SELECT min((l.classid::bigint << 32) | l.objid::bigint) INTO lowest_open
        FROM pg_catalog.pg_locks l
        WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
            AND l.database = (SELECT oid FROM pg_catalog.pg_database
                              WHERE datname = current_database());
    PERFORM pg_catalog.pg_advisory_unlock({gate});
    RETURN least(handed_out, lowest_open - 1);
END $$
"""

# A transaction holding a number (an advisory lock of the bigint kind, as sync_change_seq takes)
# for longer than the limit, of a role that is neither the owner nor a superuser; the wait for
# its end is bounded (one second), so a pull never hangs on it.
_ENDING = """    PERFORM pg_catalog.pg_terminate_backend(a.pid, 1000)
        FROM pg_catalog.pg_stat_activity a
        JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid
        WHERE a.datname = current_database() AND a.pid <> pg_catalog.pg_backend_pid()
            AND r.rolname <> current_user AND NOT r.rolsuper
            AND a.xact_start < clock_timestamp()
                - make_interval(secs => {schema}.sync_stall_seconds())
            AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                        WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.objsubid = 1
                            AND l.granted);
"""


def _schema() -> str:
    return str(op.get_bind().scalar(text("SELECT quote_ident(current_schema())")))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = _schema()
    op.execute(
        f"CREATE FUNCTION {schema}.sync_stall_seconds() RETURNS integer LANGUAGE sql STABLE "
        f"AS 'SELECT {STALL_SECONDS:d}'"
    )
    op.execute(_HORIZON.format(schema=schema, ending=_ENDING.format(schema=schema), gate=GATE))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = _schema()
    op.execute(_HORIZON.format(schema=schema, ending="", gate=GATE))
    op.execute(f"DROP FUNCTION {schema}.sync_stall_seconds()")
