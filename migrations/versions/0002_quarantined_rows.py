"""quarantined rows: what an ingest refused, with the reason

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quarantined_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batches.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quarantine_batch", "quarantined_rows", ["batch_id", "row_number"])


def downgrade() -> None:
    op.drop_index("ix_quarantine_batch", table_name="quarantined_rows")
    op.drop_table("quarantined_rows")
