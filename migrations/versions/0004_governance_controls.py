"""governance controls: the audit chain's head and append-only triggers, sign-in throttling,
policy exceptions, and what a promotion request records about its execution

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
REFUSAL = "audit events are append-only: UPDATE and DELETE are refused"


def upgrade() -> None:
    # One row: the chain's last hash and length. Every audited write updates it first, which
    # serializes writers on SQLite (the write lock) and PostgreSQL (the row lock) alike.
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(head, [{"id": 1, "length": 0, "hash": GENESIS}])
    with op.batch_alter_table("audit_events") as events:
        events.add_column(sa.Column("model_name", sa.String(256), nullable=True))
    op.create_index("ix_audit_model_time", "audit_events", ["model_name", "at"])
    op.create_index("ix_audit_actor_time", "audit_events", ["actor", "at"])
    op.create_index("ix_audit_action_time", "audit_events", ["action", "at"])
    op.create_index("ix_audit_time", "audit_events", ["at"])

    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("failed_sign_ins", sa.Integer(), nullable=False,
                                   server_default="0"))
        users.add_column(sa.Column("last_failed_at", sa.DateTime(), nullable=True))
        users.add_column(sa.Column("last_sign_in_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("promotion_requests") as requests:
        requests.add_column(sa.Column("kind", sa.String(16), nullable=False,
                                      server_default="promotion"))
        requests.add_column(sa.Column("executed_by", sa.String(128), nullable=True))
        requests.add_column(sa.Column("execution_error", sa.Text(), nullable=True))

    op.create_table(
        "policy_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("gates", sa.JSON(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("granted_by", sa.String(128), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["promotion_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_policy_exceptions_request", "policy_exceptions", ["request_id"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$""")
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON "
                   "audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_refuse()")
        op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON "
                       f"audit_events BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_no_update ON audit_events")
        op.execute("DROP FUNCTION audit_events_refuse()")
    else:
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute("DROP TRIGGER audit_events_no_update")
    op.drop_index("ix_policy_exceptions_request", table_name="policy_exceptions")
    op.drop_table("policy_exceptions")
    with op.batch_alter_table("promotion_requests") as requests:
        requests.drop_column("execution_error")
        requests.drop_column("executed_by")
        requests.drop_column("kind")
    with op.batch_alter_table("users") as users:
        users.drop_column("last_sign_in_at")
        users.drop_column("last_failed_at")
        users.drop_column("failed_sign_ins")
    op.drop_index("ix_audit_time", table_name="audit_events")
    op.drop_index("ix_audit_action_time", table_name="audit_events")
    op.drop_index("ix_audit_actor_time", table_name="audit_events")
    op.drop_index("ix_audit_model_time", table_name="audit_events")
    with op.batch_alter_table("audit_events") as events:
        events.drop_column("model_name")
    op.drop_table("audit_head")
