"""Pure feed rules: the tabs, page sizes, the counters a video is hydrated with, and how
freshness decays (the For You ranking itself is feed.ranking)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Tab = Literal["for_you", "following"]
TABS: tuple[str, ...] = ("for_you", "following")
DEFAULT_PAGE = 8
MAX_PAGE = 30

HALF_LIFE_HOURS = 24.0  # a day-old video is half as fresh as a new one


@dataclass(frozen=True)
class Engagement:
    """What the social counters say about one video."""

    likes: int = 0
    views: int = 0
    comments: int = 0
    saves: int = 0
    shares: int = 0


def freshness(created_at: datetime, now: datetime) -> float:
    """1.0 for a brand-new video, halving every HALF_LIFE_HOURS."""
    hours = max(0.0, (now - created_at).total_seconds() / 3600)
    return float(0.5 ** (hours / HALF_LIFE_HOURS))


def clamp_page_size(limit: int | None) -> int:
    """A feed page size between 1 and MAX_PAGE."""
    if limit is None:
        return DEFAULT_PAGE
    return max(1, min(MAX_PAGE, limit))
