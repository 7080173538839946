"""The demo world's media, made in the background after its rows: product pictures and clips.

`clipcart demo` serves the world at once; these jobs (run by its embedded worker) draw the
pictures and render the clips a few videos at a time, newest first, and each video joins the
feed as soon as its files are in place. Rendered clips are kept in <data_dir>/demo-cache, so a
rerun after `--reset` copies them instead of rendering again."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import tempfile
import uuid
import zlib
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.catalog import service as catalog
from clipcart.catalog.images import image_directory
from clipcart.catalog.models import Product
from clipcart.catalog.schemas import IMAGE_SIZES
from clipcart.core import clock
from clipcart.core.config import get_settings
from clipcart.core.db import unit_of_work
from clipcart.core.jobs import FILLER_PRIORITY, huey, run_async
from clipcart.core.money import Money
from clipcart.demo.world.people import WORLD_DOMAIN
from clipcart.demo.world.product_images import draw_world_product
from clipcart.demo.world.rendering import ClipFiles, render_clip
from clipcart.demo.world.tables import tables
from clipcart.demo.world.themes import THEME_BY_KEY, THEMES
from clipcart.media import service as media
from clipcart.media.models import Video, VideoTag
from clipcart.media.storage import get_storage

log = logging.getLogger(__name__)
VIDEOS_PER_JOB = 2
PRODUCTS_PER_JOB = 25
RENDER_VERSION = "1"  # bump to re-render cached clips after changing how they look


def _look(product: Product) -> tuple[str, tuple[int, int, int], tuple[int, int, int]]:
    """The theme, main and accent colour a world product is drawn in (stable per product)."""
    theme = THEME_BY_KEY.get(product.tags[0] if product.tags else "", THEMES[0])
    pick = zlib.crc32(product.handle.encode())
    colours = theme.colours
    return theme.key, colours[pick % len(colours)], colours[(pick + 1) % len(colours)]


def product_picture(product: Product) -> bytes:
    """The picture of a world product (drawn again the same way whenever it is needed)."""
    theme_key, colour, accent = _look(product)
    return draw_world_product(
        product.title, theme_key, colour, accent, seed=zlib.crc32(product.handle.encode())
    )


async def _picture_products(
    products: list[Product], *, session: AsyncSession
) -> dict[uuid.UUID, bytes]:
    """Draw the products' pictures, adding them to the products that have none."""
    pictures: dict[uuid.UUID, bytes] = {}
    for product in products:
        if product.images:  # the shop's own picture, as stored
            stored = image_directory() / f"{product.images[0].key}-{max(IMAGE_SIZES)}.webp"
            if stored.is_file():
                pictures[product.id] = stored.read_bytes()
                continue
        pictures[product.id] = picture = product_picture(product)
        if not product.images:
            await catalog.add_product_image(
                product, picture, position=0, session=session, alt=product.title
            )
    return pictures


async def draw_products(product_ids: list[uuid.UUID]) -> int:
    """Give these products their pictures (those that have none); how many were drawn."""
    async with unit_of_work() as session:
        found = await catalog.products_by_ids(product_ids, session=session)
        missing = [product for product in found.values() if not product.images]
        for product in missing:
            await catalog.add_product_image(
                product, product_picture(product), position=0, session=session, alt=product.title
            )
    return len(missing)


async def render_videos(video_ids: list[uuid.UUID]) -> int:
    """Render the clips of these processing videos and make them ready; how many were."""
    done = 0
    for video_id in video_ids:
        plan = await _clip_plan(video_id)
        if plan is None:
            continue
        files = _cached_clip(*plan)
        storage = get_storage()
        storage.put_file(media.key(video_id, media.VIDEO_KEY), files.video, "video/mp4")
        storage.put_file(media.key(video_id, media.PREVIEW_KEY), files.preview, "video/mp4")
        storage.put_file(
            media.key(video_id, f"{media.POSTER_KEY}-0.jpg"), files.poster, "image/jpeg"
        )
        async with unit_of_work() as session:
            video = await session.get(Video, video_id)
            if video is not None and video.status == "processing":
                video.status, video.ready_at, video.has_audio = "ready", clock.now(), True
                video.poster_version = 0
                done += 1
    return done


ClipPlan = tuple[list[bytes], str, str, str, tuple[int, int, int], float]


async def _clip_plan(video_id: uuid.UUID) -> ClipPlan | None:
    """What a video's clip shows: its products' pictures, title, price, hashtags, colour."""
    async with unit_of_work() as session:
        video = await session.get(Video, video_id)
        if video is None or video.status != "processing":
            return None
        tagged = list(
            await session.scalars(
                select(VideoTag.product_id)
                .where(VideoTag.video_id == video_id)
                .order_by(VideoTag.position)
            )
        )
        if not tagged and video.shop_id is not None:
            tagged = list(
                await session.scalars(
                    select(Product.id).where(Product.shop_id == video.shop_id).limit(2)
                )
            )
        found = await catalog.products_by_ids(tagged, session=session)
        products = [found[product_id] for product_id in tagged if product_id in found]
        if not products:
            return None
        pictures = await _picture_products(products, session=session)
        first = products[0]
        price = Money(min(v.price for v in first.variants), first.currency).format()
        line = " ".join(f"#{tag.name}" for tag in video.hashtags)
        _, colour, _ = _look(first)
        seconds = video.duration_seconds or 8.0
        return [pictures[p.id] for p in products], first.title, price, line, colour, seconds


def _cached_clip(
    pictures: list[bytes], title: str, price: str, line: str, colour: tuple[int, int, int],
    seconds: float,
) -> ClipFiles:  # fmt: skip
    """The rendered files for these inputs, from the cache or rendered into it now."""
    digest = hashlib.sha256(
        "|".join((RENDER_VERSION, title, price, line, repr(colour), repr(seconds))).encode()
        + b"".join(hashlib.sha256(picture).digest() for picture in pictures)
    ).hexdigest()[:32]
    cache = get_settings().data_dir.resolve() / "demo-cache" / "clips"
    folder = cache / digest
    files = ClipFiles(folder / "video.mp4", folder / "preview.mp4", folder / "poster.jpg")
    if folder.is_dir():
        return files
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".render-", dir=cache))
    try:
        render_clip(
            ClipFiles(work / "video.mp4", work / "preview.mp4", work / "poster.jpg"),
            pictures, title=title, price=price, line=line, colour=colour, seconds=seconds,
        )  # fmt: skip
        try:
            work.rename(folder)  # whole folders only: a reader never sees half a clip
        except OSError:
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return files


@huey.task(name="demo.world.render_videos", retries=1, priority=FILLER_PRIORITY)
def render_videos_job(video_ids: list[str]) -> int:
    """Job: render a few world videos."""
    return int(run_async(render_videos)([uuid.UUID(value) for value in video_ids]))


@huey.task(name="demo.world.draw_products", retries=1, priority=FILLER_PRIORITY)
def draw_products_job(product_ids: list[str]) -> int:
    """Job: draw a batch of world products' pictures."""
    return int(run_async(draw_products)([uuid.UUID(value) for value in product_ids]))


def _world_owner_ids(extra_emails: Sequence[str] = ()) -> Select[tuple[uuid.UUID]]:
    users = tables().users
    return select(users.c.id).where(
        or_(users.c.email.like(f"%@{WORLD_DOMAIN}"), users.c.email.in_(list(extra_emails)))
    )


async def queue_world_media(extra_owner_emails: Sequence[str] = ()) -> tuple[int, int]:
    """Queue jobs for the world's videos still processing (those of `extra_owner_emails` first,
    then newest first) and its products without a picture; (videos, products) queued. Jobs
    skip what is done, so queueing twice does no harm."""
    t = tables()
    async with unit_of_work() as session:
        video_ids = list(
            await session.scalars(
                select(t.videos.c.id)
                .where(
                    t.videos.c.status == "processing", t.videos.c.owner_id.in_(_world_owner_ids())
                )
                .order_by(t.videos.c.created_at.desc())
            )
        )
        pictured = select(t.product_images.c.product_id)
        staff = select(t.shop_staff.c.shop_id).where(t.shop_staff.c.user_id.in_(_world_owner_ids()))
        product_ids = list(
            await session.scalars(
                select(t.products.c.id)
                .where(t.products.c.id.not_in(pictured), t.products.c.shop_id.in_(staff))
                .order_by(t.products.c.created_at)
            )
        )
    batches = [
        (render_videos_job, [str(i) for i in video_ids[start : start + VIDEOS_PER_JOB]])
        for start in range(0, len(video_ids), VIDEOS_PER_JOB)
    ] + [
        (draw_products_job, [str(i) for i in product_ids[start : start + PRODUCTS_PER_JOB]])
        for start in range(0, len(product_ids), PRODUCTS_PER_JOB)
    ]
    for job, ids in batches:
        if huey.immediate:  # tests: run it now, off this event loop (it runs its own)
            await asyncio.to_thread(job.call_local, ids)
        else:
            job(ids)
    return len(video_ids), len(product_ids)


async def media_progress() -> tuple[int, int]:
    """(ready, all) of the world's videos: how far the background rendering has come."""
    t = tables()
    async with unit_of_work() as session:
        rows = await session.execute(
            select(t.videos.c.status, func.count())
            .where(t.videos.c.owner_id.in_(_world_owner_ids()))
            .group_by(t.videos.c.status)
        )
        by_status = {status: count for status, count in rows}
    return by_status.get("ready", 0), sum(by_status.values())
