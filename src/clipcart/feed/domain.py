"""Pure feed rules: the tabs, and the simple recency + popularity score For You starts from."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Tab = Literal["for_you", "following"]
TABS: tuple[str, ...] = ("for_you", "following")
DEFAULT_PAGE = 8
MAX_PAGE = 30

# A like says more than a view; a day-old video weighs about half as much as a new one.
LIKE_WEIGHT = 3.0
VIEW_WEIGHT = 0.2
HALF_LIFE_HOURS = 24.0


@dataclass(frozen=True)
class Engagement:
    """What the social counters say about one video."""

    likes: int = 0
    views: int = 0
    comments: int = 0
    saves: int = 0
    shares: int = 0


def popularity(engagement: Engagement) -> float:
    """How much people engaged with a video, on a log scale so one hit does not drown the rest."""
    raw = LIKE_WEIGHT * engagement.likes + VIEW_WEIGHT * engagement.views
    raw += 2.0 * (engagement.comments + engagement.saves + engagement.shares)
    return math.log1p(max(0.0, raw))


def freshness(created_at: datetime, now: datetime) -> float:
    """1.0 for a brand-new video, halving every HALF_LIFE_HOURS."""
    hours = max(0.0, (now - created_at).total_seconds() / 3600)
    return float(0.5 ** (hours / HALF_LIFE_HOURS))


def score(engagement: Engagement, created_at: datetime, now: datetime) -> float:
    """The For You score: recency first, popularity lifting what people liked."""
    return freshness(created_at, now) * (1.0 + popularity(engagement))


def clamp_page_size(limit: int | None) -> int:
    """A feed page size between 1 and MAX_PAGE."""
    if limit is None:
        return DEFAULT_PAGE
    return max(1, min(MAX_PAGE, limit))
