"""The append-only event log, the trend counters it feeds, and each person's feed settings."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core.db import Base


class RecsEvent(Base):
    """One thing a person did on a page; rows are only ever inserted.

    No foreign keys on purpose: the log is written on the hot path in bulk and outlives the rows
    it mentions (a deleted video's history still trains the recommender); readers join softly.
    """

    __tablename__ = "recs_events"
    # Every index costs each insert: only those a reader uses. Visitors' events (no user_id)
    # are never looked up by person, so the person index holds signed-in people's only.
    __table_args__ = (
        Index(
            "ix_recs_events_user_id_occurred_at",
            "user_id",
            "occurred_at",
            postgresql_where=text("user_id IS NOT NULL"),
            sqlite_where=text("user_id IS NOT NULL"),
        ),
        Index("ix_recs_events_video_id_type", "video_id", "type"),
        # Time follows the insert order: a BRIN index finds a window (training) for almost
        # nothing per insert, where a B-tree's right edge was a hot spot (a sixth of the
        # database's work per event). SQLite makes it a B-tree.
        Index(
            "ix_recs_events_occurred_at",
            "occurred_at",
            postgresql_using="brin",
            postgresql_with={"autosummarize": "on"},
        ),
    )

    # The client's UUID: the same event sent twice is stored once.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    type: Mapped[int] = mapped_column(SmallInteger)
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    user_id: Mapped[uuid.UUID | None]
    visitor_id: Mapped[uuid.UUID | None]
    session_id: Mapped[str | None] = mapped_column(String(64))
    surface: Mapped[int | None] = mapped_column(SmallInteger)
    position: Mapped[int | None] = mapped_column(Integer)
    video_id: Mapped[uuid.UUID | None]
    product_id: Mapped[uuid.UUID | None]
    variant_id: Mapped[uuid.UUID | None]
    target_id: Mapped[uuid.UUID | None]
    watch_ms: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    completed: Mapped[bool | None] = mapped_column(Boolean)
    channel: Mapped[str | None] = mapped_column(String(32))
    share_code: Mapped[str | None] = mapped_column(String(64))
    sharer_id: Mapped[uuid.UUID | None]


class VideoTrend(Base):
    """A video's time-decayed engagement, kept as it arrives (see `recs.domain.trend_units`).

    `score` is in units that grow by half every TREND_HALF_LIFE after TREND_EPOCH, so adding an
    event never needs the old value decayed first: an upsert adds, and dividing by the unit of
    now gives today's decayed score. Ordering by `score` is ordering by the decayed score.
    """

    __tablename__ = "recs_video_trends"
    __table_args__ = (Index("ix_recs_video_trends_score", "score"),)

    video_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)


class FeedPreferences(Base):
    """What a person told the feed: how much shopping they want, and what they are into."""

    __tablename__ = "recs_feed_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # -1 more entertainment, 0 balanced, +1 more shopping (recs.domain.SHOPPING_MIXES)
    shopping_mix: Mapped[int] = mapped_column(SmallInteger, default=0)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime]
