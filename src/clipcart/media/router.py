"""Video API (thin): upload, read, edit, delete, tag, list, and the media files with Range."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request, Response

import clipcart.media.tasks  # noqa: F401  (registers the transcode job with the queue)
from clipcart.accounts.dependencies import CurrentUser, OptionalUser, require_scope
from clipcart.accounts.models import User
from clipcart.core.routing import DbSession, make_router
from clipcart.media import service, tagging
from clipcart.media.intake import receive_upload
from clipcart.media.models import Video
from clipcart.media.schemas import TagIn, VideoOut, VideoPage, VideoUpdateIn
from clipcart.media.storage import get_storage

router = make_router(prefix="/api/v1", tags=["media"])

MediaWriter = Annotated[User, Depends(require_scope("media:write"))]
"""The caller, when an API token caller holds the media:write scope (sessions always may)."""


async def upload_video(request: Request, user: User, db: DbSession) -> Video:
    """Receive an upload (API or page) and create the video."""
    async with receive_upload(request) as form:
        shop_id = await service.upload_shop(user, form.fields.get("shop") or None, session=db)
        assert form.file is not None
        return await service.create_video(
            user,
            form.file,
            shop_id=shop_id,
            caption=form.fields.get("caption", "").strip(),
            visibility=form.fields.get("visibility", "public") or "public",
            session=db,
        )


@router.post(
    "/videos",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "caption": {"type": "string"},
                            "visibility": {"enum": ["public", "followers", "private"]},
                            "shop": {"type": "string", "description": "Upload for this shop"},
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
async def create_video(request: Request, user: MediaWriter, db: DbSession) -> VideoOut:
    """Upload a video (multipart: file, caption, visibility, shop); it is then transcoded."""
    video = await upload_video(request, user, db)
    return await service.describe_video(video, session=db)


@router.get("/videos")
async def list_my_videos(
    user: CurrentUser, db: DbSession, cursor: str | None = None, limit: int | None = None
) -> VideoPage:
    """My videos, newest first (cursor pagination)."""
    videos, next_cursor = await service.list_my_videos(user, cursor=cursor, limit=limit, session=db)
    items = [await service.describe_video(video, session=db) for video in videos]
    return VideoPage(items=items, next_cursor=next_cursor)


@router.get("/videos/{video_id}")
async def get_video(video_id: uuid.UUID, viewer: OptionalUser, db: DbSession) -> VideoOut:
    """A video: status, file URLs, caption parts and tagged products."""
    video = await service.get_video_for(viewer, video_id, session=db)
    return await service.describe_video(video, session=db)


@router.patch("/videos/{video_id}")
async def update_video(
    video_id: uuid.UUID, data: VideoUpdateIn, user: MediaWriter, db: DbSession
) -> VideoOut:
    """Change caption, visibility or cover frame time."""
    video = await service.get_video_for_editor(user, video_id, session=db)
    await service.update_video(video, data, session=db)
    return await service.describe_video(video, session=db)


@router.delete("/videos/{video_id}", status_code=204)
async def delete_video(video_id: uuid.UUID, user: MediaWriter, db: DbSession) -> Response:
    """Delete a video and its files."""
    video = await service.get_video_for_editor(user, video_id, session=db)
    await service.delete_video(video, session=db)
    return Response(status_code=204)


@router.post("/videos/{video_id}/tags", status_code=201)
async def add_tag(video_id: uuid.UUID, data: TagIn, user: MediaWriter, db: DbSession) -> VideoOut:
    """Tag a product (your shop's) in the video, optionally between two times."""
    video = await service.get_video_for_editor(user, video_id, session=db)
    await tagging.add_tag(user, video, data, session=db)
    return await service.describe_video(video, session=db)


@router.delete("/videos/{video_id}/tags/{tag_id}", status_code=204)
async def remove_tag(
    video_id: uuid.UUID, tag_id: uuid.UUID, user: MediaWriter, db: DbSession
) -> Response:
    """Remove a product tag."""
    video = await service.get_video_for_editor(user, video_id, session=db)
    await tagging.remove_tag(video, tag_id, session=db)
    return Response(status_code=204)


def _cache(video: Video) -> dict[str, str]:
    public = video.visibility == "public"
    return {"Cache-Control": "public, max-age=3600" if public else "private, max-age=300"}


async def _ready_video(video_id: uuid.UUID, viewer: OptionalUser, db: DbSession) -> Video:
    video = await service.get_video_for(viewer, video_id, session=db)
    if video.status != "ready":
        from clipcart.core.errors import NotFound

        raise NotFound("This video is not ready yet.", code="video_not_ready")
    return video


@router.get("/videos/{video_id}/stream", response_class=Response)
async def stream_video(
    video_id: uuid.UUID, request: Request, viewer: OptionalUser, db: DbSession
) -> Response:
    """The MP4 (H.264/AAC, faststart); honours Range (206 with Content-Range, 416)."""
    video = await _ready_video(video_id, viewer, db)
    return get_storage().response(
        service.key(video.id, service.VIDEO_KEY), request, "video/mp4", _cache(video)
    )


@router.get("/videos/{video_id}/preview.mp4", response_class=Response)
async def preview_video(
    video_id: uuid.UUID, request: Request, viewer: OptionalUser, db: DbSession
) -> Response:
    """A 3 s muted low-resolution preview."""
    video = await _ready_video(video_id, viewer, db)
    return get_storage().response(
        service.key(video.id, service.PREVIEW_KEY), request, "video/mp4", _cache(video)
    )


@router.get("/videos/{video_id}/poster.jpg", response_class=Response)
async def poster(
    video_id: uuid.UUID, request: Request, viewer: OptionalUser, db: DbSession
) -> Response:
    """The poster JPEG (the cover frame)."""
    video = await _ready_video(video_id, viewer, db)
    return get_storage().response(service.poster_key(video), request, "image/jpeg", _cache(video))
