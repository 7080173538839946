"""Demo videos: the demo shop posts a video per product, each tagging that product; the clips
(the product's picture panning and zooming under its name and price, with a soft chord) are
rendered in the background by demo.world.media_jobs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.media.domain import OUTPUT_HEIGHT, OUTPUT_WIDTH


async def seed_demo_videos(owner: User, *, count: int, session: AsyncSession) -> int:
    """Post `count` videos for the demo shop, each tagging one product, unless it has videos.
    They are rows in "processing" here; `clipcart demo` renders their clips in the background
    (demo.world.media_jobs) so the first page does not wait for them. The number posted."""
    from clipcart.catalog import service as catalog
    from clipcart.core.money import Money
    from clipcart.demo.catalog import DEMO_PRODUCTS, DEMO_SHOP_HANDLE
    from clipcart.media import domain as media_domain
    from clipcart.media.models import Video, VideoHashtag, VideoTag
    from clipcart.shops import service as shops

    shop = await shops.get_shop_by_handle(DEMO_SHOP_HANDLE, session=session)
    existing = await session.scalar(select(Video.id).where(Video.shop_id == shop.id).limit(1))
    if existing is not None:
        return 0
    posted = 0
    for index, item in enumerate(DEMO_PRODUCTS[:count]):
        product = await catalog.find_product_by_handle(
            shop.id, catalog_handle(item.title), session=session
        )
        if product is None:
            continue
        price = Money(item.price, shop.currency).format()
        caption = f"{item.title}, now {price} #newin #{DEMO_HASHTAGS[index % 3]}"
        video = Video(
            owner_id=owner.id,
            shop_id=shop.id,
            status="processing",
            caption=caption,
            visibility="public",
            duration_seconds=6.0,
            source_width=OUTPUT_WIDTH,
            source_height=OUTPUT_HEIGHT,
            source_codec="h264",
            source_has_audio=True,
        )
        video.hashtags = [VideoHashtag(name=name) for name in media_domain.hashtags(caption)]
        video.tags = [VideoTag(product_id=product.id, tagged_by_id=owner.id, grounds="own_shop")]
        session.add(video)
        posted += 1
    await session.flush()
    return posted


DEMO_HASHTAGS = ("everydaycarry", "homegoods", "smallbusiness")


def catalog_handle(title: str) -> str:
    """The handle the catalogue makes from a demo product's title."""
    from clipcart.catalog import domain

    return domain.slugify_handle(title)
