"""alerts: seen and resolved, by whom and how

An alert is raised, seen by reception and resolved; each step is an outbox event, so the centre
knows which alerts are still open. Until now only printer alerts could be resolved, on the kiosk
alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kiosk.db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("seen_at", kiosk.db.types.UTCDateTime(), nullable=True))
    op.add_column(
        "alerts",
        sa.Column("resolved_by", sa.String(length=40), nullable=False, server_default=""),
    )
    op.add_column(
        "alerts",
        sa.Column("resolution", sa.String(length=200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("resolution")
        batch.drop_column("resolved_by")
        batch.drop_column("seen_at")
