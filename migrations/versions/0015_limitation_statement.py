"""findings.applicant_statement: what a decision letter says of a limitation

A finding accepted as a limitation is a validator's working text; the sentence an applicant
reads in a decision letter ("How this model is limited") is written for them when the
limitation is accepted, and only limitations with one are told.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("findings", sa.Column("applicant_statement", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("findings") as table:
        table.drop_column("applicant_statement")
