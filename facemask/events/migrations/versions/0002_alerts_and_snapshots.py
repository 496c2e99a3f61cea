"""Alerts, and a snapshot file for each unmasked person.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("people", sa.Column("snapshot", sa.Text, nullable=True))
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("rule_kind", sa.String(40), nullable=False),
        sa.Column("zone", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("uq_alerts_key", "alerts", ["key"], unique=True)
    op.create_index("ix_alerts_source_time", "alerts", ["source", "at"])


def downgrade() -> None:
    op.drop_table("alerts")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("snapshot")
