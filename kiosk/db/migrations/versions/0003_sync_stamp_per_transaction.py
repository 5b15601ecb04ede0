"""sync: one change number per transaction on PostgreSQL

Migration 0002 bumped ``sync_counter`` for every row written. On PostgreSQL each bump is a new
version of the counter's one row, so a transaction that writes n rows leaves a chain of n
versions that every later bump in it walks (n² work), and a kiosk waiting for the row lock walks
the chain again when it gets it: a push of 2 000 check-ins ran into its statement timeout. Now a
transaction bumps the counter once, on its first write, and stamps every row it writes with that
number (kept for the rest of the transaction with ``set_config(..., true)``). The guarantee is
unchanged: the row lock is still held from the first bump until commit, so numbers still follow
commit order and a kiosk that has pulled up to N has seen every change numbered N or less.
Tombstones keep one number each (their key is the number). SQLite writers are serialised by the
database lock and keep their per-row triggers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PER_TRANSACTION = """
CREATE OR REPLACE FUNCTION sync_stamp() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
DECLARE
    taken text := current_setting('sync.change_seq', true);
BEGIN
    IF taken IS NOT NULL AND taken <> '' THEN
        NEW.change_seq := taken::bigint;
    ELSE
        UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO NEW.change_seq;
        -- true: the setting ends with the transaction (or with a rolled-back savepoint).
        PERFORM set_config('sync.change_seq', NEW.change_seq::text, true);
    END IF;
    RETURN NEW;
END $$;
"""

PER_ROW = """
CREATE OR REPLACE FUNCTION sync_stamp() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO NEW.change_seq;
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PER_TRANSACTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PER_ROW)
