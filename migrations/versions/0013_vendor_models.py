"""vendor models: the documents received with a model the organisation did not train

A vendor model is an MLflow registered model tagged model_kind = vendor whose versions carry
no executable flavor (only an MLmodel file with the input signature the vendor documents).
What the vendor supplied (model documentation, validation reports, change notices) is kept
here: its bytes, their SHA-256 and who recorded it when. Documents are append-only: a new
document is a new row, and the database refuses to change or remove one, as for evidence.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "vendor documents are append-only: UPDATE and DELETE are refused"


def upgrade() -> None:
    op.create_table(
        "vendor_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("file_name", sa.String(256), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_vendor_documents_model", "vendor_documents",
                    ["model_name", "recorded_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION vendor_documents_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$""")
        op.execute("CREATE TRIGGER vendor_documents_no_update BEFORE UPDATE OR DELETE ON "
                   "vendor_documents FOR EACH ROW EXECUTE FUNCTION vendor_documents_refuse()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER vendor_documents_no_{verb.lower()} BEFORE {verb} ON "
                       f"vendor_documents BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER vendor_documents_no_update ON vendor_documents")
        op.execute("DROP FUNCTION vendor_documents_refuse()")
    else:
        op.execute("DROP TRIGGER vendor_documents_no_delete")
        op.execute("DROP TRIGGER vendor_documents_no_update")
    op.drop_index("ix_vendor_documents_model", table_name="vendor_documents")
    op.drop_table("vendor_documents")
