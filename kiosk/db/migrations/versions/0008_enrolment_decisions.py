"""enrolments: the team's decisions at the gates between phases

A programme file names the gates of its trajectory (the team decision after the pre-programme:
go or an alternative plan). Staff record each decision; the enrolment keeps them as
``GATE:go`` / ``GATE:alternative`` words, comma-separated, and the audit trail keeps who, when
and why.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "enrolments",
        sa.Column("decisions", sa.String(length=200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later have it): a batch copy of the table would drop
    # the sync triggers on enrolments.
    op.drop_column("enrolments", "decisions")
