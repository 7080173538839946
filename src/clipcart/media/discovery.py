"""Reads the feed's candidate sources make: ids of public videos by recency, by owner, by tagged
product and by hashtag, and the videos themselves by id. Re-exported by `media.service`."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from clipcart.core.db import fixed_limit
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
    statement = statement.order_by(Video.created_at.desc()).limit(fixed_limit(limit))
    return list(await session.scalars(statement))


# How many tag or hashtag rows a source looks at before it keeps the newest public videos.
SCAN = 1_000


async def _newest_public(
    video_ids: Collection[uuid.UUID], *, limit: int, session: AsyncSession
) -> list[uuid.UUID]:
    """The newest `limit` public, ready videos among these ids. Looked up by primary key and
    filtered here: a status/visibility filter in SQL lets SQLite pick that index and scan."""
    if not video_ids:
        return []
    rows = await session.execute(
        select(Video.id, Video.created_at, Video.status, Video.visibility).where(
            Video.id.in_(set(video_ids))
        )
    )
    public = [
        (created_at, video_id)
        for video_id, created_at, status, visibility in rows
        if status == "ready" and visibility == "public"
    ]
    public.sort(reverse=True)
    return [video_id for _, video_id in public[:limit]]


async def video_ids_tagging(
    product_ids: Collection[uuid.UUID], *, limit: int, session: AsyncSession
) -> list[uuid.UUID]:
    """Public videos that tag any of these products, newest first (among the latest tags)."""
    if not product_ids:
        return []
    tagged = await session.scalars(
        select(VideoTag.video_id)
        .where(VideoTag.product_id.in_(set(product_ids)))
        .order_by(VideoTag.created_at.desc())
        .limit(fixed_limit(SCAN))
    )
    return await _newest_public(set(tagged), limit=limit, session=session)


async def video_ids_with_hashtags(
    names: Collection[str], *, limit: int, session: AsyncSession
) -> list[uuid.UUID]:
    """Public videos using any of these hashtags (lower case, no '#'), newest first (among
    the latest ids, which are time-ordered UUIDv7)."""
    if not names:
        return []
    used = await session.scalars(
        select(VideoHashtag.video_id)
        .where(VideoHashtag.name.in_({name.lower() for name in names}))
        .order_by(VideoHashtag.video_id.desc())
        .limit(fixed_limit(SCAN))
    )
    return await _newest_public(set(used), limit=limit, session=session)


# By primary key only (see _newest_public); the status is checked on the rows. Built once:
# every feed page reads its videos (building a statement costs about as much as running it).
_VIDEOS_BY_ID = select(Video).where(Video.id.in_(bindparam("video_ids", expanding=True)))
_VIDEOS_BY_ID_WITHOUT_HASHTAGS = _VIDEOS_BY_ID.options(raiseload(Video.hashtags))


async def public_videos_by_ids(
    video_ids: Collection[uuid.UUID], *, with_hashtags: bool = True, session: AsyncSession
) -> dict[uuid.UUID, Video]:
    """The public, ready videos among these ids (with tags and hashtags loaded), by id.

    `with_hashtags=False` leaves the hashtag rows unread, for callers that take the hashtags
    from the caption; touching `hashtags` on a video not already loaded then fails loudly."""
    if not video_ids:
        return {}
    statement = _VIDEOS_BY_ID if with_hashtags else _VIDEOS_BY_ID_WITHOUT_HASHTAGS
    return {
        video.id: video
        for video in await session.scalars(statement, {"video_ids": list(set(video_ids))})
        if video.status == "ready" and video.visibility == "public"
    }


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
        select(
            Video.id, Video.owner_id, Video.shop_id, Video.created_at, Video.status,
            Video.visibility,
        ).where(Video.id.in_(wanted))  # by primary key only (see _newest_public)
    )  # fmt: skip
    found = {row[0]: row[:4] for row in rows if row[4] == "ready" and row[5] == "public"}
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
