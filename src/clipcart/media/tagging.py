"""Product tags on videos: who may tag what (their own shop's products, or another shop's
under a live affiliate collaboration, which locks the commission rate on the tag)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.affiliate import service as affiliate
from clipcart.catalog import service as catalog
from clipcart.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from clipcart.media import domain
from clipcart.media.models import Video, VideoTag
from clipcart.media.schemas import TagIn
from clipcart.media.service import shop_handle_of, shops_for_uploader
from clipcart.shops import service as shops


async def add_tag(user: User, video: Video, tag_in: TagIn, *, session: AsyncSession) -> VideoTag:
    """Tag a product in the video. Staff may tag their own shop's products; another shop's
    product needs a live collaboration open to the video's creator (403 otherwise), and the
    commission rate is locked on the tag for 30 days."""
    problems = domain.tag_range_problems(
        tag_in.start_seconds, tag_in.end_seconds, video.duration_seconds
    )
    if problems:
        raise ValidationFailed.field("start_seconds", problems[0])
    if len(video.tags) >= domain.MAX_TAGS:
        raise Conflict(
            f"A video can show at most {domain.MAX_TAGS} products. Remove one first.",
            code="too_many_tags",
        )
    if any(tag.product_id == tag_in.product_id for tag in video.tags):
        raise Conflict("That product is already tagged in this video.", code="already_tagged")
    product = await catalog.get_product(tag_in.product_id, session=session)
    grounds = "own_shop"
    if not await shops.is_shop_staff(user.id, product.shop_id, session=session):
        if video.owner_id != user.id:
            raise Forbidden(
                "Only the video's creator can tag another shop's product in it.",
                code="affiliate_collaboration_required",
                data={"product_id": str(product.id)},
            )
        grounds = "affiliate_collaboration"
    if product.status != "active":
        raise ValidationFailed.field(
            "product_id", "Only active products can be tagged. Publish the product first."
        )
    collaboration_id: uuid.UUID | None = None
    if grounds == "affiliate_collaboration":
        lock = await affiliate.authorise_tag(
            creator_id=user.id, video_id=video.id, product_id=product.id, session=session
        )
        collaboration_id = lock.collaboration_id
        await affiliate.fulfil_samples(
            creator_id=user.id, product_id=product.id, video_id=video.id, session=session
        )
    tag = VideoTag(
        video_id=video.id,
        product_id=product.id,
        position=max((tag.position for tag in video.tags), default=-1) + 1,
        start_seconds=tag_in.start_seconds,
        end_seconds=tag_in.end_seconds,
        tagged_by_id=user.id,
        grounds=grounds,
        collaboration_id=collaboration_id,
    )
    video.tags.append(tag)
    await session.flush()
    return tag


async def remove_tag(video: Video, tag_id: uuid.UUID, *, session: AsyncSession) -> None:
    """Remove a tag from the video."""
    for tag in video.tags:
        if tag.id == tag_id:
            video.tags.remove(tag)
            await session.flush()
            return
    raise NotFound("That tag is not on this video.", code="tag_not_found")


async def taggable_products(
    user: User, shop_handle: str, *, session: AsyncSession
) -> list[tuple[uuid.UUID, str]]:
    """(id, title) of the active products `user` may tag from a shop they work for."""
    shop = await shops.get_shop_for_staff(user, shop_handle, session=session)
    products, _ = await catalog.list_products(
        catalog.ProductFilters(shop_id=shop.id), limit=100, session=session
    )
    return [(product.id, product.title) for product in products]


async def taggable_for_video(
    user: User, video: Video, *, session: AsyncSession
) -> list[tuple[uuid.UUID, str]]:
    """Products `user` may tag in `video`: the active products of the shops they work for
    (the video's shop first), then those open to the video's creator by collaboration."""
    handles = [handle for handle, _ in await shops_for_uploader(user, session=session)]
    own = await shop_handle_of(video, session=session)
    if own in handles:
        handles.remove(own)
        handles.insert(0, own)
    tagged = {tag.product_id for tag in video.tags}
    products: list[tuple[uuid.UUID, str]] = []
    for handle in handles:
        products += [
            (product_id, title)
            for product_id, title in await taggable_products(user, handle, session=session)
            if product_id not in tagged
        ]
    if video.owner_id == user.id:
        # Other shops' products open to the creator through a collaboration.
        offered = await affiliate.offers_for(user.id, session=session)
        found = await catalog.products_by_ids(list(offered), session=session)
        seen = {product_id for product_id, _ in products} | tagged
        products += [
            (product.id, f"{product.title} ({affiliate.rate_label(offered[product.id].rate_bp)})")
            for product in found.values()
            if product.id not in seen and product.status == "active"
        ]
    return products
