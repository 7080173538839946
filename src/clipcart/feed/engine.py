"""For You: gather candidates from every source, learn the viewer's live taste, score, re-rank.

A page is built from scratch on every request, in a fixed number of queries: the viewer's
recent events (their live taste), their settings, follows and blocks; the ids each candidate
source proposes; then the candidates with their counters, trends and tagged products in a few
batched reads. Scoring and the re-ranking rules are pure (`feed.ranking`, `feed.mixing`).
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.catalog import service as catalog
from clipcart.core.errors import BadRequest
from clipcart.feed import domain, memory, social
from clipcart.feed.mixing import MixState, arrange, decode_cursor, encode_cursor, unseen
from clipcart.feed.ranking import Explanation, Features, Scored, explain, score_all
from clipcart.media import service as media
from clipcart.recs import service as recs
from clipcart.shops import service as shops

if TYPE_CHECKING:
    from clipcart.media.models import Video

FOLLOWING_DAYS = 14
FRESH_HOURS = 48
COLD_START_SIGNALS = 3
HISTORY_FOR_MODEL = 50
TASTE_VIDEOS = 40
TOPICS = 3
LIMITS = {  # a page needs 8-30; a few hundred candidates are plenty, and each costs CPU
    "following": 40,
    "similar": 60,
    "trending": 50,
    "shopping": 30,
    "topics": 40,
    "fresh": 30,
    "interests": 40,
    "recent": 60,
}


@dataclass
class Page:
    """A ranked page: the videos in order, why each is there, and the next cursor."""

    videos: list[Video]
    why: dict[uuid.UUID, Explanation]
    engagement: dict[uuid.UUID, domain.Engagement]
    next_cursor: str | None
    following: social.Following


@dataclass
class Taste:
    """The viewer's live taste by creator, hashtag and product category (sums of signals)."""

    creators: dict[uuid.UUID, float] = field(default_factory=lambda: defaultdict(float))
    hashtags: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    categories: dict[int, float] = field(default_factory=lambda: defaultdict(float))


# A sum of signals is squeezed into -1..1 by tanh(sum / SATURATION): a few likes count, a
# hundred do not count 30 times as much.
SATURATION = 3.0


@dataclass
class Pool:
    """Candidate ids with the sources that proposed them, and what the sources measured."""

    proposed: dict[uuid.UUID, set[str]] = field(default_factory=lambda: defaultdict(set))
    similarity: dict[uuid.UUID, float] = field(default_factory=dict)
    trend: dict[uuid.UUID, float] = field(default_factory=dict)

    def add(self, source: str, ids: list[uuid.UUID]) -> None:
        """Note that `source` proposed these videos (at most its limit)."""
        for video_id in ids[: LIMITS[source]]:
            self.proposed[video_id].add(source)


def liked_hashtags(
    signals: recs.UserSignals, videos: dict[uuid.UUID, media.VideoFacts]
) -> tuple[str, ...]:
    """The hashtags of the videos the viewer reacted to best lately (at most TOPICS), always
    with the best of the one they liked last: a new interest shows on the very next page even
    when older ones add up to more."""
    totals: dict[str, float] = defaultdict(float)
    for video_id, said in signals.video_taste.items():
        video = videos.get(video_id)
        for hashtag in video.hashtags if video is not None else ():
            totals[hashtag] += said
    best = sorted((name for name in totals if totals[name] > 0), key=lambda n: -totals[n])
    latest = videos.get(signals.history[-1]) if signals.history else None
    newest = [name for name in best if latest is not None and name in latest.hashtags][:1]
    chosen = newest + [name for name in best if name not in newest]
    return tuple(sorted(chosen[:TOPICS]))


async def gather(
    signals: recs.UserSignals,
    preferences: recs.Preferences,
    following: social.Following,
    topics: tuple[str, ...],
    *,
    now: datetime,
    session: AsyncSession,
) -> Pool:
    """Ask every candidate source for videos."""
    pool = Pool()
    # The sources below that depend on the viewer are shared lists too, keyed by what they
    # were asked (whom the viewer follows, which products they want): a new follow or a new
    # intent makes a new key, so it shows on the very next page all the same.
    if not following.empty:
        pool.add(
            "following",
            await memory.shared_list(
                ("following", following.user_ids, following.shop_ids),
                lambda: media.recent_public_video_ids(
                    since=now - timedelta(days=FOLLOWING_DAYS),
                    limit=LIMITS["following"],
                    owner_ids=following.user_ids,
                    shop_ids=following.shop_ids,
                    session=session,
                ),
            ),
        )
    model = recs.model_holder.current()
    if model is not None and signals.history:
        similar = model.similar_to(
            signals.history[-HISTORY_FOR_MODEL:],
            signals.history_weights[-HISTORY_FOR_MODEL:],
            k=LIMITS["similar"],
        )
        best = max((value for _, value in similar), default=0.0)
        if best > 0:
            pool.similarity = {video: value / best for video, value in similar}
        pool.add("similar", [video for video, _ in similar])
    trending = await memory.shared_list(
        "trending",
        lambda: recs.trending_videos(limit=LIMITS["trending"], now=now, session=session),
    )
    pool.trend = dict(trending)
    pool.add("trending", [video for video, _ in trending])
    intent = sorted(signals.product_intent, key=lambda p: -signals.product_intent[p])[:20]
    if intent:
        pool.add(
            "shopping",
            await memory.shared_list(
                ("tagging", frozenset(intent)),
                lambda: media.video_ids_tagging(intent, limit=LIMITS["shopping"], session=session),
            ),
        )
    pool.add(
        "fresh",
        await memory.shared_list(
            "fresh",
            lambda: media.recent_public_video_ids(
                since=now - timedelta(hours=FRESH_HOURS), limit=LIMITS["fresh"], session=session
            ),
        ),
    )
    if topics:
        pool.add(
            "topics",
            await memory.shared_list(
                ("hashtags", topics),
                lambda: media.video_ids_with_hashtags(
                    topics, limit=LIMITS["topics"], session=session
                ),
            ),
        )
    if preferences.interests and signals.positive_count < COLD_START_SIGNALS:
        pool.add(
            "interests",
            await memory.shared_list(
                ("hashtags", preferences.interests),
                lambda: media.video_ids_with_hashtags(
                    preferences.interests, limit=LIMITS["interests"], session=session
                ),
            ),
        )
    if len(pool.proposed) < LIMITS["recent"]:
        # A young platform: few trends or follows yet, so fill up with the newest videos.
        pool.add(
            "recent",
            await memory.shared_list(
                "recent",
                lambda: media.recent_public_video_ids(
                    since=now - timedelta(days=3650), limit=LIMITS["recent"], session=session
                ),
            ),
        )
    return pool


def learn_taste(
    signals: recs.UserSignals,
    videos: dict[uuid.UUID, media.VideoFacts],
    categories: dict[uuid.UUID, int | None],
) -> Taste:
    """The viewer's taste by creator, hashtag and category, from the videos they reacted to."""
    taste = Taste()
    for video_id, said in signals.video_taste.items():
        video = videos.get(video_id)
        if video is None:
            continue
        taste.creators[video.owner_id] += said
        for hashtag in video.hashtags:
            taste.hashtags[hashtag] += said
        for product_id in video.product_ids:
            category = categories.get(product_id)
            if category is not None:
                taste.categories[category] += said
    for product_id, intent in signals.product_intent.items():
        category = categories.get(product_id)
        if category is not None:
            taste.categories[category] += 0.5 * intent
    return taste


def region_of(accept_language: str | None) -> str | None:
    """The region of the first language tag with one ("en-GB,en;q=0.8" -> "GB")."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip()
        pieces = tag.replace("_", "-").split("-")
        if len(pieces) >= 2 and len(pieces[-1]) == 2 and pieces[-1].isalpha():
            return pieces[-1].upper()
    return None


async def for_you(
    viewer_id: uuid.UUID | None,
    *,
    cursor: str | None,
    size: int,
    now: datetime,
    region: str | None = None,
    session: AsyncSession,
) -> Page:
    """A ranked page of For You for the viewer (anyone; visitors start cold)."""
    state = decode_cursor(cursor)
    if state is None:
        raise BadRequest("That cursor is not valid.", code="invalid_cursor")
    signals = await recs.load_signals(viewer_id, now=now, session=session)
    preferences = await recs.get_preferences(viewer_id, session=session)
    following = await social.following_ids(viewer_id, session=session)
    hidden = await social.hidden_user_ids(viewer_id, session=session)
    taste_ids = sorted(signals.video_taste, key=lambda v: -abs(signals.video_taste[v]))
    taste_ids = taste_ids[:TASTE_VIDEOS] + signals.history[-1:]  # and the one liked last
    tasted = await memory.video_facts(taste_ids, session=session)
    pool = await gather(
        signals,
        preferences,
        following,
        liked_hashtags(signals, tasted),
        now=now,
        session=session,
    )

    facts = tasted | await memory.video_facts(pool.proposed, session=session)
    product_ids = {product for video in facts.values() for product in video.product_ids}
    chips = await memory.chip_facts({*product_ids, *signals.product_intent}, session=session)
    categories = {product: fact.category_id for product, fact in chips.items()}
    taste = learn_taste(signals, facts, categories)

    candidates = [
        facts[video_id]
        for video_id in pool.proposed
        if video_id in facts and facts[video_id].owner_id not in hidden
    ]
    ids = [video.id for video in candidates]
    engagement = await memory.counts(ids, session=session)
    missing_trend = [video_id for video_id in ids if video_id not in pool.trend]
    pool.trend |= await memory.trends(missing_trend, now=now, session=session)
    shop_countries: dict[uuid.UUID, str] = {}
    if region is not None:
        shop_ids = {video.shop_id for video in candidates if video.shop_id is not None}
        found = await shops.shops_by_ids(shop_ids, session=session)
        shop_countries = {shop_id: shop.country for shop_id, shop in found.items()}

    top_trend = max((pool.trend.get(video_id, 0.0) for video_id in ids), default=0.0)
    context = Context(pool, signals, taste, chips, following, preferences, top_trend)
    in_region = {shop_id for shop_id, country in shop_countries.items() if country == region}
    scored = score_all(_features_of(candidates, context, engagement, in_region), now=now)
    page, after = _arrange_unseen_first(scored, signals, size, preferences, state, now)
    # The page's own videos are read again: what may be shown, with what it needs on screen.
    chosen = await media.public_videos_by_ids(
        [item.features.video_id for item in page], with_hashtags=False, session=session
    )
    page = [item for item in page if item.features.video_id in chosen]
    more = len(page) == size and len(scored) > len(page)
    return Page(
        videos=[chosen[item.features.video_id] for item in page],
        why={item.features.video_id: explain(item) for item in page},
        engagement=await social.video_counts(list(chosen), session=session),
        next_cursor=encode_cursor(after) if more else None,
        following=following,
    )


def _arrange_unseen_first(
    scored: list[Scored],
    signals: recs.UserSignals,
    size: int,
    preferences: recs.Preferences,
    state: MixState,
    now: datetime,
) -> tuple[list[Scored], MixState]:
    """Arrange the unseen candidates best first; only when they cannot fill the page (a small
    world, or a viewer who has seen it all) do seen ones follow, least recently seen first."""
    fresh = set(unseen([item.features.video_id for item in scored], signals.seen_at, now=now))
    new = [item for item in scored if item.features.video_id in fresh]
    new.sort(key=lambda item: (item.score, item.features.created_at), reverse=True)
    every = preferences.shoppable_every
    page, after = arrange(new, size=size, shoppable_every=every, state=state)
    if len(page) < size:
        again = [item for item in scored if item.features.video_id not in fresh]
        again.sort(key=lambda item: (signals.seen_at[item.features.video_id], -item.score))
        more, after = arrange(again, size=size - len(page), shoppable_every=every, state=after)
        page += more
    return page, after


@dataclass(frozen=True)
class Context:
    """What scoring every candidate of one request shares."""

    pool: Pool
    signals: recs.UserSignals
    taste: Taste
    chips: dict[uuid.UUID, catalog.ChipFacts]
    following: social.Following
    preferences: recs.Preferences
    top_trend: float


def _features_of(
    candidates: list[media.VideoFacts],
    context: Context,
    engagement: dict[uuid.UUID, domain.Engagement],
    region_shops: set[uuid.UUID],
) -> list[Features]:
    """The features of every candidate; what depends only on the request (the viewer's taste
    for each tagged product, their follows and interests) is worked out once, not per video."""
    taste, chips, pool = context.taste, context.chips, context.pool
    hashtag_taste, category_taste = taste.hashtags, taste.categories
    # Per showable product: (its category's taste or None, the viewer's intent for it, price).
    products: dict[uuid.UUID, tuple[float | None, float, int]] = {}
    for product_id, fact in chips.items():
        if fact.showable:
            category = fact.category_id
            products[product_id] = (
                None if category is None else category_taste.get(category, 0.0),
                context.signals.product_intent.get(product_id, 0.0),
                fact.min_price or 0,
            )
    interests = frozenset(context.preferences.interests)
    followed_users, followed_shops = context.following.user_ids, context.following.shop_ids
    creator_taste, top_trend = taste.creators, context.top_trend
    proposed, similarity, trends = pool.proposed, pool.similarity, pool.trend
    nothing = domain.Engagement()
    no_products: list[tuple[float | None, float, int]] = []
    result = []
    tanh = math.tanh
    for video in candidates:
        video_id, owner_id, shop_id = video.id, video.owner_id, video.shop_id
        topic = sum([hashtag_taste.get(name, 0.0) for name in video.hashtags])
        intent = 0.0
        shown = no_products
        if video.product_ids:
            shown = [products[product] for product in video.product_ids if product in products]
            if shown:
                categories = [category for category, _, _ in shown if category is not None]
                topic += sum(categories)
                intent = sum([wanted for _, wanted, _ in shown]) + 0.5 * sum(categories)
        interest_match = not interests.isdisjoint(video.hashtags)
        topic_affinity = tanh(topic / SATURATION)
        if interest_match:
            topic_affinity = max(topic_affinity, 0.8)
        counts = engagement.get(video_id, nothing)
        trend = trends.get(video_id, 0.0)
        followed = owner_id in followed_users or (shop_id is not None and shop_id in followed_shops)
        result.append(
            Features(
                video_id=video_id,
                creator_id=owner_id,
                created_at=video.created_at,
                sources=frozenset(proposed.get(video_id, ())),
                similarity=similarity.get(video_id, 0.0),
                creator_affinity=tanh(creator_taste.get(owner_id, 0.0) / SATURATION),
                topic_affinity=topic_affinity,
                interest_match=interest_match,
                followed=followed,
                views=counts.views,
                engagements=counts.likes + counts.comments + counts.saves + counts.shares,
                trend=trend / top_trend if top_trend > 0 else 0.0,
                shoppable=bool(shown),
                product_intent=max(0.0, tanh(intent / SATURATION)),
                price_minor=max([price for _, _, price in shown], default=None),
                region_match=shop_id in region_shops,
            )
        )
    return result
