"""catalogue: import jobs with progress and rejected rows

Revision ID: 8e3f6d4a0b54
Revises: 7d2e5c3f9a43
Create Date: 2026-11-24 18:03:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clipcart.core.db

revision: str = "8e3f6d4a0b54"
down_revision: str | None = "7d2e5c3f9a43"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_import_jobs",
        sa.Column("shop_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("unchanged_count", sa.Integer(), nullable=False),
        sa.Column("rejected_rows", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("csv_data", sa.LargeBinary(), nullable=True),
        sa.Column("zip_data", sa.LargeBinary(), nullable=True),
        sa.Column("started_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'finished', 'failed')",
            name=op.f("ck_catalog_import_jobs_status_known"),
        ),
        sa.CheckConstraint(
            "processed_rows >= 0 AND total_rows >= 0",
            name=op.f("ck_catalog_import_jobs_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_catalog_import_jobs_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_catalog_import_jobs_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_import_jobs")),
    )
    with op.batch_alter_table("catalog_import_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_catalog_import_jobs_shop_created", ["shop_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("catalog_import_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_import_jobs_shop_created")
    op.drop_table("catalog_import_jobs")
