"""Feed API (thin): a page of For You or Following, hydrated for the screen."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query

from clipcart.accounts.dependencies import CurrentUser, OptionalUser
from clipcart.core.routing import DbSession, make_router
from clipcart.feed import domain, engine, service
from clipcart.feed.schemas import FeedPageOut, FeedPreferencesIn, FeedPreferencesOut

router = make_router(prefix="/api/v1", tags=["feed"])


@router.get("/feed")
async def get_feed(
    viewer: OptionalUser,
    db: DbSession,
    tab: domain.Tab = "for_you",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int | None, Query(ge=1, le=domain.MAX_PAGE)] = None,
    accept_language: Annotated[str | None, Header(max_length=200)] = None,
) -> FeedPageOut:
    """A page of the feed: `for_you` (anyone) or `following` (signed in); `next_cursor` is null
    at the end, and an empty first page carries account `suggestions`. Each item says `why` it
    is there (the candidate sources and the main terms of its score)."""
    region = engine.region_of(accept_language)
    return await service.load_feed(
        viewer, tab, cursor=cursor, limit=limit, region=region, session=db
    )


@router.get("/me/feed-preferences")
async def get_feed_preferences(user: CurrentUser, db: DbSession) -> FeedPreferencesOut:
    """Your feed settings: `shopping_mix` and chosen `interests` (hashtag names)."""
    return await service.get_feed_preferences(user, session=db)


@router.put("/me/feed-preferences")
async def put_feed_preferences(
    preferences_in: FeedPreferencesIn, user: CurrentUser, db: DbSession
) -> FeedPreferencesOut:
    """Change your feed settings: more entertainment, balanced or more shopping, and up to 10
    interests; the next page of For You follows them."""
    return await service.set_feed_preferences(user, preferences_in, session=db)
