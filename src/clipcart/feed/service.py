"""Feed use cases: For You from the recommendation engine (`feed.engine`), Following from the
accounts you follow (newest first), each hydrated for the screen with why it is there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import clock
from clipcart.core.errors import Unauthorized
from clipcart.feed import domain, engine, hydration, social
from clipcart.feed.ranking import Explanation
from clipcart.feed.schemas import (
    FeedCreatorOut,
    FeedPageOut,
    FeedPreferencesIn,
    FeedPreferencesOut,
    FeedScoreTermOut,
    FeedWhyOut,
)
from clipcart.media import service as media
from clipcart.recs import service as recs

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
    region: str | None = None,
) -> FeedPageOut:
    """A page of a tab, ranked and hydrated in a fixed number of queries."""
    if tab == "following" and viewer is None and require_login:
        raise Unauthorized("Log in to see the accounts you follow.", code="login_required")
    size = domain.clamp_page_size(limit)
    viewer_id = viewer.id if viewer else None
    if tab == "for_you":
        page = await engine.for_you(
            viewer_id, cursor=cursor, size=size, now=clock.now(), region=region, session=session
        )
        videos, engagement, next_cursor = page.videos, page.engagement, page.next_cursor
        following: social.Following | None = page.following
        why = {video_id: _why(explanation) for video_id, explanation in page.why.items()}
    else:
        window = await FollowingSource().candidates(
            viewer, cursor=cursor, limit=size, session=session
        )
        videos, next_cursor = window.videos, window.next_cursor
        engagement = await social.video_counts([video.id for video in videos], session=session)
        why = {video.id: FOLLOWING_WHY for video in videos}
        following = None
    items = await hydration.items(
        videos, viewer_id, engagement, following=following, session=session
    )
    for item in items:
        item.why = why.get(item.video.id)
    suggestions: list[FeedCreatorOut] = []
    if not items and cursor is None:
        suggestions = await suggest_creators(viewer, session=session)
    return FeedPageOut(tab=tab, items=items, next_cursor=next_cursor, suggestions=suggestions)


FOLLOWING_WHY = FeedWhyOut(
    summary="You are seeing this because you follow this account; Following shows the newest "
    "videos of the accounts you follow.",
    sources=["following"],
    reasons=[],
    terms=[],
    score=0.0,
)


def _why(explanation: Explanation) -> FeedWhyOut:
    return FeedWhyOut(
        summary=explanation.summary,
        sources=list(explanation.sources),
        reasons=list(explanation.reasons),
        terms=[
            FeedScoreTermOut(name=term.name, value=round(term.value, 4), text=term.text)
            for term in explanation.terms
        ],
        score=round(explanation.score, 4),
    )


def _preferences_out(preferences: recs.Preferences) -> FeedPreferencesOut:
    return FeedPreferencesOut(
        shopping_mix=preferences.shopping_mix,
        interests=list(preferences.interests),
        shoppable_every=preferences.shoppable_every,
    )


async def get_feed_preferences(user: User, *, session: AsyncSession) -> FeedPreferencesOut:
    """The person's feed settings."""
    return _preferences_out(await recs.get_preferences(user.id, session=session))


async def set_feed_preferences(
    user: User, preferences_in: FeedPreferencesIn, *, session: AsyncSession
) -> FeedPreferencesOut:
    """Change the person's feed settings (the next page of For You follows them)."""
    preferences = await recs.set_preferences(
        user.id,
        shopping_mix=preferences_in.shopping_mix,
        interests=preferences_in.interests,
        session=session,
    )
    return _preferences_out(preferences)
