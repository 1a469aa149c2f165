"""model health snapshots: what `govern monitor` judged of each served model, so the portfolio
reads one row per model instead of the decision log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_health",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("backfilled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("pillars", sa.JSON(), nullable=False),
        sa.Column("activity", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_model_health_model_time", "model_health", ["model_name", "as_of"])
    op.create_index("ix_model_health_time", "model_health", ["as_of"])


def downgrade() -> None:
    op.drop_index("ix_model_health_time", "model_health")
    op.drop_index("ix_model_health_model_time", "model_health")
    op.drop_table("model_health")
