"""decision counts per day, and fewer, wider decision indexes

The monitor and the portfolio's activity count acted-on decisions per model and outcome over
windows of days: `decision_days` holds those counts, kept by every write, so a count costs one
row per day and outcome instead of a scan of the log. The decision indexes are folded so an
ingest maintains four full B-trees instead of eight: the model index carries time, shadow,
outcome, score and threshold (a model's searches, score ranges and control check read the index
alone), the time index shadow and outcome, and the review queue's and the shadow twins'
indexes hold only the rows they look for. Outcomes carry their decision's model, so a
model's recent labels are found from the outcomes instead of from all its recent decisions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {
    "ix_decisions_model_time": ["model_name", "decided_at"],
    "ix_decisions_outcome_time": ["outcome", "decided_at"],
    "ix_decisions_request": ["request_id"],
    "ix_decisions_shadow_time_outcome": ["shadow", "decided_at", "outcome"],
    "ix_decisions_model_shadow_outcome_time": ["model_name", "shadow", "outcome", "decided_at"],
    "ix_decisions_model_score": ["model_name", "score", "shadow", "outcome"],
}


def _partial(sqlite: str, postgresql: str) -> dict[str, sa.TextClause]:
    return {"sqlite_where": sa.text(sqlite), "postgresql_where": sa.text(postgresql)}


def upgrade() -> None:
    op.create_table(
        "decision_days",
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("model_name", "day", "model_version", "outcome"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    day, acted = ("CAST(decided_at AS date)", "shadow IS false") if postgresql else \
        ("date(decided_at)", "shadow IS 0")
    op.execute(
        "INSERT INTO decision_days (model_name, model_version, day, outcome, decisions) "
        f"SELECT model_name, model_version, {day}, outcome, count(*) FROM decisions "
        f"WHERE {acted} GROUP BY model_name, model_version, {day}, outcome")
    _outcomes_know_their_model()
    for name in DROPPED:
        op.drop_index(name, table_name="decisions")
    op.create_index("ix_decisions_model_time", "decisions",
                    ["model_name", "decided_at", "shadow", "outcome", "score", "threshold"])
    op.create_index("ix_decisions_time", "decisions", ["decided_at", "shadow", "outcome"])
    op.create_index("ix_decisions_waiting", "decisions", ["decided_at"], **_partial(
        "shadow IS 0 AND outcome IN ('escalated', 'error')",
        "shadow IS false AND outcome IN ('escalated', 'error')"))
    op.create_index("ix_decisions_request", "decisions", ["request_id"], **_partial(
        "request_id IS NOT NULL", "request_id IS NOT NULL"))


def _outcomes_know_their_model() -> None:
    op.add_column("outcomes", sa.Column("model_name", sa.String(256), nullable=True))
    op.execute("UPDATE outcomes SET model_name = (SELECT model_name FROM decisions "
               "WHERE decisions.decision_id = outcomes.decision_id)")
    with op.batch_alter_table("outcomes") as batch:  # SQLite: the table is copied
        batch.alter_column("model_name", existing_type=sa.String(256), nullable=False)
    op.create_index("ix_outcomes_model_time", "outcomes", ["model_name", "observed_at"])


def downgrade() -> None:
    op.drop_index("ix_outcomes_model_time", table_name="outcomes")
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("model_name")
    for name in ("ix_decisions_request", "ix_decisions_waiting", "ix_decisions_time",
                 "ix_decisions_model_time"):
        op.drop_index(name, table_name="decisions")
    for name, columns in DROPPED.items():
        op.create_index(name, "decisions", columns)
    op.drop_table("decision_days")
