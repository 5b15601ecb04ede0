"""parking tickets: the ticket number is a 64-bit integer

A kiosk numbers its tickets from ``kiosk_number * 10**8``, so kiosk 22 and up hand out numbers
beyond 2**31: a 32-bit column made the centre refuse every ticket of those kiosks. SQLite's
INTEGER is 64-bit already; only PostgreSQL's column changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE parking_tickets ALTER COLUMN ticket_number TYPE bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE parking_tickets ALTER COLUMN ticket_number TYPE integer")
