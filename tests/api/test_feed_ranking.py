"""Freshness and page sizes (feed.domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clipcart.feed.domain import clamp_page_size, freshness

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_freshness_halves_every_day_and_the_future_counts_as_now() -> None:
    assert freshness(NOW, NOW) == 1.0
    assert abs(freshness(NOW - timedelta(hours=24), NOW) - 0.5) < 1e-9
    assert freshness(NOW + timedelta(hours=1), NOW) == 1.0


def test_page_size_is_clamped() -> None:
    assert clamp_page_size(None) == 8
    assert clamp_page_size(0) == 1
    assert clamp_page_size(1000) == 30
