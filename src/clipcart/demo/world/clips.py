"""The videos of a world: who posted them, when, their captions, hashtags and tagged products."""

from __future__ import annotations

import bisect
import functools
import itertools
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from clipcart.demo.world.bulk import world_id
from clipcart.demo.world.catalogue import ProductPlan
from clipcart.demo.world.people import Creator, Person, ShopPlan
from clipcart.media import domain as media_domain

SPREAD = timedelta(days=30)


@dataclass(frozen=True)
class VideoPlan:
    """A short video posted for a shop, tagging 0-2 of its products."""

    id: uuid.UUID
    index: int
    owner: Person
    shop: ShopPlan
    theme_index: int
    caption: str
    hashtags: tuple[str, ...]
    products: tuple[ProductPlan, ...]
    seconds: float
    created_at: datetime
    popularity: float


TAG_COUNTS = (0, 1, 2)  # products a video tags, drawn with these cumulative weights
TAG_COUNT_WEIGHTS = tuple(itertools.accumulate((0.15, 0.6, 0.25)))


@functools.cache
def _pair_hashtags(text: str) -> tuple[str, ...]:
    return tuple(media_domain.hashtags(text))


def make_videos(
    total: int,
    creators: list[Creator],
    shops: list[ShopPlan],
    products: list[ProductPlan],
    rng: random.Random,
    now: datetime,
) -> list[VideoPlan]:
    """`total` videos over the last 30 days: most by creators, some by shop owners.

    Draws exactly what `rng.choices(TAG_COUNTS, weights=...)` and friends would, with the
    per-call work hoisted out of the loop: a million videos in about half a minute."""
    from clipcart.demo.world.themes import THEMES

    by_shop: dict[int, list[ProductPlan]] = {}
    for product in products:
        by_shop.setdefault(product.shop.index, []).append(product)
    theme_index = {theme.key: index for index, theme in enumerate(THEMES)}
    creator_weights = list(itertools.accumulate(creator.popularity for creator in creators))
    tag_total = TAG_COUNT_WEIGHTS[-1] + 0.0
    videos: list[VideoPlan] = []
    for index in range(total):
        if creators and rng.random() < 0.85:
            creator = creators[
                bisect.bisect_left(creator_weights, rng.random() * creator_weights[-1])
            ]
            owner, shop, popularity = creator.person, creator.shop, creator.popularity
        else:
            shop = shops[index % len(shops)]
            owner, popularity = shop.owner, 1.0
        theme = shop.theme
        stock = by_shop.get(shop.index, [])
        drawn = TAG_COUNTS[bisect.bisect(TAG_COUNT_WEIGHTS, rng.random() * tag_total, 0, 2)]
        tagged = tuple(rng.sample(stock, min(len(stock), drawn)))
        tags = rng.sample(theme.hashtags, 2)
        line = rng.choice(theme.lines)
        subject = tagged[0].title if tagged else f"my {theme.label.lower()} favourites"
        opening, closing = f"{line} {subject}", f"#{tags[0]} #{tags[1]}"
        caption = f"{opening} {closing}"
        # The app's hashtag rule, once per pair of tags when the opening has none of its own.
        hashtags = (
            _pair_hashtags(closing) if "#" not in opening else tuple(media_domain.hashtags(caption))
        )
        created = now - SPREAD * (rng.random() ** 1.3)
        videos.append(
            VideoPlan(
                id=world_id(rng, created),
                index=index,
                owner=owner,
                shop=shop,
                theme_index=theme_index[theme.key],
                caption=caption,
                hashtags=hashtags,
                products=tagged,
                seconds=float(rng.randint(5, 15)),
                created_at=created,
                popularity=popularity * rng.lognormvariate(0.0, 0.7),
            )
        )
    return videos
