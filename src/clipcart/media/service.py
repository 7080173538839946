"""Video use cases: accept an upload, process it, show it to who may see it, edit, tag, delete."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.catalog import service as catalog
from clipcart.core import clock, events
from clipcart.core.errors import (
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from clipcart.core.ids import new_id
from clipcart.core.money import Money
from clipcart.core.pagination import paginate
from clipcart.media import domain
from clipcart.media.config import get_media_settings
from clipcart.media.discovery import (  # noqa: F401  (the feed's reads, re-exported)
    VideoFacts,
    public_video_facts,
    public_videos_by_ids,
    recent_public_video_ids,
    video_ids_tagging,
    video_ids_with_hashtags,
)
from clipcart.media.models import Video, VideoHashtag, VideoTag
from clipcart.media.probing import InvalidVideo, Probe, probe_video
from clipcart.media.schemas import (
    CaptionPartOut,
    PriceOut,
    SourceOut,
    TagOut,
    VideoOut,
    VideoUpdateIn,
    VideoUrls,
)
from clipcart.media.storage import get_storage
from clipcart.shops import service as shops

log = logging.getLogger(__name__)

UPLOADER_SHOP_ROLES = frozenset({"owner", "manager"})
VIDEO_KEY, POSTER_KEY, PREVIEW_KEY, SOURCE_KEY = "video.mp4", "poster", "preview.mp4", "source"


@dataclass(frozen=True)
class UploadedFile:
    """An upload already written to a temporary file (the caller deletes it)."""

    path: Path
    size: int
    filename: str


def key(video_id: uuid.UUID, name: str) -> str:
    """The storage key of one of a video's files."""
    return f"{video_id}/{name}"


def poster_key(video: Video) -> str:
    """The storage key of the video's current poster (versioned so caches never go stale)."""
    return key(video.id, f"{POSTER_KEY}-{video.poster_version}.jpg")


async def upload_shop(
    user: User, shop_handle: str | None, *, session: AsyncSession
) -> uuid.UUID | None:
    """Check that `user` may upload (as themselves, or for the shop) and give the shop id."""
    if shop_handle:
        shop = await shops.get_shop_for_staff(
            user, shop_handle, session=session, roles=UPLOADER_SHOP_ROLES
        )
        return shop.id
    if "creator" not in user.role_names:
        raise Forbidden(
            "Only creators and shop staff can post videos. Become a creator, or upload for "
            "your shop.",
            code="role_required",
        )
    return None


async def create_video(
    user: User,
    upload: UploadedFile,
    *,
    shop_id: uuid.UUID | None,
    caption: str,
    visibility: str,
    session: AsyncSession,
) -> Video:
    """Probe the upload, keep it, and queue its transcode (after commit); InvalidVideo when it
    is not a usable video. The caller has checked the uploader (upload_shop)."""
    _check_caption(caption)
    if visibility not in domain.VISIBILITIES:
        raise ValidationFailed.field("visibility", "Choose public, followers or private.")
    settings = get_media_settings()
    if upload.size > settings.max_upload_bytes:
        raise too_large()
    probe = await asyncio.to_thread(probe_video, upload.path)
    problems = domain.duration_problems(
        probe.duration,
        minimum=settings.min_duration_seconds,
        maximum=settings.max_duration_seconds,
    )
    if problems:
        raise InvalidVideo(
            problems[0],
            code="video_too_long" if probe.duration > settings.max_duration_seconds else None,
            data={"errors": [{"field": "file", "message": problems[0]}]},
        )
    video = _new_video(user, probe, upload, shop_id=shop_id, caption=caption, visibility=visibility)
    session.add(video)
    await session.flush()
    storage = get_storage()
    await asyncio.to_thread(
        storage.put_file, key(video.id, SOURCE_KEY), upload.path, "application/octet-stream"
    )
    events.after_commit(session, lambda: _start_processing(video.id))
    return video


def too_large() -> PayloadTooLarge:
    """The 413 for an upload over the size limit."""
    limit = get_media_settings().max_upload_bytes
    return PayloadTooLarge(
        f"This video is larger than {limit / 1048576:.0f} MB. Trim it or lower its quality.",
        code="video_too_large",
        data={"max_bytes": limit},
    )


def _new_video(
    user: User,
    probe: Probe,
    upload: UploadedFile,
    *,
    shop_id: uuid.UUID | None,
    caption: str,
    visibility: str,
) -> Video:
    video = Video(
        id=new_id(),
        owner_id=user.id,
        shop_id=shop_id,
        status="processing",
        caption=caption,
        visibility=visibility,
        duration_seconds=probe.duration,
        source_width=probe.width,
        source_height=probe.height,
        source_codec=probe.video_codec,
        source_has_audio=probe.has_audio,
        source_bytes=upload.size,
    )
    video.hashtags = [VideoHashtag(name=name) for name in domain.hashtags(caption)]
    video.tags = []
    return video


async def _start_processing(video_id: uuid.UUID) -> None:
    from clipcart.media import tasks

    await tasks.enqueue_processing(video_id)


def _check_caption(caption: str) -> None:
    problems = domain.caption_problems(caption)
    if problems:
        raise ValidationFailed.field("caption", problems[0])


async def get_video_for(
    viewer: User | None, video_id: uuid.UUID, *, session: AsyncSession
) -> Video:
    """A video `viewer` may watch (404 otherwise, so private videos do not leak): its uploader
    and its shop's staff always; others when it is ready, nobody blocked anybody, and it is
    public, or for followers and they follow the uploader."""
    # Social builds on media (comments, likes), so it is imported here, not at the top.
    from clipcart.social import service as social

    video = await session.get(Video, video_id)
    if video is None:
        raise NotFound("There is no such video.", code="video_not_found")
    if viewer is not None and (
        viewer.id == video.owner_id
        or (
            video.shop_id is not None
            and await shops.is_shop_staff(viewer.id, video.shop_id, session=session)
        )
    ):
        return video
    visible = video.status == "ready" and (
        video.visibility == "public"
        or (
            video.visibility == "followers"
            and viewer is not None
            and await social.is_follower(viewer.id, video.owner_id, session=session)
        )
    )
    if visible and (
        viewer is None
        or not await social.is_blocked_between(viewer.id, video.owner_id, session=session)
    ):
        return video
    raise NotFound("There is no such video.", code="video_not_found")


async def can_edit(user: User | None, video: Video, *, session: AsyncSession) -> bool:
    """True when `user` may change the video: its uploader, or a manager of its shop."""
    if user is None:
        return False
    if user.id == video.owner_id:
        return True
    if video.shop_id is None:
        return False
    role = await shops.staff_role(user.id, video.shop_id, session=session)
    return role in UPLOADER_SHOP_ROLES


async def get_video_for_editor(user: User, video_id: uuid.UUID, *, session: AsyncSession) -> Video:
    """A video `user` may edit (404 when they may not even see it, 403 when only watch)."""
    video = await get_video_for(user, video_id, session=session)
    if not await can_edit(user, video, session=session):
        raise Forbidden("Only the video's owner or its shop's managers can change it.")
    return video


async def update_video(video: Video, video_in: VideoUpdateIn, *, session: AsyncSession) -> Video:
    """Change caption, visibility or cover frame."""
    if video_in.caption is not None:
        _check_caption(video_in.caption)
        video.caption = video_in.caption
        wanted = domain.hashtags(video_in.caption)
        video.hashtags = [tag for tag in video.hashtags if tag.name in wanted] + [
            VideoHashtag(name=name)
            for name in wanted
            if name not in {tag.name for tag in video.hashtags}
        ]
    if video_in.visibility is not None:
        video.visibility = video_in.visibility
    if video_in.cover_time is not None and video_in.cover_time != video.cover_time:
        problems = domain.cover_time_problems(video_in.cover_time, video.duration_seconds)
        if problems:
            raise ValidationFailed.field("cover_time", problems[0])
        video.cover_time = video_in.cover_time
        if video.status == "ready":
            await _render_poster(video)
    video.updated_at = clock.now()
    await session.flush()
    return video


async def _render_poster(video: Video) -> None:
    """Write a poster for the video's cover time under a new version (the old one stays until
    the row commits, so a rollback leaves a working poster)."""
    import tempfile

    from clipcart.media.transcoding import TranscodeFailed, extract_poster

    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix="clipcart-poster-") as directory:
        local = Path(directory) / VIDEO_KEY
        await asyncio.to_thread(storage.fetch, key(video.id, VIDEO_KEY), local)
        try:
            jpeg = await asyncio.to_thread(extract_poster, local, video.cover_time or 0.0)
        except TranscodeFailed as error:
            raise ValidationFailed.field("cover_time", str(error)) from error
        poster = Path(directory) / "poster.jpg"
        poster.write_bytes(jpeg)
        video.poster_version += 1
        await asyncio.to_thread(storage.put_file, poster_key(video), poster, "image/jpeg")


async def delete_video(video: Video, *, session: AsyncSession) -> None:
    """Delete the video; its files go once the deletion is committed."""
    video_id = video.id
    await session.delete(video)
    await session.flush()

    def remove_files() -> None:
        get_storage().delete_prefix(str(video_id))

    events.after_commit(session, lambda: asyncio.to_thread(remove_files))


def _owned_videos(user: User) -> Select[Video]:
    return select(Video).where(Video.owner_id == user.id)


async def list_my_videos(
    user: User, *, cursor: str | None, limit: int | None, session: AsyncSession
) -> tuple[list[Video], str | None]:
    """The user's videos, newest first."""
    return await paginate(
        session,
        _owned_videos(user),
        order_by=[Video.created_at, Video.id],
        cursor=cursor,
        limit=limit,
    )


async def list_shop_videos(
    shop_id: uuid.UUID, *, cursor: str | None, limit: int | None, session: AsyncSession
) -> tuple[list[Video], str | None]:
    """A shop's videos, newest first (for its staff)."""
    return await paginate(
        session,
        select(Video).where(Video.shop_id == shop_id),
        order_by=[Video.created_at, Video.id],
        cursor=cursor,
        limit=limit,
    )


async def list_hashtag_videos(
    name: str, *, cursor: str | None, limit: int | None, session: AsyncSession
) -> tuple[list[Video], str | None]:
    """Public, ready videos whose caption uses #name, newest first."""
    normalized = domain.normalize_hashtag(name)
    if normalized is None:
        return [], None
    statement = (
        select(Video)
        .join(VideoHashtag, VideoHashtag.video_id == Video.id)
        .where(
            VideoHashtag.name == normalized,
            Video.status == "ready",
            Video.visibility == "public",
        )
    )
    return await paginate(
        session, statement, order_by=[Video.created_at, Video.id], cursor=cursor, limit=limit
    )


def _caption_parts(caption: str) -> list[CaptionPartOut]:
    parts = []
    for part in domain.parse_caption(caption):
        href = None
        if part.kind == "hashtag":
            href = f"/tag/{part.value}"
        elif part.kind == "mention":
            href = f"/@{part.value}"
        parts.append(CaptionPartOut(kind=part.kind, text=part.text, value=part.value, href=href))
    return parts


async def _tag_out(tag: VideoTag, *, session: AsyncSession) -> TagOut:
    product = await catalog.get_product(tag.product_id, session=session)
    prices = [variant.price for variant in product.variants]
    price = None
    if prices:
        money = Money(min(prices), product.currency)
        price = PriceOut(amount=money.amount, currency=money.currency, formatted=money.format())
    return TagOut(
        id=tag.id,
        product_id=tag.product_id,
        title=product.title,
        price=price,
        start_seconds=tag.start_seconds,
        end_seconds=tag.end_seconds,
        grounds=tag.grounds,
        collaboration_id=tag.collaboration_id,
        tagged_by_id=tag.tagged_by_id,
        url=f"/p/{tag.product_id}",
    )


async def describe_video(video: Video, *, session: AsyncSession) -> VideoOut:
    """The API (and page) view of a video."""
    ready = video.status == "ready"
    base = f"/api/v1/videos/{video.id}"
    return VideoOut(
        id=video.id,
        status=video.status,
        failure_reason=video.failure_reason,
        owner_id=video.owner_id,
        shop_id=video.shop_id,
        caption=video.caption,
        caption_parts=_caption_parts(video.caption),
        hashtags=domain.hashtags(video.caption),
        mentions=domain.mentions(video.caption),
        visibility=video.visibility,
        cover_time=video.cover_time,
        duration_seconds=video.duration_seconds,
        width=domain.OUTPUT_WIDTH if ready else None,
        height=domain.OUTPUT_HEIGHT if ready else None,
        has_audio=video.has_audio,
        source=SourceOut(
            width=video.source_width,
            height=video.source_height,
            codec=video.source_codec,
            has_audio=video.source_has_audio,
            bytes=video.source_bytes,
        ),
        urls=VideoUrls(
            page=f"/v/{video.id}",
            stream=f"{base}/stream" if ready else None,
            poster=f"{base}/poster.jpg?v={video.poster_version}" if ready else None,
            preview=f"{base}/preview.mp4" if ready else None,
        ),
        tags=[await _tag_out(tag, session=session) for tag in video.tags],
        created_at=video.created_at,
        ready_at=video.ready_at,
    )


async def owner_of(video: Video, *, session: AsyncSession) -> User | None:
    """The user who uploaded the video."""
    return await session.get(User, video.owner_id)


async def shop_handle_of(video: Video, *, session: AsyncSession) -> str | None:
    """The @handle of the shop the video belongs to, if any."""
    if video.shop_id is None:
        return None
    return (await shops.get_shop(video.shop_id, session=session)).handle


async def shops_for_uploader(user: User, *, session: AsyncSession) -> list[tuple[str, str]]:
    """(handle, name) of the shops `user` may upload for."""
    result = []
    for shop in await shops.list_shops_for_user(user, session=session):
        if await shops.staff_role(user.id, shop.id, session=session) in UPLOADER_SHOP_ROLES:
            result.append((shop.handle, shop.name))
    return result


async def list_public_videos(
    *,
    cursor: str | None,
    limit: int | None,
    owner_ids: Collection[uuid.UUID] | None = None,
    shop_ids: Collection[uuid.UUID] | None = None,
    exclude_owner_ids: Collection[uuid.UUID] = (),
    session: AsyncSession,
) -> tuple[list[Video], str | None]:
    """Public, ready videos newest first (with their product tags loaded), a cursor window at a
    time. With `owner_ids` and/or `shop_ids`, only videos uploaded by one of those accounts or
    belonging to one of those shops (nothing when both are empty); videos of
    `exclude_owner_ids` are always left out."""
    statement = select(Video).where(Video.status == "ready", Video.visibility == "public")
    if owner_ids is not None or shop_ids is not None:
        conditions = []
        if owner_ids:
            conditions.append(Video.owner_id.in_(set(owner_ids)))
        if shop_ids:
            conditions.append(Video.shop_id.in_(set(shop_ids)))
        if not conditions:
            return [], None
        statement = statement.where(or_(*conditions))
    if exclude_owner_ids:
        statement = statement.where(Video.owner_id.not_in(set(exclude_owner_ids)))
    return await paginate(
        session, statement, order_by=[Video.created_at, Video.id], cursor=cursor, limit=limit
    )
