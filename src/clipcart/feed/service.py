"""Feed use cases: candidates from a FeedSource, a rank step, then hydration for the screen.

The recommender will plug in its own FeedSource and rank; until then For You is recent public
videos ordered by recency and popularity, and Following is recent videos of who you follow."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import clock
from clipcart.core.errors import Unauthorized
from clipcart.feed import domain, hydration, social
from clipcart.feed.schemas import FeedCreatorOut, FeedPageOut
from clipcart.media import service as media

if TYPE_CHECKING:  # types only: videos are read through the media service
    from clipcart.accounts.models import User
    from clipcart.media.models import Video

SUGGESTION_COUNT = 6


@dataclass(frozen=True)
class Candidates:
    """One window of candidate videos and the cursor of the window after it."""

    videos: list[Video]
    next_cursor: str | None


class FeedSource(Protocol):
    """Where a tab's candidate videos come from, a cursor-sized window at a time."""

    async def candidates(
        self, viewer: User | None, *, cursor: str | None, limit: int, session: AsyncSession
    ) -> Candidates:
        """Up to `limit` videos after `cursor` that `viewer` may watch."""
        ...


class RecentPublicSource:
    """For You for now: every public, ready video, newest first, minus blocked accounts."""

    async def candidates(
        self, viewer: User | None, *, cursor: str | None, limit: int, session: AsyncSession
    ) -> Candidates:
        """Recent public videos after `cursor`."""
        hidden = await social.hidden_user_ids(viewer.id if viewer else None, session=session)
        videos, next_cursor = await media.list_public_videos(
            cursor=cursor, limit=limit, exclude_owner_ids=hidden, session=session
        )
        return Candidates(videos=videos, next_cursor=next_cursor)


class FollowingSource:
    """Following: recent public videos of the accounts and shops the viewer follows."""

    async def candidates(
        self, viewer: User | None, *, cursor: str | None, limit: int, session: AsyncSession
    ) -> Candidates:
        """Recent videos of followed accounts and shops after `cursor`."""
        if viewer is None:
            return Candidates(videos=[], next_cursor=None)
        following = await social.following_ids(viewer.id, session=session)
        if following.empty:
            return Candidates(videos=[], next_cursor=None)
        hidden = await social.hidden_user_ids(viewer.id, session=session)
        videos, next_cursor = await media.list_public_videos(
            cursor=cursor,
            limit=limit,
            owner_ids=following.user_ids,
            shop_ids=following.shop_ids,
            exclude_owner_ids=hidden,
            session=session,
        )
        return Candidates(videos=videos, next_cursor=next_cursor)


SOURCES: dict[str, FeedSource] = {"for_you": RecentPublicSource(), "following": FollowingSource()}


def rank(
    videos: Sequence[Video], engagement: dict[uuid.UUID, domain.Engagement], *, now: datetime
) -> list[Video]:
    """Order a window of candidates by score (recency + popularity), newest first on ties."""
    empty = domain.Engagement()
    return sorted(
        videos,
        key=lambda video: (
            domain.score(engagement.get(video.id, empty), video.created_at, now),
            video.created_at,
        ),
        reverse=True,
    )


async def suggest_creators(viewer: User | None, *, session: AsyncSession) -> list[FeedCreatorOut]:
    """Accounts with recent public videos the viewer does not follow yet (for an empty tab)."""
    viewer_id = viewer.id if viewer else None
    following = await social.following_ids(viewer_id, session=session)
    hidden = await social.hidden_user_ids(viewer_id, session=session)
    recent, _ = await media.list_public_videos(
        cursor=None, limit=SUGGESTION_COUNT * 8, session=session
    )
    owner_ids: list[uuid.UUID] = []
    for video in recent:
        skip = video.owner_id == viewer_id or video.owner_id in following.user_ids
        skip = skip or video.owner_id in hidden
        if not skip and video.owner_id not in owner_ids:
            owner_ids.append(video.owner_id)
    return await hydration.creators(owner_ids[:SUGGESTION_COUNT], following, session=session)


async def load_feed(
    viewer: User | None,
    tab: domain.Tab,
    *,
    cursor: str | None,
    limit: int | None,
    session: AsyncSession,
    require_login: bool = True,
) -> FeedPageOut:
    """A page of a tab, ranked and hydrated in a fixed number of queries."""
    if tab == "following" and viewer is None and require_login:
        raise Unauthorized("Log in to see the accounts you follow.", code="login_required")
    size = domain.clamp_page_size(limit)
    window = await SOURCES[tab].candidates(viewer, cursor=cursor, limit=size, session=session)
    viewer_id = viewer.id if viewer else None
    ids = [video.id for video in window.videos]
    engagement = await social.video_counts(ids, session=session)
    videos = window.videos
    if tab == "for_you":
        videos = rank(videos, engagement, now=clock.now())
    items = await hydration.items(videos, viewer_id, engagement, session=session)
    suggestions: list[FeedCreatorOut] = []
    if not items and cursor is None:
        suggestions = await suggest_creators(viewer, session=session)
    return FeedPageOut(
        tab=tab, items=items, next_cursor=window.next_cursor, suggestions=suggestions
    )
