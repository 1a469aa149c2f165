"""indexes that let decision searches count and page from the index alone

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_decisions_shadow_time_outcome": ["shadow", "decided_at", "outcome"],
    "ix_decisions_model_shadow_outcome_time": ["model_name", "shadow", "outcome", "decided_at"],
    "ix_decisions_model_score": ["model_name", "score", "shadow", "outcome"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "decisions", columns)
    # A subject's decisions, newest first, straight from the index.
    op.drop_index("ix_decisions_subject", table_name="decisions")
    op.create_index("ix_decisions_subject_time", "decisions", ["subject_ref", "decided_at"])


def downgrade() -> None:
    op.drop_index("ix_decisions_subject_time", table_name="decisions")
    op.create_index("ix_decisions_subject", "decisions", ["subject_ref"])
    for name in INDEXES:
        op.drop_index(name, table_name="decisions")
