"""What For You keeps in memory between requests, in each process, for a bounded time.

Ranking looks at a few hundred candidates per request; reading their rows every time cost more
than everything else together. So each process keeps, with a time to live:
- each video's ranking facts (owner, shop, time, hashtags, tagged products): 5 minutes;
- counters, trends and the facts of tagged products: seconds;
- the candidate lists (newest, fresh, trending, by hashtag, by the accounts followed, by
  the products wanted), keyed by what they were asked: a few seconds.
Nothing here decides what a viewer may see: the page's own videos are read again, with their
visibility, counters and chips, when the page is hydrated. A viewer's own signals, settings,
follows and blocks are never cached, so their effect on the next page is immediate.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Hashable
from datetime import datetime
from typing import Any, TypeVar

from cachetools import TTLCache
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.catalog import service as catalog
from clipcart.feed import social
from clipcart.feed.config import get_feed_settings
from clipcart.feed.domain import Engagement
from clipcart.media import service as media
from clipcart.recs import service as recs

FACTS_SECONDS = 300
NUMBERS_SECONDS = 10
MAX_ENTRIES = 250_000

_facts: TTLCache[uuid.UUID, media.VideoFacts | None] = TTLCache(MAX_ENTRIES, FACTS_SECONDS)
_counts: TTLCache[uuid.UUID, Engagement] = TTLCache(MAX_ENTRIES, NUMBERS_SECONDS)
_trends: TTLCache[uuid.UUID, float] = TTLCache(MAX_ENTRIES, NUMBERS_SECONDS)
_chips: TTLCache[uuid.UUID, catalog.ChipFacts | None] = TTLCache(MAX_ENTRIES, NUMBERS_SECONDS)
# Room for the global lists and the per-follow-set and per-intent lists of the viewers active in
# the last few seconds (each a few hundred ids).
_lists: TTLCache[Hashable, Any] = TTLCache(2048, get_feed_settings().feed_shared_list_seconds or 1)

K = TypeVar("K")
V = TypeVar("V")


def clear() -> None:
    """Forget everything (tests, and after bulk changes such as loading a world)."""
    for cache in (_facts, _counts, _trends, _chips, _lists):
        cache.clear()


async def _through(
    cache: TTLCache[K, V],
    keys: Collection[K],
    load: Callable[[list[K]], Awaitable[dict[K, V]]],
    missing: V,
) -> dict[K, V]:
    """Values for `keys` from the cache, loading the absent ones in one batch."""
    found: dict[K, V] = {}
    absent: list[K] = []
    for key in keys:
        try:
            found[key] = cache[key]
        except KeyError:
            absent.append(key)
    if absent:
        loaded = await load(absent)
        for key in absent:
            value = loaded.get(key, missing)
            cache[key] = value
            found[key] = value
    return found


async def video_facts(
    video_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, media.VideoFacts]:
    """Ranking facts of the public videos among these ids."""

    async def load(ids: list[uuid.UUID]) -> dict[uuid.UUID, media.VideoFacts | None]:
        return dict(await media.public_video_facts(ids, session=session))

    found = await _through(_facts, video_ids, load, None)
    return {video_id: facts for video_id, facts in found.items() if facts is not None}


async def counts(
    video_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, Engagement]:
    """Counters of these videos (a few seconds old at most)."""

    async def load(ids: list[uuid.UUID]) -> dict[uuid.UUID, Engagement]:
        return await social.video_counts(ids, session=session)

    return await _through(_counts, video_ids, load, Engagement())


async def trends(
    video_ids: Collection[uuid.UUID], *, now: datetime, session: AsyncSession
) -> dict[uuid.UUID, float]:
    """Decayed engagement of these videos (a few seconds old at most)."""

    async def load(ids: list[uuid.UUID]) -> dict[uuid.UUID, float]:
        return await recs.trend_of(ids, now=now, session=session)

    return await _through(_trends, video_ids, load, 0.0)


async def chip_facts(
    product_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, catalog.ChipFacts]:
    """Facts of these tagged products (a few seconds old at most)."""

    async def load(ids: list[uuid.UUID]) -> dict[uuid.UUID, catalog.ChipFacts | None]:
        return dict(await catalog.chip_facts(ids, session=session))

    found = await _through(_chips, product_ids, load, None)
    return {product_id: fact for product_id, fact in found.items() if fact is not None}


async def shared_list(key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
    """A candidate list for `key` (newest, trending, by hashtag, ...), shared by every viewer
    who asks the same, a few seconds old at most (CLIPCART_FEED_SHARED_LIST_SECONDS; 0 reads
    it every time)."""
    if get_feed_settings().feed_shared_list_seconds <= 0:
        return await load()
    try:
        value: V = _lists[key]
    except KeyError:
        value = await load()
        _lists[key] = value
    return value
