"""patients: the patient's language, as the schedule gives it

The scheduling system may say which language a patient speaks (a CSV column, FHIR
``Patient.communication``); the kiosk shows the result in it when the patient has not chosen
one at the kiosk. Nullable: most schedules do not say, and None is "not known".

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patients", sa.Column("language", sa.String(length=2), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later have it): a batch copy of the table would drop
    # the sync triggers on patients.
    op.drop_column("patients", "language")
