"""The feed's view of the social layer: counters, the viewer's likes and saves, who they
follow, and whom they must not see (blocks). Read through the social service, in one query
each, whatever the page size."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.feed.domain import Engagement
from clipcart.social import service as social


@dataclass(frozen=True)
class Following:
    """The accounts and shops a viewer follows."""

    user_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    shop_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        """True when the viewer follows nobody."""
        return not self.user_ids and not self.shop_ids


@dataclass(frozen=True)
class ViewerState:
    """What the viewer did to one video."""

    liked: bool = False
    saved: bool = False


async def video_counts(
    video_ids: list[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, Engagement]:
    """The counters of each video."""
    found = await social.video_counts(video_ids, session=session)
    return {
        video_id: Engagement(
            likes=counts.likes,
            views=counts.views,
            comments=counts.comments,
            saves=counts.saves,
            shares=counts.shares,
        )
        for video_id, counts in found.items()
    }


async def viewer_video_state(
    viewer_id: uuid.UUID | None, video_ids: list[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, ViewerState]:
    """Whether the viewer liked and saved each video (nothing for anonymous viewers)."""
    if viewer_id is None:
        return {}
    found = await social.viewer_video_state(viewer_id, video_ids, session=session)
    return {
        video_id: ViewerState(liked=state.liked, saved=state.saved)
        for video_id, state in found.items()
    }


async def following_ids(viewer_id: uuid.UUID | None, *, session: AsyncSession) -> Following:
    """Who the viewer follows (nobody for anonymous viewers)."""
    if viewer_id is None:
        return Following()
    found = await social.following_ids(viewer_id, session=session)
    return Following(user_ids=frozenset(found.user_ids), shop_ids=frozenset(found.shop_ids))


async def hidden_user_ids(viewer_id: uuid.UUID | None, *, session: AsyncSession) -> set[uuid.UUID]:
    """Accounts whose videos the viewer must not get: blocked by or blocking the viewer."""
    if viewer_id is None:
        return set()
    return set(await social.blocked_user_ids(viewer_id, session=session))
