"""media: videos, transcode jobs, product tags

Revision ID: 6c1d4b2e8f32
Revises: 5b0c3a1d7e21
Create Date: 2026-11-24 18:01:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clipcart.core.db

revision: str = "6c1d4b2e8f32"
down_revision: str | None = "5b0c3a1d7e21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_videos",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("shop_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("cover_time", sa.Float(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("source_width", sa.Integer(), nullable=True),
        sa.Column("source_height", sa.Integer(), nullable=True),
        sa.Column("source_codec", sa.String(length=32), nullable=True),
        sa.Column("source_has_audio", sa.Boolean(), nullable=False),
        sa.Column("source_bytes", sa.Integer(), nullable=False),
        sa.Column("has_audio", sa.Boolean(), nullable=False),
        sa.Column("poster_version", sa.Integer(), nullable=False),
        sa.Column("ready_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('processing', 'ready', 'failed')", name=op.f("ck_media_videos_status_known")
        ),
        sa.CheckConstraint(
            "visibility IN ('public', 'followers', 'private')",
            name=op.f("ck_media_videos_visibility_known"),
        ),
        sa.CheckConstraint(
            "cover_time IS NULL OR cover_time >= 0",
            name=op.f("ck_media_videos_cover_time_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_media_videos_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_media_videos_shop_id_shops"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_videos")),
    )
    with op.batch_alter_table("media_videos", schema=None) as batch_op:
        batch_op.create_index(
            "ix_media_videos_owner_created", ["owner_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_media_videos_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(
            "ix_media_videos_status_visibility_created",
            ["status", "visibility", "created_at"],
            unique=False,
        )

    op.create_table(
        "media_video_hashtags",
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["media_videos.id"],
            name=op.f("fk_media_video_hashtags_video_id_media_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("video_id", "name", name=op.f("pk_media_video_hashtags")),
    )
    with op.batch_alter_table("media_video_hashtags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_video_hashtags_name"), ["name"], unique=False)

    op.create_table(
        "media_video_tags",
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("start_seconds", sa.Float(), nullable=True),
        sa.Column("end_seconds", sa.Float(), nullable=True),
        sa.Column("tagged_by_id", sa.Uuid(), nullable=True),
        sa.Column("grounds", sa.String(length=32), nullable=False),
        sa.Column("collaboration_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "grounds <> 'affiliate_collaboration' OR collaboration_id IS NOT NULL",
            name=op.f("ck_media_video_tags_collaboration_for_affiliate"),
        ),
        sa.CheckConstraint(
            "grounds IN ('own_shop', 'affiliate_collaboration')",
            name=op.f("ck_media_video_tags_grounds_known"),
        ),
        sa.CheckConstraint(
            "end_seconds IS NULL OR end_seconds > coalesce(start_seconds, 0)",
            name=op.f("ck_media_video_tags_end_after_start"),
        ),
        sa.CheckConstraint(
            "start_seconds IS NULL OR start_seconds >= 0",
            name=op.f("ck_media_video_tags_start_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_media_video_tags_product_id_catalog_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tagged_by_id"],
            ["users.id"],
            name=op.f("fk_media_video_tags_tagged_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["media_videos.id"],
            name=op.f("fk_media_video_tags_video_id_media_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_video_tags")),
        sa.UniqueConstraint(
            "video_id", "product_id", name=op.f("uq_media_video_tags_video_id_product_id")
        ),
    )
    with op.batch_alter_table("media_video_tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_media_video_tags_product_id"), ["product_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("media_video_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_video_tags_product_id"))

    op.drop_table("media_video_tags")
    with op.batch_alter_table("media_video_hashtags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_video_hashtags_name"))

    op.drop_table("media_video_hashtags")
    with op.batch_alter_table("media_videos", schema=None) as batch_op:
        batch_op.drop_index("ix_media_videos_status_visibility_created")
        batch_op.drop_index(batch_op.f("ix_media_videos_shop_id"))
        batch_op.drop_index("ix_media_videos_owner_created")

    op.drop_table("media_videos")
