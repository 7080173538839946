"""The For You score (feed.domain): newer ranks higher at equal engagement, more engagement
ranks higher at equal age, and one viral video does not bury everything for ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from clipcart.feed.domain import Engagement, clamp_page_size, freshness, score

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
counts = st.integers(min_value=0, max_value=10_000_000)
ages = st.floats(min_value=0, max_value=24 * 365, allow_nan=False)


@given(likes=counts, views=counts, younger=ages, extra=st.floats(min_value=0.01, max_value=500))
def test_newer_wins_at_equal_engagement(likes: int, views: int, younger: float, extra: float):
    engagement = Engagement(likes=likes, views=views)
    new = score(engagement, NOW - timedelta(hours=younger), NOW)
    old = score(engagement, NOW - timedelta(hours=younger + extra), NOW)
    assert new >= old


@given(likes=counts, more=st.integers(min_value=1, max_value=1000), age=ages)
def test_more_likes_win_at_equal_age(likes: int, more: int, age: float):
    created = NOW - timedelta(hours=min(age, 240))
    assert score(Engagement(likes=likes + more), created, NOW) > score(
        Engagement(likes=likes), created, NOW
    )


def test_a_viral_video_from_last_month_yields_to_a_fresh_one():
    viral = score(Engagement(likes=1_000_000, views=50_000_000), NOW - timedelta(days=30), NOW)
    fresh = score(Engagement(), NOW - timedelta(minutes=5), NOW)
    assert fresh > viral


def test_freshness_halves_every_day_and_the_future_counts_as_now():
    assert freshness(NOW, NOW) == 1.0
    assert abs(freshness(NOW - timedelta(hours=24), NOW) - 0.5) < 1e-9
    assert freshness(NOW + timedelta(hours=1), NOW) == 1.0


def test_page_size_is_clamped():
    assert clamp_page_size(None) == 8
    assert clamp_page_size(0) == 1
    assert clamp_page_size(1000) == 30
