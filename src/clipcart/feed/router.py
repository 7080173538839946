"""Feed API (thin): a page of For You or Following, hydrated for the screen."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from clipcart.accounts.dependencies import OptionalUser
from clipcart.core.routing import DbSession, make_router
from clipcart.feed import domain, service
from clipcart.feed.schemas import FeedPageOut

router = make_router(prefix="/api/v1", tags=["feed"])


@router.get("/feed")
async def get_feed(
    viewer: OptionalUser,
    db: DbSession,
    tab: domain.Tab = "for_you",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int | None, Query(ge=1, le=domain.MAX_PAGE)] = None,
) -> FeedPageOut:
    """A page of the feed: `for_you` (anyone) or `following` (signed in); `next_cursor` is null
    at the end, and an empty first page carries account `suggestions`."""
    return await service.load_feed(viewer, tab, cursor=cursor, limit=limit, session=db)
