"""decision searches by a subject's beginning in any case, and by a decision id's beginning

A subject is found by the start of its reference in any letter case, so the subject index
holds lower(subject_ref) instead of subject_ref (it replaces it: one index, as before, for
every ingested row to pay for). Prefixes are searched as ranges in code-point order
(prefix <= value < the prefix with its last character incremented): SQLite compares bytes,
so its indexes serve as they are; on PostgreSQL both expressions are taken COLLATE "C",
because a language's collation orders a prefix's extensions elsewhere and its index could
not answer the range. decision_id's unique index already serves SQLite.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    collate = ' COLLATE "C"' if postgres else ""
    op.drop_index("ix_decisions_subject_time", table_name="decisions")
    op.execute(f"CREATE INDEX ix_decisions_subject_lower_time ON decisions "
               f"((lower(subject_ref)){collate}, decided_at)")
    if postgres:
        op.execute('CREATE INDEX ix_decisions_id_prefix ON decisions (decision_id COLLATE "C")')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_decisions_id_prefix", table_name="decisions")
    op.drop_index("ix_decisions_subject_lower_time", table_name="decisions")
    op.create_index("ix_decisions_subject_time", "decisions", ["subject_ref", "decided_at"])
