"""The home page: the full-screen vertical feed (For You and Following), and the fragment of
further items the page's script appends as the viewer scrolls."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from clipcart.core.routing import DbSession, make_router
from clipcart.feed import domain, service
from clipcart.web.templating import render
from clipcart.web.viewer import Viewer

router = make_router(include_in_schema=False)

FIRST_PAGE = 5
MORE_PAGE = 5
TAB_LABELS = {"for_you": "For You", "following": "Following"}


def _tab(raw: str | None) -> domain.Tab:
    return "following" if raw == "following" else "for_you"


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request,
    viewer: Viewer,
    session: DbSession,
    tab: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The feed, one video per screen; the welcome page while nobody has posted yet."""
    chosen = _tab(tab)
    page = await service.load_feed(
        viewer, chosen, cursor=None, limit=FIRST_PAGE, session=session, require_login=False
    )
    context: dict[str, Any] = {
        "feed_tab": chosen,
        "tab_labels": TAB_LABELS,
        "page": page,
        "position_offset": 0,
    }
    return render(request, "home.html", context, viewer=viewer, tab="home")


@router.get("/feed/items", response_class=HTMLResponse)
async def more_items(
    request: Request,
    viewer: Viewer,
    session: DbSession,
    tab: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """The next items of a tab as HTML (the same markup as the first screenful)."""
    chosen = _tab(tab)
    page = await service.load_feed(
        viewer, chosen, cursor=cursor, limit=MORE_PAGE, session=session, require_login=False
    )
    context = {"feed_tab": chosen, "page": page, "position_offset": offset}
    return render(request, "feed/items.html", context, viewer=viewer)
