"""evidence records are append-only: the database refuses to change or remove one

Evidence is what gates and promotions rest on; the console never changes a record (a new run
adds a new one), and a changed payload already fails its hash check. The triggers make the
store itself refuse, as it does for the audit trail.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "evidence records are append-only: UPDATE and DELETE are refused"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION evidence_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$""")
        op.execute("CREATE TRIGGER evidence_no_update BEFORE UPDATE OR DELETE ON evidence "
                   "FOR EACH ROW EXECUTE FUNCTION evidence_refuse()")
        op.execute("CREATE TRIGGER evidence_no_truncate BEFORE TRUNCATE ON evidence "
                   "FOR EACH STATEMENT EXECUTE FUNCTION evidence_refuse()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER evidence_no_{verb.lower()} BEFORE {verb} ON evidence "
                       f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER evidence_no_truncate ON evidence")
        op.execute("DROP TRIGGER evidence_no_update ON evidence")
        op.execute("DROP FUNCTION evidence_refuse()")
    else:
        op.execute("DROP TRIGGER evidence_no_delete")
        op.execute("DROP TRIGGER evidence_no_update")
