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

import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterable
from datetime import datetime
from typing import Any, Generic, TypeVar

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

K = TypeVar("K")
V = TypeVar("V")


class Expiring(Generic[K, V]):
    """A bounded map whose entries expire a fixed time after they were stored.

    Not cachetools' TTLCache, on purpose: a request looks up close to a thousand ids here, and
    TTLCache's Python-level path per key (its timer, its link bookkeeping) cost four times a
    plain lookup. With one lifetime for every entry, the order of storing is the order of
    expiry, so an OrderedDict is all the bookkeeping needed: expired entries are dropped from
    its front, and the oldest go first when it is full."""

    def __init__(self, maxsize: int, seconds: float) -> None:
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._maxsize, self._seconds = maxsize, seconds

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Forget every entry."""
        self._items.clear()

    def lookup(self, keys: Iterable[K], *, now: float) -> tuple[dict[K, V], list[K]]:
        """The live values of `keys` at `now` (time.monotonic()), and the keys without one."""
        found: dict[K, V] = {}
        absent: list[K] = []
        get = self._items.get
        for key in keys:
            entry = get(key)
            if entry is not None and entry[0] > now:
                found[key] = entry[1]
            else:
                absent.append(key)
        return found, absent

    def store(self, values: dict[K, V], *, now: float) -> None:
        """Keep these values for the lifetime from `now`, dropping what expired or is oldest."""
        items = self._items
        while items:
            key, (expires, _) = next(iter(items.items()))
            if expires > now:
                break
            del items[key]
        expires = now + self._seconds
        for key, value in values.items():
            items.pop(key, None)  # stored again: it moves to the end, with the new expiry
            items[key] = (expires, value)
        while len(items) > self._maxsize:
            items.popitem(last=False)


_facts: Expiring[uuid.UUID, media.VideoFacts | None] = Expiring(MAX_ENTRIES, FACTS_SECONDS)
_counts: Expiring[uuid.UUID, Engagement] = Expiring(MAX_ENTRIES, NUMBERS_SECONDS)
_trends: Expiring[uuid.UUID, float] = Expiring(MAX_ENTRIES, NUMBERS_SECONDS)
_chips: Expiring[uuid.UUID, catalog.ChipFacts | None] = Expiring(MAX_ENTRIES, NUMBERS_SECONDS)
# Room for the global lists and the per-follow-set and per-intent lists of the viewers active in
# the last few seconds (each a few hundred ids).
_lists: TTLCache[Hashable, Any] = TTLCache(2048, get_feed_settings().feed_shared_list_seconds or 1)


def clear() -> None:
    """Forget everything (tests, and after bulk changes such as loading a world)."""
    for cache in (_facts, _counts, _trends, _chips, _lists):
        cache.clear()


async def _through(
    cache: Expiring[K, V],
    keys: Collection[K],
    load: Callable[[list[K]], Awaitable[dict[K, V]]],
    missing: V,
) -> dict[K, V]:
    """Values for `keys` from the cache, loading the absent ones in one batch."""
    found, absent = cache.lookup(keys, now=time.monotonic())
    if absent:
        loaded = await load(absent)
        fetched = {key: loaded.get(key, missing) for key in absent}
        cache.store(fetched, now=time.monotonic())
        found |= fetched
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
