"""A small generated world in the test database: written once, counted exactly, its histories
drawn from tastes, usable by the app, and (demo size) its clips rendered by the media jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, func, inspect, select, text, update

from clipcart.accounts.models import User
from clipcart.catalog.models import Product
from clipcart.core.db import get_engine, unit_of_work
from clipcart.demo.world import WorldSize, build_world
from clipcart.demo.world.bulk import bulk_engine, without_indexes
from clipcart.demo.world.media_jobs import media_progress, queue_world_media, render_videos
from clipcart.demo.world.tables import tables
from clipcart.demo.world.themes import THEMES
from clipcart.media.models import Video
from clipcart.media.storage import get_storage
from clipcart.recs.domain import VIEW_TYPE_CODES
from clipcart.recs.models import RecsEvent, VideoTrend
from clipcart.shops.models import Shop
from clipcart.social.models import UserCounter, UserFollow, VideoCounter, VideoLike
from tests.api.test_accounts_auth import login
from tests.services import require_postgres

# Every theme has a shop, so every taste has videos to be shown.
SIZE = WorldSize(shops=12, products=24, creators=24, videos=120, users=30, events=3000, media=False)


async def _rows(statement: Any) -> list[Any]:
    async with unit_of_work() as session:
        return list((await session.execute(statement)).all())


async def test_a_world_is_written_once_with_exact_counters() -> None:
    first = await build_world(SIZE, seed=11)
    assert first.built_now
    counts = first.counts
    assert counts["shops"] == 12 and counts["products"] == 24 and counts["videos"] == 120
    assert counts["users"] == 12 + 24 + 30 + 1  # sellers, creators, shoppers, the world marker
    assert counts["events"] > SIZE.events * 0.8 and counts["likes"] > 0 and counts["follows"] > 0
    again = await build_world(SIZE, seed=11)
    assert not again.built_now and again.counts == counts

    likes = dict(await _rows(select(VideoLike.video_id, func.count()).group_by(VideoLike.video_id)))
    views = dict(
        await _rows(
            select(RecsEvent.video_id, func.count())
            .where(RecsEvent.type.in_(VIEW_TYPE_CODES))
            .group_by(RecsEvent.video_id)
        )
    )
    counters = await _rows(select(VideoCounter.video_id, VideoCounter.likes, VideoCounter.views))
    assert len(counters) == 120
    for video_id, liked, viewed in counters:
        assert (liked, viewed) == (likes.get(video_id, 0), views.get(video_id, 0))
    followers = dict(
        await _rows(select(UserFollow.followed_id, func.count()).group_by(UserFollow.followed_id))
    )
    for user_id, count in await _rows(select(UserCounter.user_id, UserCounter.followers)):
        assert count == followers.get(user_id, 0)
    trending = await _rows(select(func.count()).select_from(VideoTrend))
    assert trending[0][0] > 0


async def test_shoppers_like_what_their_tastes_say() -> None:
    await build_world(SIZE, seed=11)
    labels = {theme.label.lower(): theme.key for theme in THEMES}
    theme_of_shop = {
        shop_id: tags[0] for shop_id, tags in await _rows(select(Product.shop_id, Product.tags))
    }

    def favourites(bio: str) -> set[str]:  # bio: "Into cooking and coffee & tea."
        return {key for label, key in labels.items() if label in bio.lower()}

    liked = await _rows(
        select(User.bio, Video.shop_id)
        .join(VideoLike, VideoLike.user_id == User.id)
        .join(Video, Video.id == VideoLike.video_id)
        .where(User.email.like("shopper%"))
    )
    assert len(liked) > 10
    for bio, shop_id in liked:  # a like is "more of this": only what they love gets one
        assert theme_of_shop[shop_id] in favourites(bio), (bio, theme_of_shop[shop_id])
    shown = await _rows(
        select(User.bio, Video.shop_id)
        .join(RecsEvent, RecsEvent.user_id == User.id)
        .join(Video, Video.id == RecsEvent.video_id)
        .where(User.email.like("shopper%"), RecsEvent.type == 1)
    )
    loved = sum(theme_of_shop[shop_id] in favourites(bio) for bio, shop_id in shown)
    assert loved / len(shown) > 0.6  # most of what anyone is shown is what they love


async def test_the_app_serves_a_world(client: httpx.AsyncClient) -> None:
    report = await build_world(SIZE, seed=11)
    feed = await client.get("/api/v1/feed", params={"tab": "for_you"})
    assert feed.status_code == 200, feed.text
    items = feed.json()["items"]
    assert items
    video_page = await client.get(items[0]["video"]["page_url"])
    assert video_page.status_code == 200
    product = next(p for item in items for p in item["products"])
    assert (await client.get(product["url"])).status_code == 200
    shop = await client.get(f"/shop/{report.shop_handle}")
    assert shop.status_code == 200
    await login(client, report.buyer_email, report.buyer_password)
    mine = await client.get("/api/v1/feed", params={"tab": "following"})
    assert mine.status_code == 200


async def test_demo_media_jobs_render_a_clip_and_draw_pictures() -> None:
    tiny = WorldSize(shops=1, products=2, creators=1, videos=2, users=2, events=50, media=True)
    await build_world(tiny, seed=4)
    assert await media_progress() == (0, 2)
    async with unit_of_work() as session:
        await session.execute(update(Video).values(duration_seconds=1.0))  # keep it quick
        video_id = await session.scalar(
            select(Video.id).where(Video.status == "processing").order_by(Video.id).limit(1)
        )
    assert isinstance(video_id, uuid.UUID)
    assert await render_videos([video_id]) == 1
    assert await render_videos([video_id]) == 0  # done already: nothing to do twice
    assert await media_progress() == (1, 2)
    storage = get_storage()
    for name in ("video.mp4", "preview.mp4", "poster-0.jpg"):
        assert storage.exists(f"{video_id}/{name}"), name
    async with unit_of_work() as session:
        pictured = await session.scalar(
            select(func.count()).select_from(Product).where(Product.images.any())
        )
        assert pictured and pictured >= 1
        shop_count = await session.scalar(select(func.count()).select_from(Shop))
        assert shop_count == 1
    videos, products = await queue_world_media()  # jobs run at once in tests
    assert videos == 1 and products >= 0
    assert await media_progress() == (2, 2)


async def test_a_bulk_load_rebuilds_the_indexes_it_drops_and_keeps_the_apps_settings() -> None:
    videos = tables().videos
    expected = {index.name for index in videos.indexes}

    def index_names(connection: Connection) -> set[str]:
        return {str(index["name"]) for index in inspect(connection).get_indexes(videos.name)}

    async with bulk_engine() as engine:
        async with without_indexes(engine, [videos]), engine.connect() as connection:
            assert not await connection.run_sync(index_names) & expected
        async with engine.connect() as connection:
            assert await connection.run_sync(index_names) >= expected
    async with get_engine().connect() as connection:
        if connection.dialect.name == "sqlite":  # the bulk load's shortcuts stay with it
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await connection.exec_driver_sql("PRAGMA synchronous")).scalar() == 1


@pytest.mark.postgres
async def test_a_world_on_postgres_leaves_the_planner_its_statistics() -> None:
    """The tables just filled are analysed, and what ANALYZE found is kept (it was once run in
    a transaction that was rolled back, which throws the statistics away)."""
    require_postgres()
    [(started,)] = await _rows(text("SELECT now()"))
    await build_world(SIZE, seed=11)
    names = [table.name for table in vars(tables()).values()]
    async with unit_of_work() as session:
        await session.execute(text("SELECT pg_stat_clear_snapshot()"))
        analysed: dict[str, datetime | None] = dict(
            (
                await session.execute(
                    text(
                        "SELECT relname, last_analyze FROM pg_stat_user_tables"
                        " WHERE relname = ANY(:names)"
                    ),
                    {"names": names},
                )
            ).all()
        )
        event_columns = await session.scalar(
            text("SELECT count(*) FROM pg_stats WHERE tablename = 'recs_events'")
        )
    assert set(analysed) == set(names)
    assert all(when is not None and when >= started for when in analysed.values()), analysed
    assert event_columns and event_columns > 0
