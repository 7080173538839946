"""Which hashtags For You's topics source follows: the viewer's best lately, always with the
best of the video they liked last, so a new interest shows on the very next page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from clipcart.feed.engine import TOPICS, liked_hashtags
from clipcart.media.discovery import VideoFacts
from clipcart.recs.online import UserSignals

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def facts(*hashtags: str) -> VideoFacts:
    return VideoFacts(uuid.uuid4(), uuid.uuid4(), None, NOW, tuple(hashtags), ())


def signals_for(liked: list[tuple[VideoFacts, float]]) -> UserSignals:
    """Signals of liking these videos in this order (the last one most recently)."""
    return UserSignals(
        video_taste={video.id: weight for video, weight in liked},
        history=[video.id for video, _ in liked],
        history_weights=[weight for _, weight in liked],
    )


def test_a_new_interest_joins_the_topics_at_once() -> None:
    old = [facts(tag) for tag in ("cooking", "coffee", "travel", "garden") for _ in range(3)]
    hiking = facts("hiking")
    liked = [(video, 2.0) for video in old] + [(hiking, 2.0)]
    videos = {video.id: video for video, _ in liked}
    topics = liked_hashtags(signals_for(liked), videos)
    assert len(topics) == TOPICS
    assert "hiking" in topics  # one like of it against three of each older topic


def test_the_topics_are_the_best_when_the_last_like_is_one_of_them() -> None:
    cooking = [facts("cooking", "food") for _ in range(4)]
    coffee = [facts("coffee") for _ in range(2)]
    skipped = facts("news")
    liked = [(video, 2.0) for video in coffee] + [(video, 2.0) for video in cooking]
    liked.append((skipped, -1.0))  # a skip is not a like: never a topic
    videos = {video.id: video for video, _ in liked}
    signals = signals_for(liked)
    signals.history.remove(skipped.id)
    assert liked_hashtags(signals, videos) == ("coffee", "cooking", "food")


def test_no_likes_no_topics() -> None:
    assert liked_hashtags(UserSignals(), {}) == ()
