"""Video pages: upload (the + tab) with progress, status, studio, the video permalink,
editing and tagging, a shop's videos and hashtag pages. Every page works without JavaScript;
small ES modules add upload progress and status polling."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from clipcart.accounts.models import User
from clipcart.core.errors import AppError, ValidationFailed
from clipcart.core.routing import DbSession, make_router
from clipcart.media import service, tagging
from clipcart.media.config import get_media_settings
from clipcart.media.intake import receive_upload
from clipcart.media.models import Video
from clipcart.media.schemas import TagIn, VideoUpdateIn
from clipcart.shops import service as shops
from clipcart.web.flash import flash
from clipcart.web.forms import (
    FORM_ERROR,
    errors_from_app_error,
    errors_from_validation,
    see_other,
)
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer, Viewer

router = make_router(include_in_schema=False)

UPLOAD_FIELDS = {"file", "caption", "visibility", "shop"}
EDIT_FIELDS = {"caption", "visibility", "cover_time"}
TAG_FIELDS = {"product_id", "start_seconds", "end_seconds"}


def _limits() -> dict[str, Any]:
    settings = get_media_settings()
    return {
        "max_bytes": settings.max_upload_bytes,
        "max_mb": settings.max_upload_bytes // (1024 * 1024),
        "max_seconds": int(settings.max_duration_seconds),
    }


def _errors(error: Exception, fields: set[str]) -> tuple[dict[str, str], int]:
    if isinstance(error, ValidationError):
        return errors_from_validation(error), 422
    assert isinstance(error, AppError)
    return errors_from_app_error(error, known_fields=fields), error.status


async def _upload_page(
    request: Request,
    viewer: User,
    session: DbSession,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    shop_choices = await service.shops_for_uploader(viewer, session=session)
    wanted_shop = (values or {}).get("shop") or request.query_params.get("shop", "")
    return render(
        request,
        "media/upload.html",
        {
            "errors": errors or {},
            "values": {"visibility": "public", **(values or {}), "shop": wanted_shop},
            "shops": shop_choices,
            "can_post_as_self": "creator" in viewer.role_names,
            "limits": _limits(),
        },
        viewer=viewer,
        tab="upload",
        status_code=status_code,
    )


@router.get("/upload", response_class=HTMLResponse)
async def upload_form(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """The + tab: upload a video (progress shown by video-upload.js)."""
    return await _upload_page(request, viewer, session)


@router.post("/upload", response_class=HTMLResponse)
async def upload(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """The no-JavaScript upload: the same checks as the API, then the status page."""
    values: dict[str, str] = {}
    try:
        async with receive_upload(request) as form:
            values = {name: form.fields.get(name, "") for name in ("caption", "visibility", "shop")}
            shop_id = await service.upload_shop(viewer, values["shop"] or None, session=session)
            assert form.file is not None
            video = await service.create_video(
                viewer,
                form.file,
                shop_id=shop_id,
                caption=values["caption"].strip(),
                visibility=values["visibility"] or "public",
                session=session,
            )
    except AppError as error:
        errors, status = _errors(error, UPLOAD_FIELDS)
        return await _upload_page(
            request, viewer, session, errors=errors, values=values, status_code=status
        )
    return see_other(f"/v/{video.id}/status")


@router.get("/v/{video_id}/status", response_class=HTMLResponse)
async def video_status(
    request: Request, video_id: uuid.UUID, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Where an upload goes while it is processed; video-status.js polls the API."""
    video = await service.get_video_for_editor(viewer, video_id, session=session)
    return render(request, "media/status.html", {"video": video}, viewer=viewer, tab="upload")


@router.get("/studio/videos", response_class=HTMLResponse)
async def studio(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """My videos with their status."""
    cursor = request.query_params.get("cursor") or None
    videos, next_cursor = await service.list_my_videos(
        viewer, cursor=cursor, limit=30, session=session
    )
    return render(
        request,
        "media/studio.html",
        {"videos": videos, "next_cursor": next_cursor, "heading": "My videos", "shop": None},
        viewer=viewer,
        tab="me",
    )


@router.get("/seller/{handle}/videos", response_class=HTMLResponse)
async def shop_videos(
    request: Request, handle: str, viewer: SignedInViewer, session: DbSession
) -> Response:
    """A shop's videos, for its staff, with an upload button."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session)
    cursor = request.query_params.get("cursor") or None
    videos, next_cursor = await service.list_shop_videos(
        shop.id, cursor=cursor, limit=30, session=session
    )
    return render(
        request,
        "media/studio.html",
        {
            "videos": videos,
            "next_cursor": next_cursor,
            "heading": f"{shop.name} videos",
            "shop": shop,
        },
        viewer=viewer,
        tab="me",
    )


async def _video_context(video: Video, viewer: User | None, session: DbSession) -> dict[str, Any]:
    described = await service.describe_video(video, session=session)
    return {
        "video": described,
        "owner": await service.owner_of(video, session=session),
        "shop_handle": await service.shop_handle_of(video, session=session),
        "can_edit": await service.can_edit(viewer, video, session=session),
    }


@router.get("/v/{video_id}", response_class=HTMLResponse)
async def video_page(
    request: Request, video_id: uuid.UUID, viewer: Viewer, session: DbSession
) -> Response:
    """The video's permalink: player, caption with links, tagged products, Open Graph."""
    video = await service.get_video_for(viewer, video_id, session=session)
    context = await _video_context(video, viewer, session)
    context["base_url"] = str(request.base_url).rstrip("/")
    return render(request, "media/video.html", context, viewer=viewer, tab="home")


async def _edit_page(
    request: Request,
    video: Video,
    viewer: User,
    session: DbSession,
    *,
    errors: dict[str, str] | None = None,
    tag_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = await _video_context(video, viewer, session)
    context.update(
        {
            "errors": errors or {},
            "tag_errors": tag_errors or {},
            "products": await tagging.taggable_for_video(viewer, video, session=session),
        }
    )
    return render(
        request, "media/edit.html", context, viewer=viewer, tab="me", status_code=status_code
    )


@router.get("/v/{video_id}/edit", response_class=HTMLResponse)
async def edit_form(
    request: Request, video_id: uuid.UUID, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Caption, visibility, cover frame and product tags."""
    video = await service.get_video_for_editor(viewer, video_id, session=session)
    return await _edit_page(request, video, viewer, session)


def _number(value: Any) -> float | None:
    text = value.strip() if isinstance(value, str) else ""
    return float(text) if text else None


@router.post("/v/{video_id}/edit", response_class=HTMLResponse)
async def edit(
    request: Request, video_id: uuid.UUID, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Save caption, visibility and cover time."""
    video = await service.get_video_for_editor(viewer, video_id, session=session)
    form = await request.form()
    try:
        try:
            cover = _number(form.get("cover_time"))
        except ValueError:
            raise ValidationFailed.field(
                "cover_time", "Enter the cover time in seconds, like 1.5."
            ) from None
        update = VideoUpdateIn(
            caption=str(form.get("caption", "")),
            visibility=str(form.get("visibility", video.visibility)),
            cover_time=cover,
        )
        await service.update_video(video, update, session=session)
    except (AppError, ValidationError) as error:
        errors, status = _errors(error, EDIT_FIELDS)
        return await _edit_page(request, video, viewer, session, errors=errors, status_code=status)
    response = see_other(f"/v/{video.id}/edit")
    flash(response, "Video saved.")
    return response


@router.post("/v/{video_id}/tags", response_class=HTMLResponse)
async def add_tag(
    request: Request, video_id: uuid.UUID, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Tag a product in the video."""
    video = await service.get_video_for_editor(viewer, video_id, session=session)
    form = await request.form()
    try:
        try:
            start, end = _number(form.get("start_seconds")), _number(form.get("end_seconds"))
        except ValueError:
            raise ValidationFailed.field(
                "start_seconds", "Enter times in seconds, like 1.5."
            ) from None
        tag_in = TagIn(
            product_id=str(form.get("product_id", "")),
            start_seconds=start,
            end_seconds=end,
        )
        await tagging.add_tag(viewer, video, tag_in, session=session)
    except (AppError, ValidationError) as error:
        errors, status = _errors(error, TAG_FIELDS)
        if not isinstance(error, AppError):
            errors = {FORM_ERROR: "Choose a product to tag."} if "product_id" in errors else errors
        return await _edit_page(
            request, video, viewer, session, tag_errors=errors, status_code=status
        )
    response = see_other(f"/v/{video.id}/edit#tags")
    flash(response, "Product tagged.")
    return response


@router.post("/v/{video_id}/tags/{tag_id}/delete", response_class=HTMLResponse)
async def remove_tag(
    request: Request,
    video_id: uuid.UUID,
    tag_id: uuid.UUID,
    viewer: SignedInViewer,
    session: DbSession,
) -> Response:
    """Remove a product tag."""
    video = await service.get_video_for_editor(viewer, video_id, session=session)
    await tagging.remove_tag(video, tag_id, session=session)
    response = see_other(f"/v/{video.id}/edit#tags")
    flash(response, "Tag removed.", kind="info")
    return response


@router.post("/v/{video_id}/delete", response_class=HTMLResponse)
async def delete(
    request: Request, video_id: uuid.UUID, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Delete the video and its files."""
    video = await service.get_video_for_editor(viewer, video_id, session=session)
    await service.delete_video(video, session=session)
    response = see_other("/studio/videos")
    flash(response, "Video deleted.", kind="info")
    return response


@router.get("/tag/{name}", response_class=HTMLResponse)
async def hashtag(request: Request, name: str, viewer: Viewer, session: DbSession) -> Response:
    """Public, ready videos using #name."""
    cursor = request.query_params.get("cursor") or None
    videos, next_cursor = await service.list_hashtag_videos(
        name, cursor=cursor, limit=30, session=session
    )
    return render(
        request,
        "media/hashtag.html",
        {"name": name.lower().lstrip("#"), "videos": videos, "next_cursor": next_cursor},
        viewer=viewer,
        tab="home",
    )
