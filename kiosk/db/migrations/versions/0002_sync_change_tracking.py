"""sync: change sequence, tombstones, central events, kiosk sync state

Every replicated table gets a ``change_seq`` stamped by a trigger from the one-row
``sync_counter``: the counter's row lock is held until commit, so numbers are handed out in commit
order and a kiosk that has pulled up to N can never miss a change below N. Deletions leave a
tombstone (ids only) with their own number. Existing rows are numbered during the upgrade.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:00:00
"""

# ruff: noqa: S608 (every table name in this file is one of its own constants)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kiosk.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Table -> primary key column (tombstones carry the key).
TABLES = {
    "sites": "id",
    "programmes": "code",
    "patients": "id",
    "enrolments": "id",
    "sessions": "id",
    "bookings": "id",
    "checkins": "id",
    "absences": "id",
    "cancellations": "id",
    "parking_tickets": "id",
}

PG_FUNCTIONS = """
CREATE FUNCTION sync_stamp() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO NEW.change_seq;
    RETURN NEW;
END $$;

CREATE FUNCTION sync_tombstone() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
DECLARE
    next_seq bigint;
BEGIN
    UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO next_seq;
    INSERT INTO sync_deletions (change_seq, table_name, row_id)
    VALUES (next_seq, TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0]);
    RETURN OLD;
END $$;
"""


def _sqlite_triggers(table: str, key: str) -> list[str]:
    bump = "UPDATE sync_counter SET value = value + 1 WHERE id = 1;"
    stamp = (
        f"UPDATE {table} SET change_seq = (SELECT value FROM sync_counter WHERE id = 1) "
        f"WHERE {key} = NEW.{key};"
    )
    return [
        f"CREATE TRIGGER sync_{table}_ins AFTER INSERT ON {table} BEGIN {bump} {stamp} END",
        # The stamp's own UPDATE changes change_seq, so the WHEN keeps it from firing again.
        f"CREATE TRIGGER sync_{table}_upd AFTER UPDATE ON {table} "
        f"WHEN NEW.change_seq IS OLD.change_seq BEGIN {bump} {stamp} END",
        f"CREATE TRIGGER sync_{table}_del AFTER DELETE ON {table} BEGIN {bump} "
        "INSERT INTO sync_deletions (change_seq, table_name, row_id) VALUES "
        f"((SELECT value FROM sync_counter WHERE id = 1), '{table}', OLD.{key}); END",
    ]


def upgrade() -> None:
    op.create_table(
        "sync_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_counter")),
    )
    op.execute("INSERT INTO sync_counter (id, value) VALUES (1, 0)")
    op.create_table(
        "sync_deletions",
        sa.Column("change_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("change_seq", name=op.f("pk_sync_deletions")),
    )
    op.create_table(
        "sync_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("site_id", sa.String(length=16), nullable=False),
        sa.Column("kiosk_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("created_at", kiosk.db.types.UTCDateTime(), nullable=False),
        sa.Column("received_at", kiosk.db.types.UTCDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_events")),
    )
    op.create_index(op.f("ix_sync_events_site_id"), "sync_events", ["site_id"], unique=False)
    op.create_table(
        "sync_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("checkpoint", sa.BigInteger(), nullable=False),
        sa.Column("window_from", sa.Date(), nullable=True),
        sa.Column("window_to", sa.Date(), nullable=True),
        sa.Column("last_pull_at", kiosk.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_push_at", kiosk.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_success_at", kiosk.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_error_at", kiosk.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_state")),
    )
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("change_seq", sa.BigInteger(), nullable=True))
            batch.create_index(f"ix_{table}_change_seq", ["change_seq"], unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(PG_FUNCTIONS)
    for table, key in TABLES.items():
        if postgres:
            op.execute(
                f"CREATE TRIGGER sync_{table}_stamp BEFORE INSERT OR UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION sync_stamp()"
            )
            op.execute(
                f"CREATE TRIGGER sync_{table}_del AFTER DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION sync_tombstone('{key}')"
            )
        else:
            for statement in _sqlite_triggers(table, key):
                op.execute(statement)
        # Number the rows that were already there (the triggers do the numbering).
        op.execute(f"UPDATE {table} SET change_seq = change_seq")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER sync_{table}_stamp ON {table}")
            op.execute(f"DROP TRIGGER sync_{table}_del ON {table}")
        else:
            for suffix in ("ins", "upd", "del"):
                op.execute(f"DROP TRIGGER sync_{table}_{suffix}")
        op.drop_index(f"ix_{table}_change_seq", table_name=table)
        # SQLite drops the column in place (3.35+): a batch copy of a table that others
        # reference would trip the foreign keys.
        op.execute(f"ALTER TABLE {table} DROP COLUMN change_seq")
    if postgres:
        op.execute("DROP FUNCTION sync_stamp()")
        op.execute("DROP FUNCTION sync_tombstone()")
    op.drop_table("sync_state")
    op.drop_index(op.f("ix_sync_events_site_id"), table_name="sync_events")
    op.drop_table("sync_events")
    op.drop_table("sync_deletions")
    op.drop_table("sync_counter")
