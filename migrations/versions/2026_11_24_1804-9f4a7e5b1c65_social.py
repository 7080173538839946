"""social: follows, likes, saves, collections, shares, comments, reports, blocks, counters

Revision ID: 9f4a7e5b1c65
Revises: 8e3f6d4a0b54
Create Date: 2026-11-24 18:04:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clipcart.core.db

revision: str = "9f4a7e5b1c65"
down_revision: str | None = "8e3f6d4a0b54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "social_blocks",
        sa.Column("blocker_id", sa.Uuid(), nullable=False),
        sa.Column("blocked_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("blocker_id <> blocked_id", name=op.f("ck_social_blocks_not_self")),
        sa.ForeignKeyConstraint(
            ["blocked_id"],
            ["users.id"],
            name=op.f("fk_social_blocks_blocked_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["blocker_id"],
            ["users.id"],
            name=op.f("fk_social_blocks_blocker_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id", name=op.f("pk_social_blocks")),
    )
    with op.batch_alter_table("social_blocks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_social_blocks_blocked_id"), ["blocked_id"], unique=False
        )

    op.create_table(
        "social_collections",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_social_collections_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_collections")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_social_collections_user_id_name")),
    )
    with op.batch_alter_table("social_collections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_social_collections_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "social_reports",
        sa.Column("reporter_id", sa.Uuid(), nullable=False),
        sa.Column("target_type", sa.String(length=10), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reason IN ('spam', 'scam_or_fraud', 'harassment', 'hate', 'violence', 'nudity', "
            "'counterfeit', 'misleading', 'intellectual_property', 'self_harm', 'other')",
            name=op.f("ck_social_reports_reason_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'resolved', 'dismissed')",
            name=op.f("ck_social_reports_status_known"),
        ),
        sa.CheckConstraint(
            "target_type IN ('video', 'comment', 'user', 'product')",
            name=op.f("ck_social_reports_target_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_social_reports_reporter_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_reports")),
    )
    with op.batch_alter_table("social_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_social_reports_one_open",
            ["reporter_id", "target_type", "target_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.create_index(
            "ix_social_reports_target", ["target_type", "target_id"], unique=False
        )

    op.create_table(
        "social_shop_counters",
        sa.Column("shop_id", sa.Uuid(), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_social_shop_counters_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_social_shop_counters")),
    )
    op.create_table(
        "social_shop_follows",
        sa.Column("follower_id", sa.Uuid(), nullable=False),
        sa.Column("shop_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["users.id"],
            name=op.f("fk_social_shop_follows_follower_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_social_shop_follows_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("follower_id", "shop_id", name=op.f("pk_social_shop_follows")),
    )
    with op.batch_alter_table("social_shop_follows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_social_shop_follows_shop_id"), ["shop_id"], unique=False
        )

    op.create_table(
        "social_user_counters",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=False),
        sa.Column("following", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_social_user_counters_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_social_user_counters")),
    )
    op.create_table(
        "social_user_follows",
        sa.Column("follower_id", sa.Uuid(), nullable=False),
        sa.Column("followed_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "follower_id <> followed_id", name=op.f("ck_social_user_follows_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["followed_id"],
            ["users.id"],
            name=op.f("fk_social_user_follows_followed_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["users.id"],
            name=op.f("fk_social_user_follows_follower_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("follower_id", "followed_id", name=op.f("pk_social_user_follows")),
    )
    with op.batch_alter_table("social_user_follows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_social_user_follows_followed_created", ["followed_id", "created_at"], unique=False
        )

    op.create_table(
        "social_comments",
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_pinned", sa.Boolean(), nullable=False),
        sa.Column("is_hidden", sa.Boolean(), nullable=False),
        sa.Column("like_count", sa.Integer(), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "like_count >= 0 AND reply_count >= 0",
            name=op.f("ck_social_comments_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_social_comments_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["social_comments.id"],
            name=op.f("fk_social_comments_parent_id_social_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["media_videos.id"],
            name=op.f("fk_social_comments_video_id_media_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_comments")),
    )
    with op.batch_alter_table("social_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_social_comments_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_social_comments_parent_id"), ["parent_id"], unique=False
        )
        batch_op.create_index(
            "ix_social_comments_video_created", ["video_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "social_saves",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["social_collections.id"],
            name=op.f("fk_social_saves_collection_id_social_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_social_saves_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["media_videos.id"],
            name=op.f("fk_social_saves_video_id_media_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "video_id", name=op.f("pk_social_saves")),
    )
    with op.batch_alter_table("social_saves", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_social_saves_collection_id"), ["collection_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_social_saves_video_id"), ["video_id"], unique=False)

    op.create_table(
        "social_shares",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_social_shares_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["media_videos.id"],
            name=op.f("fk_social_shares_video_id_media_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_shares")),
        sa.UniqueConstraint("code", name=op.f("uq_social_shares_code")),
    )
    with op.batch_alter_table("social_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_social_shares_video_id"), ["video_id"], unique=False)

    op.create_table(
        "social_video_counters",
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("likes", sa.BigInteger(), nullable=False),
        sa.Column("comments", sa.BigInteger(), nullable=False),
        sa.Column("saves", sa.BigInteger(), nullable=False),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["media_videos.id"],
            name=op.f("fk_social_video_counters_video_id_media_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("video_id", name=op.f("pk_social_video_counters")),
    )
    op.create_table(
        "social_video_likes",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_social_video_likes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["media_videos.id"],
            name=op.f("fk_social_video_likes_video_id_media_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "video_id", name=op.f("pk_social_video_likes")),
    )
    with op.batch_alter_table("social_video_likes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_social_video_likes_user_created", ["user_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_social_video_likes_video_id"), ["video_id"], unique=False
        )

    op.create_table(
        "social_comment_likes",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("comment_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["social_comments.id"],
            name=op.f("fk_social_comment_likes_comment_id_social_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_social_comment_likes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "comment_id", name=op.f("pk_social_comment_likes")),
    )
    with op.batch_alter_table("social_comment_likes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_social_comment_likes_comment_id"), ["comment_id"], unique=False
        )

    op.create_table(
        "social_comment_mentions",
        sa.Column("comment_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["social_comments.id"],
            name=op.f("fk_social_comment_mentions_comment_id_social_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_social_comment_mentions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", "user_id", name=op.f("pk_social_comment_mentions")),
    )
    with op.batch_alter_table("social_comment_mentions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_social_comment_mentions_user_id"), ["user_id"], unique=False
        )
    op.create_table(
        "social_privacy",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("likes_public", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_social_privacy_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_social_privacy")),
    )


def downgrade() -> None:
    op.drop_table("social_privacy")
    with op.batch_alter_table("social_comment_mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_comment_mentions_user_id"))

    op.drop_table("social_comment_mentions")
    with op.batch_alter_table("social_comment_likes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_comment_likes_comment_id"))

    op.drop_table("social_comment_likes")
    with op.batch_alter_table("social_video_likes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_video_likes_video_id"))
        batch_op.drop_index("ix_social_video_likes_user_created")

    op.drop_table("social_video_likes")
    op.drop_table("social_video_counters")
    with op.batch_alter_table("social_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_shares_video_id"))

    op.drop_table("social_shares")
    with op.batch_alter_table("social_saves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_saves_video_id"))
        batch_op.drop_index(batch_op.f("ix_social_saves_collection_id"))

    op.drop_table("social_saves")
    with op.batch_alter_table("social_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_social_comments_video_created")
        batch_op.drop_index(batch_op.f("ix_social_comments_parent_id"))
        batch_op.drop_index(batch_op.f("ix_social_comments_author_id"))

    op.drop_table("social_comments")
    with op.batch_alter_table("social_user_follows", schema=None) as batch_op:
        batch_op.drop_index("ix_social_user_follows_followed_created")

    op.drop_table("social_user_follows")
    op.drop_table("social_user_counters")
    with op.batch_alter_table("social_shop_follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_shop_follows_shop_id"))

    op.drop_table("social_shop_follows")
    op.drop_table("social_shop_counters")
    with op.batch_alter_table("social_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_social_reports_target")
        batch_op.drop_index(
            "ix_social_reports_one_open",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.drop_table("social_reports")
    with op.batch_alter_table("social_collections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_collections_user_id"))

    op.drop_table("social_collections")
    with op.batch_alter_table("social_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_blocks_blocked_id"))

    op.drop_table("social_blocks")
