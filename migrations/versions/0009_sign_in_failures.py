"""sign-in failures are kept outside the chain, by client address

Pauses were kept per account (two columns of users), so anyone could keep an account locked
out for everybody, and an unknown name was never paused, which told names apart. Failures
now live in their own table keyed by address and name (services.governance.sign_in).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("chained", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_sign_in_failures_address", "sign_in_failures",
                    ["address", "username", "attempted_at"])
    with op.batch_alter_table("users") as users:
        users.drop_column("failed_sign_ins")
        users.drop_column("last_failed_at")


def downgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("last_failed_at", sa.DateTime(), nullable=True))
        users.add_column(sa.Column("failed_sign_ins", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.drop_index("ix_sign_in_failures_address", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
