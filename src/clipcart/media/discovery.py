"""Reads the feed's candidate sources make: ids of public videos by recency, by owner, by tagged
product and by hashtag, and the videos themselves by id. Re-exported by `media.service`."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.media.models import Video, VideoHashtag, VideoTag


def _public() -> Select[uuid.UUID]:
    return select(Video.id).where(Video.status == "ready", Video.visibility == "public")


async def recent_public_video_ids(
    *,
    since: datetime,
    limit: int,
    owner_ids: Collection[uuid.UUID] | None = None,
    shop_ids: Collection[uuid.UUID] | None = None,
    session: AsyncSession,
) -> list[uuid.UUID]:
    """Public videos created at or after `since`, newest first; with owners/shops, only theirs."""
    statement = _public().where(Video.created_at >= since)
    if owner_ids is not None or shop_ids is not None:
        conditions = []
        if owner_ids:
            conditions.append(Video.owner_id.in_(set(owner_ids)))
        if shop_ids:
            conditions.append(Video.shop_id.in_(set(shop_ids)))
        if not conditions:
            return []
        statement = statement.where(or_(*conditions))
    statement = statement.order_by(Video.created_at.desc()).limit(limit)
    return list(await session.scalars(statement))


async def video_ids_tagging(
    product_ids: Collection[uuid.UUID], *, limit: int, session: AsyncSession
) -> list[uuid.UUID]:
    """Public videos that tag any of these products, newest first."""
    if not product_ids:
        return []
    statement = (
        _public()
        .join(VideoTag, VideoTag.video_id == Video.id)
        .where(VideoTag.product_id.in_(set(product_ids)))
        .order_by(Video.created_at.desc())
        .limit(limit)
    )
    return list(dict.fromkeys(await session.scalars(statement)))


async def video_ids_with_hashtags(
    names: Collection[str], *, limit: int, session: AsyncSession
) -> list[uuid.UUID]:
    """Public videos using any of these hashtags (lower case, no '#'), newest first."""
    if not names:
        return []
    statement = (
        _public()
        .join(VideoHashtag, VideoHashtag.video_id == Video.id)
        .where(VideoHashtag.name.in_({name.lower() for name in names}))
        .order_by(Video.created_at.desc())
        .limit(limit)
    )
    return list(dict.fromkeys(await session.scalars(statement)))


async def public_videos_by_ids(
    video_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, Video]:
    """The public, ready videos among these ids (with tags and hashtags loaded), by id."""
    if not video_ids:
        return {}
    statement = select(Video).where(
        Video.id.in_(set(video_ids)), Video.status == "ready", Video.visibility == "public"
    )
    return {video.id: video for video in await session.scalars(statement)}


@dataclass(frozen=True, slots=True)
class VideoFacts:
    """What ranking needs of a public video (no files, no caption): cheap to keep in memory."""

    id: uuid.UUID
    owner_id: uuid.UUID
    shop_id: uuid.UUID | None
    created_at: datetime
    hashtags: tuple[str, ...]
    product_ids: tuple[uuid.UUID, ...]


async def public_video_facts(
    video_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, VideoFacts]:
    """Facts of the public, ready videos among these ids, by id: three plain queries."""
    wanted = set(video_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Video.id, Video.owner_id, Video.shop_id, Video.created_at).where(
            Video.id.in_(wanted), Video.status == "ready", Video.visibility == "public"
        )
    )
    found = {row[0]: row for row in rows}
    if not found:
        return {}
    hashtags: dict[uuid.UUID, list[str]] = {}
    for video_id, name in await session.execute(
        select(VideoHashtag.video_id, VideoHashtag.name).where(VideoHashtag.video_id.in_(found))
    ):
        hashtags.setdefault(video_id, []).append(name)
    products: dict[uuid.UUID, list[uuid.UUID]] = {}
    for video_id, product_id in await session.execute(
        select(VideoTag.video_id, VideoTag.product_id)
        .where(VideoTag.video_id.in_(found))
        .order_by(VideoTag.video_id, VideoTag.position)
    ):
        products.setdefault(video_id, []).append(product_id)
    return {
        video_id: VideoFacts(
            id=video_id,
            owner_id=owner_id,
            shop_id=shop_id,
            created_at=created_at,
            hashtags=tuple(sorted(hashtags.get(video_id, ()))),
            product_ids=tuple(products.get(video_id, ())),
        )
        for video_id, (_, owner_id, shop_id, created_at) in found.items()
    }
