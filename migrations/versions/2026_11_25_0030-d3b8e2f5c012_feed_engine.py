"""feed engine: video trend counters, feed preferences, shop status

Revision ID: d3b8e2f5c012
Revises: c2a7f1e4b901
Create Date: 2026-11-25 00:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clipcart.core.db

revision: str = "d3b8e2f5c012"
down_revision: str | None = "c2a7f1e4b901"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recs_video_trends",
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("video_id", name=op.f("pk_recs_video_trends")),
    )
    op.create_index("ix_recs_video_trends_score", "recs_video_trends", ["score"])
    op.create_table(
        "recs_feed_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("shopping_mix", sa.SmallInteger(), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("updated_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recs_feed_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_recs_feed_preferences")),
    )
    with op.batch_alter_table("shops") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=12), server_default="active", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("status")
    op.drop_table("recs_feed_preferences")
    op.drop_index("ix_recs_video_trends_score", table_name="recs_video_trends")
    op.drop_table("recs_video_trends")
