"""Who may see what: blocks hide people from each other, follows open "followers" videos."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import and_, bindparam, exists, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.core.errors import NotFound
from clipcart.media import service as media
from clipcart.media.models import Video
from clipcart.social.models import Block, UserFollow


async def is_blocked_between(a_id: uuid.UUID, b_id: uuid.UUID, *, session: AsyncSession) -> bool:
    """True when either person blocked the other."""
    condition = exists().where(
        or_(
            and_(Block.blocker_id == a_id, Block.blocked_id == b_id),
            and_(Block.blocker_id == b_id, Block.blocked_id == a_id),
        )
    )
    return bool(await session.scalar(select(condition)))


async def is_follower(viewer_id: uuid.UUID, owner_id: uuid.UUID, *, session: AsyncSession) -> bool:
    """True when `viewer_id` follows `owner_id` (what "followers" visibility needs)."""
    condition = exists().where(
        UserFollow.follower_id == viewer_id, UserFollow.followed_id == owner_id
    )
    return bool(await session.scalar(select(condition)))


async def get_visible_video(
    viewer: User | None, video_id: uuid.UUID, *, session: AsyncSession
) -> Video:
    """A video the viewer may see and act on: media's rules, and no block between the viewer
    and the uploader (404 either way, so nothing leaks)."""
    video = await media.get_video_for(viewer, video_id, session=session)
    if (
        viewer is not None
        and viewer.id != video.owner_id
        and await is_blocked_between(viewer.id, video.owner_id, session=session)
    ):
        raise NotFound("There is no such video.", code="video_not_found")
    return video


# Built once (every feed page asks).
_BLOCKED_EITHER_WAY = union(
    select(Block.blocked_id).where(Block.blocker_id == bindparam("viewer_id")),
    select(Block.blocker_id).where(Block.blocked_id == bindparam("viewer_id")),
)


async def blocked_user_ids(viewer_id: uuid.UUID, *, session: AsyncSession) -> set[uuid.UUID]:
    """Everyone the viewer blocked or was blocked by (the feed leaves their videos out)."""
    return set(await session.scalars(_BLOCKED_EITHER_WAY, {"viewer_id": viewer_id}))


async def blockers_of(
    blocked_id: uuid.UUID, candidate_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> set[uuid.UUID]:
    """Those of `candidate_ids` who blocked `blocked_id` (a shop's staff and a person)."""
    if not candidate_ids:
        return set()
    found = await session.scalars(
        select(Block.blocker_id).where(
            Block.blocked_id == blocked_id, Block.blocker_id.in_(list(candidate_ids))
        )
    )
    return set(found)
