"""Social pages: follower lists, the follow/block forms (they work without JavaScript), the
report form, the blocked list and privacy settings, and what a profile page adds."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.core.errors import AppError, NotFound
from clipcart.core.routing import DbSession, make_router
from clipcart.social import domain, profiles, service
from clipcart.web.flash import flash
from clipcart.web.forms import FORM_ERROR, errors_from_app_error, safe_next, see_other
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer, Viewer

router = make_router(include_in_schema=False)

PROFILE_GRID = 12
SHOWCASE_SIZE = 8
REPORT_FIELDS = {"reason", "details", "target_type", "target_id"}


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _person(handle: str, session: AsyncSession) -> User:
    if len(handle) > 100 or domain.has_control_characters(handle):
        raise NotFound("There is no account with that handle.", code="user_not_found")
    return await accounts.get_user_by_handle(handle, session=session)


def _tile(video: Any, counts: service.VideoCounts) -> dict[str, Any]:
    return {
        "id": video.id,
        "url": f"/v/{video.id}",
        "poster": f"/api/v1/videos/{video.id}/poster.jpg?v={video.poster_version}",
        "caption": video.caption or "Untitled video",
        "likes": counts.likes,
    }


async def profile_extras(
    viewer: User | None, user: User, *, session: AsyncSession
) -> dict[str, Any]:
    """What `templates/social/_profile.html` needs to show on `user`'s profile to `viewer`."""
    is_self = viewer is not None and viewer.id == user.id
    blocked = False
    if viewer is not None and not is_self:
        blocked = await service.is_blocked_between(viewer.id, user.id, session=session)
    counts = (await service.user_counts([user.id], session=session))[user.id]
    likes_public = await service.likes_are_public(user.id, session=session)
    videos, liked = [], []
    showcase: list[profiles.ShowcaseItem] = []
    if not blocked:
        videos = await profiles.public_videos(user, limit=PROFILE_GRID, session=session)
        if likes_public or is_self:
            liked = await profiles.liked_public_videos(
                user, viewer, limit=PROFILE_GRID, session=session
            )
        showcase = await profiles.showcase(user, viewer, limit=SHOWCASE_SIZE, session=session)
    video_counts = await service.video_counts(
        [video.id for video in videos + liked], session=session
    )
    following = False
    if viewer is not None and not is_self:
        following = await service.is_following(viewer.id, user_id=user.id, session=session)
    return {
        "social_user": user,
        "social_is_self": is_self,
        "social_blocked": blocked,
        "social_following": following,
        "social_counts": counts,
        "social_videos": [_tile(v, video_counts[v.id]) for v in videos],
        "social_liked": [_tile(v, video_counts[v.id]) for v in liked],
        "social_likes_public": likes_public,
        "social_showcase": showcase,
        "social_shops": await profiles.owned_shops(user, session=session),
    }


# --- follower lists ------------------------------------------------------------------------------


async def _people_page(
    request: Request, handle: str, viewer: User | None, session: AsyncSession, *, which: str
) -> Response:
    user = await _person(handle, session)
    cursor = request.query_params.get("cursor") or None
    if which == "followers":
        people, next_cursor = await service.list_followers(
            user, cursor=cursor, limit=30, session=session
        )
    else:
        people, next_cursor = await service.list_following(
            user, cursor=cursor, limit=30, session=session
        )
    following_ids = await service.following_ids(viewer.id, session=session) if viewer else None
    rows = [
        {
            "user": person,
            "following": following_ids is not None and person.id in following_ids.user_ids,
            "is_self": viewer is not None and viewer.id == person.id,
        }
        for person in people
    ]
    counts = (await service.user_counts([user.id], session=session))[user.id]
    return render(
        request,
        "social/people.html",
        {
            "user": user,
            "which": which,
            "rows": rows,
            "next_cursor": next_cursor,
            "counts": counts,
        },
        viewer=viewer,
    )


@router.get("/@{handle}/followers", response_class=HTMLResponse)
async def followers(request: Request, handle: str, viewer: Viewer, session: DbSession) -> Response:
    """People who follow this person."""
    return await _people_page(request, handle, viewer, session, which="followers")


@router.get("/@{handle}/following", response_class=HTMLResponse)
async def following(request: Request, handle: str, viewer: Viewer, session: DbSession) -> Response:
    """People this person follows."""
    return await _people_page(request, handle, viewer, session, which="following")


# --- follow and block forms ----------------------------------------------------------------------


@router.post("/@{handle}/follow", response_class=HTMLResponse)
async def follow_form(
    request: Request, handle: str, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Follow (or, with action=unfollow, stop following) and go back where the form was."""
    form = await request.form()
    target = await _person(handle, session)
    back = safe_next(_text(form, "next"), default=f"/@{target.handle}")
    try:
        if _text(form, "action") == "unfollow":
            await service.unfollow(viewer, user_id=target.id, session=session)
            message = f"You no longer follow @{target.handle}."
        else:
            await service.follow(viewer, user_id=target.id, session=session)
            message = f"You follow @{target.handle} now."
    except AppError as error:
        if isinstance(error, NotFound):
            raise
        response = see_other(back)
        flash(response, error.message, kind="error")
        return response
    response = see_other(back)
    flash(response, message)
    return response


@router.post("/@{handle}/block", response_class=HTMLResponse)
async def block_form(
    request: Request, handle: str, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Block (or, with action=unblock, unblock) a person."""
    form = await request.form()
    target = await _person(handle, session)
    back = safe_next(_text(form, "next"), default="/settings/blocked")
    try:
        if _text(form, "action") == "unblock":
            await service.unblock(viewer, target, session=session)
            message = f"You unblocked @{target.handle}."
        else:
            await service.block(viewer, target, session=session)
            message = f"You blocked @{target.handle}. They can no longer see your videos."
    except AppError as error:
        response = see_other(back)
        flash(response, error.message, kind="error")
        return response
    response = see_other(back)
    flash(response, message)
    return response


# --- blocked list and privacy --------------------------------------------------------------------


@router.get("/settings/blocked", response_class=HTMLResponse)
async def blocked_list(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """The people you blocked, and whether your liked videos are public."""
    return render(
        request,
        "social/blocked.html",
        {
            "blocked": await service.list_blocked(viewer, session=session),
            "likes_public": await service.likes_are_public(viewer.id, session=session),
            "settings_section": "blocked",
        },
        viewer=viewer,
        tab="me",
    )


@router.post("/settings/privacy", response_class=HTMLResponse)
async def privacy(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Show or hide the videos you liked on your profile."""
    form = await request.form()
    public = _text(form, "likes_public") == "on"
    await service.set_likes_public(viewer, public, session=session)
    response = see_other("/settings/blocked")
    flash(
        response,
        "Your liked videos are public now." if public else "Your liked videos are private now.",
    )
    return response


# --- reports -------------------------------------------------------------------------------------


def _report_page(
    request: Request,
    viewer: User,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "social/report.html",
        {
            "values": values,
            "errors": errors or {},
            "reasons": domain.REPORT_REASON_LABELS,
            "target_label": {
                "video": "this video",
                "comment": "this comment",
                "user": "this account",
                "product": "this product",
            }.get(values.get("target_type", ""), "this"),
        },
        viewer=viewer,
        status_code=status_code,
    )


def _report_values(source: Any) -> dict[str, str]:
    return {
        name: _text(source, name)
        for name in ("target_type", "target_id", "reason", "details", "next")
    }


@router.get("/report", response_class=HTMLResponse)
async def report_form(request: Request, viewer: SignedInViewer) -> Response:
    """The report form for one video, comment, account or product."""
    values = _report_values(request.query_params)
    if values["target_type"] not in domain.REPORT_TARGETS:
        raise NotFound("There is nothing to report here.", code="report_target_unknown")
    return _report_page(request, viewer, values)


@router.post("/report", response_class=HTMLResponse)
async def send_report(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Send the report and say what happens next."""
    values = _report_values(await request.form())
    try:
        target_id = uuid.UUID(values["target_id"])
    except ValueError:
        return _report_page(
            request,
            viewer,
            values,
            errors={FORM_ERROR: "We could not tell what you are reporting. Go back and try again."},
            status_code=422,
        )
    try:
        await service.check_rate("report", str(viewer.id), limiter=request.app.state.rate_limiter)
        await service.report(
            viewer,
            target_type=values["target_type"],
            target_id=target_id,
            reason=values["reason"],
            details=values["details"],
            session=session,
        )
    except AppError as error:
        errors = errors_from_app_error(error, known_fields=REPORT_FIELDS)
        return _report_page(request, viewer, values, errors=errors, status_code=error.status)
    response = see_other(safe_next(values["next"], default="/"))
    flash(response, "Thanks for telling us. Our team will look at your report.")
    return response
