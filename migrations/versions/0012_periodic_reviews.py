"""periodic reviews: a validator's review of a model, its state frozen then, append-only

SR 26-2's risk-based review: each row records who reviewed which version when, the
conclusion (continue, continue with conditions, remediate, retire) with its justification and
conditions, the triggers that had fired, the model's state at that moment as canonical JSON
with its SHA-256, and when the next review falls due. A review is never changed (a later one
adds a row): triggers make the database refuse UPDATE and DELETE, as for evidence (0007).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "periodic reviews are append-only: UPDATE and DELETE are refused"


def upgrade() -> None:
    op.create_table(
        "periodic_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=False),
        sa.Column("reviewed_by", sa.String(128), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
        sa.Column("conclusion", sa.String(32), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("triggers", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("state_sha256", sa.String(64), nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("next_due_on", sa.Date(), nullable=False),
    )
    op.create_index("ix_periodic_reviews_model", "periodic_reviews",
                    ["model_name", "reviewed_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION periodic_reviews_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$""")
        op.execute("CREATE TRIGGER periodic_reviews_no_update BEFORE UPDATE OR DELETE ON "
                   "periodic_reviews FOR EACH ROW EXECUTE FUNCTION periodic_reviews_refuse()")
        op.execute("CREATE TRIGGER periodic_reviews_no_truncate BEFORE TRUNCATE ON "
                   "periodic_reviews FOR EACH STATEMENT "
                   "EXECUTE FUNCTION periodic_reviews_refuse()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER periodic_reviews_no_{verb.lower()} BEFORE {verb} ON "
                       f"periodic_reviews BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER periodic_reviews_no_truncate ON periodic_reviews")
        op.execute("DROP TRIGGER periodic_reviews_no_update ON periodic_reviews")
        op.execute("DROP FUNCTION periodic_reviews_refuse()")
    else:
        op.execute("DROP TRIGGER periodic_reviews_no_delete")
        op.execute("DROP TRIGGER periodic_reviews_no_update")
    op.drop_index("ix_periodic_reviews_model", table_name="periodic_reviews")
    op.drop_table("periodic_reviews")
