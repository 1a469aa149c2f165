"""notifications: an outbox of e-mails and signed webhooks, and who wants which by e-mail

A notification row is written in the transaction of the act that causes it (an alert opened,
a promotion request waiting, a finding assigned or past due, a review due, a broken chain), one
per recipient and channel, so a notification exists exactly when its act committed. Delivery
happens after commit and updates the row (status, attempts, next_attempt_at, last_error,
delivered_at): these are operational state, not audit events. `dedup_key` keeps a repeated
"finding past due" or "review due" from being sent at every monitor run.
notification_preferences holds a person's choice per kind (no row: the default, on); changing
it is an audit event.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("address", sa.String(2048), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_notifications_due", "notifications", ["status", "next_attempt_at"])
    op.create_index("ix_notifications_created", "notifications", ["created_at"])
    op.create_index("uq_notifications_once", "notifications",
                    ["kind", "dedup_key", "channel", "recipient"], unique=True)
    op.create_table(
        "notification_preferences",
        sa.Column("account", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notification_preferences")
    op.drop_index("uq_notifications_once", table_name="notifications")
    op.drop_index("ix_notifications_created", table_name="notifications")
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.drop_table("notifications")
