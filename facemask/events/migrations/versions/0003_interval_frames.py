"""The frames read in each interval, so an interval a camera was down for reads 0 frames, not 0 people.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("intervals", sa.Column("frames", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intervals") as batch:
        batch.drop_column("frames")
