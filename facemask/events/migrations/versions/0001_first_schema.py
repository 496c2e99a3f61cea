"""The first schema: settled people, interval tallies and camera status changes.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _common() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
    ]


def _time(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "people",
        *_common(),
        sa.Column("zone", sa.Text, nullable=False),
        sa.Column("track_id", sa.Integer, nullable=False),
        _time("first_seen"),
        _time("last_seen"),
        sa.Column("frames", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(40), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
    )
    op.create_table(
        "intervals",
        *_common(),
        sa.Column("zone", sa.Text, nullable=False),
        _time("start_at"),
        _time("end_at"),
        sa.Column("people", sa.Integer, nullable=False),
        sa.Column("masked", sa.Integer, nullable=False),
        sa.Column("unmasked", sa.Integer, nullable=False),
        sa.Column("compliance_rate", sa.Float),
    )
    op.create_table(
        "camera_status",
        *_common(),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        _time("at"),
    )
    for table, when in (("people", "first_seen"), ("intervals", "start_at"), ("camera_status", "at")):
        op.create_index(f"uq_{table}_key", table, ["key"], unique=True)
        op.create_index(f"ix_{table}_source_time", table, ["source", when])


def downgrade() -> None:
    for table in ("camera_status", "intervals", "people"):
        op.drop_table(table)
