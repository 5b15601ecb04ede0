"""sync: the owner's functions search the session's temporary schema last

``SET search_path FROM CURRENT`` froze the search path of the session that ran the migration,
and PostgreSQL searches a session's temporary schema first unless the path names ``pg_temp``
elsewhere. A kiosk role could therefore shadow ``sync_deletions`` with a temporary table of its
own, with a trigger, and have the owner's ``SECURITY DEFINER`` tombstone function run that
trigger with the owner's rights (``ALTER ROLE ... SUPERUSER``). Each such function now has the
schema it lives in, then ``pg_temp``, as its whole search path.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DEFINERS = ("sync_stamp()", "sync_tombstone()", "sync_change_seq()", "sync_horizon()")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.scalar(text("SELECT quote_ident(current_schema())"))
    for function in DEFINERS:
        op.execute(f"ALTER FUNCTION {function} SET search_path = {schema}, pg_temp")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in DEFINERS:
        op.execute(f"ALTER FUNCTION {function} SET search_path FROM CURRENT")
