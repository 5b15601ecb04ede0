"""sync: change numbers on PostgreSQL without a lock held until commit

Until now a writing transaction took its change number from the one-row ``sync_counter`` and kept
the row locked until it committed, so numbers followed commit order. Every kiosk's push then
waited for the others' commits: at ten kiosks the waits, not the work, set the pace. Now:

- a transaction takes its number from a sequence, on its first write, and announces it with a
  transaction-level advisory lock on that number until it ends (``sync_change_seq()``); a short
  shared "gate" lock around the two steps lets a reader never see a number handed out but not yet
  announced;
- a reader asks ``sync_horizon()`` for the highest number below which every transaction has
  ended (the lowest announced number minus one, else the sequence's last value), under the gate,
  and then reads, in a snapshot taken afterwards, every row numbered up to it. A pull therefore
  still never misses a change below its checkpoint;
- a set-based writer (the push of a kiosk's batch) puts ``(SELECT sync_change_seq())`` into its
  rows, and the trigger's ``WHEN`` clause lets rows that already carry the transaction's number
  through without calling PL/pgSQL; any other row is stamped by the trigger as before.

SQLite keeps the counter and its triggers: its writers are serialised by the database lock.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00
"""

# ruff: noqa: S608 (the only value put into this file's SQL is its own GATE constant)
from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STAMPED = (
    "sites",
    "programmes",
    "patients",
    "enrolments",
    "sessions",
    "bookings",
    "checkins",
    "absences",
    "cancellations",
    "parking_tickets",
)

# The gate: an advisory lock in the two-int4 key space ('kios', 1), apart from the numbers'
# bigint keys. Writers hold it shared for the instant between taking and announcing a number.
GATE = "1802071923, 1"

FUNCTIONS = f"""
CREATE SEQUENCE sync_change_numbers AS bigint;
SELECT setval('sync_change_numbers', value) FROM sync_counter WHERE id = 1 AND value > 0;

CREATE FUNCTION sync_change_seq() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
DECLARE
    taken text := current_setting('sync.change_seq', true);
    next_seq bigint;
BEGIN
    IF taken IS NOT NULL AND taken <> '' THEN
        RETURN taken::bigint;
    END IF;
    PERFORM pg_advisory_lock_shared({GATE});
    BEGIN
        next_seq := nextval('sync_change_numbers');
        PERFORM pg_advisory_xact_lock(next_seq);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM pg_advisory_unlock_shared({GATE});
        RAISE;
    END;
    PERFORM pg_advisory_unlock_shared({GATE});
    -- true: the setting ends with the transaction (or with a rolled-back savepoint, whose
    -- announcement ends with it too).
    PERFORM set_config('sync.change_seq', next_seq::text, true);
    RETURN next_seq;
END $$;

CREATE FUNCTION sync_horizon() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
DECLARE
    handed_out bigint;
    lowest_open bigint;
BEGIN
    PERFORM pg_advisory_lock({GATE});
    SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END INTO handed_out
        FROM sync_change_numbers;
    SELECT min((l.classid::bigint << 32) | l.objid::bigint) INTO lowest_open
        FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database());
    PERFORM pg_advisory_unlock({GATE});
    RETURN least(handed_out, lowest_open - 1);
END $$;

CREATE OR REPLACE FUNCTION sync_stamp() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
BEGIN
    NEW.change_seq := sync_change_seq();
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION sync_tombstone() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
BEGIN
    -- The transaction's announced number covers every later one, the tombstone's included.
    PERFORM sync_change_seq();
    INSERT INTO sync_deletions (change_seq, table_name, row_id)
    VALUES (nextval('sync_change_numbers'), TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0]);
    RETURN OLD;
END $$;
"""

# Evaluated by the executor for each row, without a function call: rows that already carry the
# number this transaction holds need nothing more.
NEEDS_STAMP = (
    "NEW.change_seq IS NULL OR NEW.change_seq IS DISTINCT FROM "
    "NULLIF(current_setting('sync.change_seq', true), '')::bigint"
)

# Migrations 0002 and 0003's functions, restored on the way down with the counter caught up.
COUNTER_FUNCTIONS = """
UPDATE sync_counter SET value = GREATEST(value, (SELECT CASE WHEN is_called THEN last_value
    ELSE 0 END FROM sync_change_numbers)) WHERE id = 1;

CREATE OR REPLACE FUNCTION sync_stamp() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
DECLARE
    taken text := current_setting('sync.change_seq', true);
BEGIN
    IF taken IS NOT NULL AND taken <> '' THEN
        NEW.change_seq := taken::bigint;
    ELSE
        UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO NEW.change_seq;
        PERFORM set_config('sync.change_seq', NEW.change_seq::text, true);
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION sync_tombstone() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
DECLARE
    next_seq bigint;
BEGIN
    UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO next_seq;
    INSERT INTO sync_deletions (change_seq, table_name, row_id)
    VALUES (next_seq, TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0]);
    RETURN OLD;
END $$;

DROP FUNCTION sync_horizon();
DROP FUNCTION sync_change_seq();
DROP SEQUENCE sync_change_numbers;
"""


def _triggers(when: str) -> None:
    for table in STAMPED:
        op.execute(f"DROP TRIGGER sync_{table}_stamp ON {table}")
        op.execute(
            f"CREATE TRIGGER sync_{table}_stamp BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW {when} EXECUTE FUNCTION sync_stamp()"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTIONS)
        _triggers(f"WHEN ({NEEDS_STAMP})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _triggers("")
        op.execute(COUNTER_FUNCTIONS)
