"""Video tables: uploaded videos and the products tagged in them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clipcart.core import clock
from clipcart.core.db import Base, IdMixin, TimestampMixin
from clipcart.media.domain import GROUNDS, STATUSES, VISIBILITIES


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class Video(IdMixin, TimestampMixin, Base):
    """A short video uploaded by a user, optionally on behalf of a shop."""

    __tablename__ = "media_videos"

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    shop_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("shops.id", ondelete="SET NULL"), default=None, index=True
    )
    status: Mapped[str] = mapped_column(String(12), default="processing")
    failure_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    caption: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    cover_time: Mapped[float | None] = mapped_column(Float, default=None)
    duration_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    source_width: Mapped[int | None] = mapped_column(default=None)
    source_height: Mapped[int | None] = mapped_column(default=None)
    source_codec: Mapped[str | None] = mapped_column(String(32), default=None)
    source_has_audio: Mapped[bool] = mapped_column(default=False)
    source_bytes: Mapped[int] = mapped_column(default=0)
    has_audio: Mapped[bool] = mapped_column(default=False)
    poster_version: Mapped[int] = mapped_column(default=0)
    ready_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    tags: Mapped[list[VideoTag]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="VideoTag.position",
    )
    hashtags: Mapped[list[VideoHashtag]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint(f"status IN ({_listed(STATUSES)})", name="status_known"),
        CheckConstraint(f"visibility IN ({_listed(VISIBILITIES)})", name="visibility_known"),
        CheckConstraint("cover_time IS NULL OR cover_time >= 0", name="cover_time_not_negative"),
        Index("ix_media_videos_owner_created", "owner_id", "created_at", "id"),
        Index("ix_media_videos_status_visibility_created", "status", "visibility", "created_at"),
    )


class VideoTag(IdMixin, TimestampMixin, Base):
    """A product shown in a video, optionally only during a time range.

    `grounds` says why the tagger may tag it: their own shop's product ("own_shop"), or, once
    the affiliate programme exists, an accepted collaboration ("affiliate_collaboration")."""

    __tablename__ = "media_video_tags"

    video_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("media_videos.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_products.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    start_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    end_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    tagged_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    grounds: Mapped[str] = mapped_column(String(32))
    collaboration_id: Mapped[uuid.UUID | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("video_id", "product_id"),
        CheckConstraint(f"grounds IN ({_listed(GROUNDS)})", name="grounds_known"),
        CheckConstraint(
            "grounds <> 'affiliate_collaboration' OR collaboration_id IS NOT NULL",
            name="collaboration_for_affiliate",
        ),
        CheckConstraint("start_seconds IS NULL OR start_seconds >= 0", name="start_not_negative"),
        CheckConstraint(
            "end_seconds IS NULL OR end_seconds > coalesce(start_seconds, 0)",
            name="end_after_start",
        ),
    )


class VideoHashtag(Base):
    """A #hashtag used in a video's caption (lower case, without '#'), for /tag/{name}."""

    __tablename__ = "media_video_hashtags"

    video_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("media_videos.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
