"""events: the append-only event log the recommender and analytics read

Revision ID: a05b8f6c2d76
Revises: 9f4a7e5b1c65
Create Date: 2026-11-24 18:05:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clipcart.core.db

revision: str = "a05b8f6c2d76"
down_revision: str | None = "9f4a7e5b1c65"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recs_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.SmallInteger(), nullable=False),
        sa.Column("occurred_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("visitor_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("surface", sa.SmallInteger(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("video_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("watch_ms", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("share_code", sa.String(length=64), nullable=True),
        sa.Column("sharer_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recs_events")),
    )
    with op.batch_alter_table("recs_events", schema=None) as batch_op:
        batch_op.create_index("ix_recs_events_occurred_at_id", ["occurred_at", "id"], unique=False)
        batch_op.create_index(
            "ix_recs_events_type_occurred_at", ["type", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_recs_events_user_id_occurred_at", ["user_id", "occurred_at"], unique=False
        )
        batch_op.create_index("ix_recs_events_video_id_type", ["video_id", "type"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recs_events", schema=None) as batch_op:
        batch_op.drop_index("ix_recs_events_video_id_type")
        batch_op.drop_index("ix_recs_events_user_id_occurred_at")
        batch_op.drop_index("ix_recs_events_type_occurred_at")
        batch_op.drop_index("ix_recs_events_occurred_at_id")
    op.drop_table("recs_events")
