"""What a profile shows beside the account: public videos, liked videos, promoted products."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.affiliate import service as affiliate
from clipcart.catalog import service as catalog
from clipcart.core.errors import NotFound
from clipcart.core.money import Money
from clipcart.media.models import Video, VideoTag
from clipcart.shops import service as shops
from clipcart.social.models import VideoLike
from clipcart.social.visibility import blocked_user_ids


@dataclass(frozen=True)
class ShowcaseItem:
    """A product the person promotes in their videos."""

    product_id: uuid.UUID
    title: str
    price: str | None
    url: str


async def public_videos(user: User, *, limit: int, session: AsyncSession) -> list[Video]:
    """The person's public, ready videos, newest first."""
    statement = (
        select(Video)
        .where(Video.owner_id == user.id, Video.status == "ready", Video.visibility == "public")
        .order_by(Video.created_at.desc(), Video.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(statement))


async def liked_public_videos(
    user: User, viewer: User | None, *, limit: int, session: AsyncSession
) -> list[Video]:
    """Public, ready videos the person liked, most recently liked first (without the videos of
    anyone the viewer blocked or was blocked by)."""
    statement = (
        select(Video)
        .join(VideoLike, VideoLike.video_id == Video.id)
        .where(VideoLike.user_id == user.id, Video.status == "ready", Video.visibility == "public")
        .order_by(VideoLike.created_at.desc())
        .limit(limit)
    )
    if viewer is not None:
        hidden = await blocked_user_ids(viewer.id, session=session)
        if hidden:
            statement = statement.where(Video.owner_id.not_in(hidden))
    return list(await session.scalars(statement))


async def showcase(
    user: User, viewer: User | None, *, limit: int, session: AsyncSession
) -> list[ShowcaseItem]:
    """Products the person added to their showcase by hand (affiliate program), then those
    tagged in their public videos, most recently tagged first."""
    chosen = await affiliate.showcase_product_ids(user.id, session=session)
    statement = (
        select(VideoTag.product_id, func.max(VideoTag.created_at).label("latest"))
        .join(Video, Video.id == VideoTag.video_id)
        .where(Video.owner_id == user.id, Video.status == "ready", Video.visibility == "public")
        .group_by(VideoTag.product_id)
        .order_by(func.max(VideoTag.created_at).desc())
        .limit(limit)
    )
    items: list[ShowcaseItem] = []
    tagged = [product_id for product_id, _latest in await session.execute(statement)]
    ordered = list(dict.fromkeys([*chosen, *tagged]))[:limit]
    for product_id in ordered:
        try:
            product = await catalog.get_product_for_viewer(viewer, product_id, session=session)
        except NotFound:
            continue  # a draft or archived product is not shown to others
        prices = [variant.price for variant in product.variants]
        price = Money(min(prices), product.currency).format() if prices else None
        items.append(
            ShowcaseItem(
                product_id=product.id,
                title=product.title,
                price=price,
                url=f"/p/{product.id}?showcase={user.id}",
            )
        )
    return items


async def is_in_showcase(
    creator_id: uuid.UUID, product_id: uuid.UUID, *, session: AsyncSession
) -> bool:
    """Whether the product is in the person's showcase: added by hand, or tagged in one of
    their public videos (what `showcase` lists)."""
    if product_id in await affiliate.showcase_product_ids(creator_id, session=session):
        return True
    tagged = await session.scalar(
        select(VideoTag.product_id)
        .join(Video, Video.id == VideoTag.video_id)
        .where(
            Video.owner_id == creator_id,
            Video.status == "ready",
            Video.visibility == "public",
            VideoTag.product_id == product_id,
        )
        .limit(1)
    )
    return tagged is not None


async def owned_shops(user: User, *, session: AsyncSession) -> list[tuple[str, str]]:
    """(handle, name) of the shops the person owns."""
    owned = []
    for shop in await shops.list_shops_for_user(user, session=session):
        if await shops.staff_role(user.id, shop.id, session=session) == "owner":
            owned.append((shop.handle, shop.name))
    return owned
