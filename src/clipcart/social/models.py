"""Social tables (prefixed social_): follows, likes, saves, shares, comments, reports, blocks
and the per-video/user/shop counters that keep reads cheap."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core.db import Base, IdMixin, TimestampMixin
from clipcart.social.domain import REPORT_REASONS, REPORT_STATUSES, REPORT_TARGETS


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _user_fk() -> ForeignKey:
    return ForeignKey("users.id", ondelete="CASCADE")


def _video_fk() -> ForeignKey:
    return ForeignKey("media_videos.id", ondelete="CASCADE")


class UserFollow(TimestampMixin, Base):
    """One person following another."""

    __tablename__ = "social_user_follows"

    follower_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), primary_key=True)
    followed_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), primary_key=True)

    __table_args__ = (
        CheckConstraint("follower_id <> followed_id", name="not_self"),
        Index("ix_social_user_follows_followed_created", "followed_id", "created_at"),
    )


class ShopFollow(TimestampMixin, Base):
    """One person following a shop."""

    __tablename__ = "social_shop_follows"

    follower_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), primary_key=True)
    shop_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Block(TimestampMixin, Base):
    """`blocker_id` blocked `blocked_id`: they no longer see each other's videos or comments."""

    __tablename__ = "social_blocks"

    blocker_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), primary_key=True)
    blocked_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), primary_key=True, index=True)

    __table_args__ = (CheckConstraint("blocker_id <> blocked_id", name="not_self"),)


class VideoLike(TimestampMixin, Base):
    """A person liking a video."""

    __tablename__ = "social_video_likes"

    user_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), primary_key=True)
    video_id: Mapped[uuid.UUID] = mapped_column(_video_fk(), primary_key=True, index=True)

    __table_args__ = (Index("ix_social_video_likes_user_created", "user_id", "created_at"),)


class Collection(IdMixin, TimestampMixin, Base):
    """A named list of saved videos; every saver has a default one called "Saved"."""

    __tablename__ = "social_collections"

    user_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), index=True)
    name: Mapped[str] = mapped_column(String(60))
    is_default: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (UniqueConstraint("user_id", "name"),)


class Save(TimestampMixin, Base):
    """A video a person saved, in one of their collections."""

    __tablename__ = "social_saves"

    user_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), primary_key=True)
    video_id: Mapped[uuid.UUID] = mapped_column(_video_fk(), primary_key=True, index=True)
    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("social_collections.id", ondelete="CASCADE"), index=True
    )


class Share(IdMixin, TimestampMixin, Base):
    """A share link handed out for a video; the code credits the sharer on later visits."""

    __tablename__ = "social_shares"

    code: Mapped[str] = mapped_column(String(16), unique=True)
    video_id: Mapped[uuid.UUID] = mapped_column(_video_fk(), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    channel: Mapped[str] = mapped_column(String(20))


class Comment(IdMixin, TimestampMixin, Base):
    """A comment on a video, or a reply (one level) to a top-level comment."""

    __tablename__ = "social_comments"

    video_id: Mapped[uuid.UUID] = mapped_column(_video_fk())
    author_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("social_comments.id", ondelete="CASCADE"), default=None, index=True
    )
    body: Mapped[str] = mapped_column(Text)
    is_pinned: Mapped[bool] = mapped_column(default=False)
    is_hidden: Mapped[bool] = mapped_column(default=False)
    like_count: Mapped[int] = mapped_column(default=0)
    reply_count: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        CheckConstraint("like_count >= 0 AND reply_count >= 0", name="counts_not_negative"),
        Index("ix_social_comments_video_created", "video_id", "created_at", "id"),
    )


class CommentLike(TimestampMixin, Base):
    """A person liking a comment."""

    __tablename__ = "social_comment_likes"

    user_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), primary_key=True)
    comment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("social_comments.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CommentMention(Base):
    """A person @mentioned in a comment."""

    __tablename__ = "social_comment_mentions"

    comment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("social_comments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), primary_key=True, index=True)


class Report(IdMixin, TimestampMixin, Base):
    """Someone reporting a video, comment, user or product for a reason."""

    __tablename__ = "social_reports"

    reporter_id: Mapped[uuid.UUID] = mapped_column(_user_fk())
    target_type: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(String(30))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")

    __table_args__ = (
        CheckConstraint(f"target_type IN ({_listed(REPORT_TARGETS)})", name="target_type_known"),
        CheckConstraint(f"reason IN ({_listed(REPORT_REASONS)})", name="reason_known"),
        CheckConstraint(f"status IN ({_listed(REPORT_STATUSES)})", name="status_known"),
        # One open report per reporter and target; closed ones may pile up.
        Index(
            "ix_social_reports_one_open",
            "reporter_id",
            "target_type",
            "target_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_social_reports_target", "target_type", "target_id"),
    )


class VideoCounter(Base):
    """A video's counters, changed only by atomic `SET n = n + k` updates."""

    __tablename__ = "social_video_counters"

    video_id: Mapped[uuid.UUID] = mapped_column(_video_fk(), primary_key=True)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    saves: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    views: Mapped[int] = mapped_column(BigInteger, default=0)


class UserCounter(Base):
    """A person's follower and following counts (following counts people and shops)."""

    __tablename__ = "social_user_counters"

    user_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), primary_key=True)
    followers: Mapped[int] = mapped_column(BigInteger, default=0)
    following: Mapped[int] = mapped_column(BigInteger, default=0)


class ShopCounter(Base):
    """A shop's follower count."""

    __tablename__ = "social_shop_counters"

    shop_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    followers: Mapped[int] = mapped_column(BigInteger, default=0)


class Privacy(Base):
    """A person's social privacy choices (no row: the defaults)."""

    __tablename__ = "social_privacy"

    user_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), primary_key=True)
    likes_public: Mapped[bool] = mapped_column(default=False)
