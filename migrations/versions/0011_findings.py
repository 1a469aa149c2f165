"""findings: what a validator found wrong with a model version, and each step of its life

A finding is raised by a validator against one version, worked by the model's owner and
closed (or accepted as a limitation) by another validator; `worked_by` names who last moved
it to ready for review, whom four eyes keeps from closing it. finding_events is its timeline
(each change also appends an audit event).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("remediation_plan", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("evidence_ids", sa.JSON(), nullable=False),
        sa.Column("decision_ids", sa.JSON(), nullable=False),
        sa.Column("raised_by", sa.String(128), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("worked_by", sa.String(128), nullable=True),
        sa.Column("closed_by", sa.String(128), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_findings_model", "findings", ["model_name", "model_version", "status"])
    op.create_table(
        "finding_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("finding_id", sa.Integer(), sa.ForeignKey("findings.id"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index("ix_finding_events_finding", "finding_events", ["finding_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_finding_events_finding", table_name="finding_events")
    op.drop_table("finding_events")
    op.drop_index("ix_findings_model", table_name="findings")
    op.drop_table("findings")
