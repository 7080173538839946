"""Turn a page of videos into feed items in a fixed number of queries, whatever the page size.

The per-video helpers of other domains load one row at a time; a feed page would then cost a
query per video and per product, so this module asks the owning services for the rows it needs
in batches (accounts, shops, products with their variants and images) and only reads them."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.catalog import service as catalog
from clipcart.catalog.schemas import IMAGE_SIZES, image_url
from clipcart.core.money import Money
from clipcart.feed import social
from clipcart.feed.domain import Engagement
from clipcart.feed.schemas import (
    FeedCountsOut,
    FeedCreatorOut,
    FeedItemOut,
    FeedProductOut,
    FeedShopOut,
    FeedVideoOut,
    FeedViewerStateOut,
)
from clipcart.media import domain as media_domain
from clipcart.media.schemas import CaptionPartOut, PriceOut
from clipcart.shops import service as shops_service

if TYPE_CHECKING:  # types only: rows are read through the owning domains' services
    from clipcart.accounts.models import User
    from clipcart.catalog.models import Product
    from clipcart.media.models import Video

AVATAR_SIZE = 96
CHIP_IMAGE_SIZE = IMAGE_SIZES[-1]
# Kept small: every part kept is a few objects the garbage collector walks on each full pass.
CAPTIONS_KEPT = 1024
PRICES_KEPT = 4096


def caption_parts(caption: str) -> list[CaptionPartOut]:
    """The caption as runs of text, #hashtags (linking to /tag/…) and @mentions."""
    return list(_caption(caption)[0])


# A caption's parts and hashtags depend on its text alone, and the same videos come back page
# after page: parsing and building the parts again cost about a quarter of a page's hydration.
# The parts are shared between responses, which only read them.
@functools.lru_cache(maxsize=CAPTIONS_KEPT)
def _caption(caption: str) -> tuple[tuple[CaptionPartOut, ...], tuple[str, ...]]:
    parts = []
    for part in media_domain.parse_caption(caption):
        href = None
        if part.kind == "hashtag":
            href = f"/tag/{part.value}"
        elif part.kind == "mention":
            href = f"/@{part.value}"
        parts.append(CaptionPartOut(kind=part.kind, text=part.text, value=part.value, href=href))
    return tuple(parts), tuple(media_domain.hashtags(caption))


# How an amount reads depends on the amount and the currency alone (babel's formatting cost
# more than the rest of a chip).
@functools.lru_cache(maxsize=PRICES_KEPT)
def _formatted(amount: int, currency: str) -> str:
    return Money(amount, currency).format()


def _creator(user: User, following: social.Following) -> FeedCreatorOut:
    return FeedCreatorOut(
        id=user.id,
        handle=user.handle,
        display_name=user.display_name,
        avatar_url=accounts.avatar_url(user, AVATAR_SIZE),
        profile_url=f"/@{user.handle}",
        viewer_follows=user.id in following.user_ids,
    )


async def creators(
    user_ids: Sequence[uuid.UUID], following: social.Following, *, session: AsyncSession
) -> list[FeedCreatorOut]:
    """Creator cards for these accounts, in the order given (unknown ids are skipped)."""
    users = await accounts.users_by_ids(user_ids, with_roles=False, session=session)
    return [_creator(users[user_id], following) for user_id in user_ids if user_id in users]


def _chip(product: Product, *, shop_active: bool) -> FeedProductOut | None:
    """A product's chip, or None when it must not be shown (not active, sold out, or its shop
    is suspended)."""
    if product.status != "active" or not shop_active:
        return None
    in_stock = any(variant.stock > 0 for variant in product.variants)
    if not in_stock:
        return None
    price = None
    if product.variants:
        money = Money(min(variant.price for variant in product.variants), product.currency)
        formatted = _formatted(money.amount, money.currency)
        price = PriceOut(amount=money.amount, currency=money.currency, formatted=formatted)
    image = product.images[0] if product.images else None
    return FeedProductOut(
        id=product.id,
        title=product.title,
        price=price,
        image_url=image_url(image.key, CHIP_IMAGE_SIZE) if image else None,
        in_stock=in_stock,
        url=f"/p/{product.id}",
        start_seconds=None,
        end_seconds=None,
    )


def _video(video: Video) -> FeedVideoOut:
    base = f"/api/v1/videos/{video.id}"
    parts, hashtags = _caption(video.caption)
    return FeedVideoOut(
        id=video.id,
        page_url=f"/v/{video.id}",
        stream_url=f"{base}/stream",
        poster_url=f"{base}/poster.jpg?v={video.poster_version}",
        preview_url=f"{base}/preview.mp4",
        width=media_domain.OUTPUT_WIDTH,
        height=media_domain.OUTPUT_HEIGHT,
        duration_seconds=video.duration_seconds,
        has_audio=video.has_audio,
        caption=video.caption,
        caption_parts=list(parts),
        hashtags=list(hashtags),
        created_at=video.created_at,
    )


async def items(
    videos: Sequence[Video],
    viewer_id: uuid.UUID | None,
    engagement: dict[uuid.UUID, Engagement],
    *,
    following: social.Following | None = None,
    session: AsyncSession,
) -> list[FeedItemOut]:
    """Hydrated feed items for `videos`, in their order (`following`: the viewer's follows,
    when the caller has them already)."""
    if not videos:
        return []
    ids = [video.id for video in videos]
    users = await accounts.users_by_ids(
        [video.owner_id for video in videos], with_roles=False, session=session
    )
    product_ids = {tag.product_id for video in videos for tag in video.tags}
    products = await catalog.products_by_ids(product_ids, session=session)
    shop_ids = {video.shop_id for video in videos if video.shop_id is not None}
    shop_ids |= {product.shop_id for product in products.values()}
    shops = await shops_service.shops_by_ids(shop_ids, session=session)
    states = await social.viewer_video_state(viewer_id, ids, session=session)
    if following is None:
        following = await social.following_ids(viewer_id, session=session)

    result = []
    for video in videos:
        owner = users.get(video.owner_id)
        if owner is None:
            continue
        shop = shops.get(video.shop_id) if video.shop_id else None
        chips = []
        for tag in video.tags:
            product = products.get(tag.product_id)
            chip = None
            if product is not None:
                seller = shops.get(product.shop_id)
                chip = _chip(product, shop_active=seller is not None and seller.status == "active")
            if chip is not None:
                chip.start_seconds, chip.end_seconds = tag.start_seconds, tag.end_seconds
                chips.append(chip)
        counts = engagement.get(video.id, Engagement())
        state = states.get(video.id, social.ViewerState())
        result.append(
            FeedItemOut(
                video=_video(video),
                creator=_creator(owner, following),
                shop=None
                if shop is None
                else FeedShopOut(
                    id=shop.id,
                    handle=shop.handle,
                    name=shop.name,
                    url=f"/shop/{shop.handle}",
                    viewer_follows=shop.id in following.shop_ids,
                ),
                counts=FeedCountsOut(
                    likes=counts.likes,
                    comments=counts.comments,
                    saves=counts.saves,
                    shares=counts.shares,
                    views=counts.views,
                ),
                viewer=FeedViewerStateOut(liked=state.liked, saved=state.saved),
                products=chips,
            )
        )
    return result
