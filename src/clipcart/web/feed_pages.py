"""The home page: the full-screen vertical feed (For You and Following), the fragment of
further items the page's script appends as the viewer scrolls, and your feed settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from clipcart.accounts.models import User
from clipcart.core.errors import AppError
from clipcart.core.routing import DbSession, make_router
from clipcart.feed import domain, engine, service
from clipcart.feed.schemas import FeedPreferencesIn, FeedPreferencesOut
from clipcart.web.flash import flash
from clipcart.web.forms import FormErrors, form_errors, see_other
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer, Viewer

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
        viewer,
        chosen,
        cursor=None,
        limit=FIRST_PAGE,
        session=session,
        require_login=False,
        region=engine.region_of(request.headers.get("accept-language")),
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
        viewer,
        chosen,
        cursor=cursor,
        limit=MORE_PAGE,
        session=session,
        require_login=False,
        region=engine.region_of(request.headers.get("accept-language")),
    )
    context = {"feed_tab": chosen, "page": page, "position_offset": offset}
    return render(request, "feed/items.html", context, viewer=viewer)


# --- your feed settings -------------------------------------------------------------------------

MIX_LABELS = {
    "more_entertainment": "More entertainment",
    "balanced": "Balanced",
    "more_shopping": "More shopping",
}


def _feed_settings_page(
    request: Request,
    viewer: User,
    preferences: FeedPreferencesOut,
    *,
    errors: FormErrors | None = None,
    interests_text: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "feed/settings.html",
        {
            "preferences": preferences,
            "mix_labels": MIX_LABELS,
            "interests_text": interests_text
            if interests_text is not None
            else " ".join(f"#{name}" for name in preferences.interests),
            "errors": errors or {},
            "settings_section": "feed",
        },
        viewer=viewer,
        tab="me",
        status_code=status_code,
    )


@router.get("/settings/feed", response_class=HTMLResponse)
async def feed_settings(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """How much shopping you want in For You, and the topics you are into."""
    preferences = await service.get_feed_preferences(viewer, session=session)
    return _feed_settings_page(request, viewer, preferences)


@router.post("/settings/feed", response_class=HTMLResponse)
async def save_feed_settings(
    request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Save the feed settings; the next page of For You follows them."""
    form = await request.form()
    mix = str(form.get("shopping_mix") or "balanced")
    interests_text = str(form.get("interests") or "")
    interests = [part for part in interests_text.replace(",", " ").split() if part]
    try:
        preferences_in = FeedPreferencesIn.model_validate(
            {"shopping_mix": mix, "interests": interests}
        )
        await service.set_feed_preferences(viewer, preferences_in, session=session)
    except (ValidationError, AppError) as error:
        errors, status = form_errors(error, known_fields={"shopping_mix", "interests"})
        current = await service.get_feed_preferences(viewer, session=session)
        return _feed_settings_page(
            request,
            viewer,
            current,
            errors=errors,
            interests_text=interests_text,
            status_code=status,
        )
    response = see_other("/settings/feed")
    flash(response, "Your feed settings are saved. For You follows them from the next video.")
    return response
