"""The feed API: For You order, tabs, hydration for the screen, hidden chips for products that
cannot be bought, private videos never shown, and a query count that does not grow with the
page size."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, select, update

from clipcart.accounts.models import User
from clipcart.catalog.models import Product, Variant
from clipcart.core import clock
from clipcart.core.db import get_engine, unit_of_work
from clipcart.feed import memory
from clipcart.media.models import Video, VideoTag
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup
from tests.api.test_media_tags import clips, shop_with_products
from tests.api.test_media_upload import VIDEOS, upload_ready

__all__ = ["clips"]

FEED = f"{API}/feed"


async def _user_id(handle: str) -> uuid.UUID:
    async with unit_of_work() as session:
        user = await session.scalar(select(User).where(User.handle == handle))
        assert user is not None
        return user.id


async def make_videos(
    owner_handle: str,
    count: int,
    *,
    shop_id: uuid.UUID | None = None,
    product_ids: list[uuid.UUID] | None = None,
    visibility: str = "public",
    status: str = "ready",
    caption: str = "Look #summer with @olivia",
    minutes_apart: int = 1,
) -> list[uuid.UUID]:
    """Processed video rows (a factory: the files are not needed by the feed API), the first
    the oldest, each tagged with `product_ids`."""
    owner_id = await _user_id(owner_handle)
    start = clock.now() - timedelta(minutes=minutes_apart * (count + 1))
    ids = []
    async with unit_of_work() as session:
        for index in range(count):
            video = Video(
                owner_id=owner_id,
                shop_id=shop_id,
                status=status,
                visibility=visibility,
                caption=f"{caption} {index}",
                duration_seconds=2.0,
                has_audio=True,
                created_at=start + timedelta(minutes=minutes_apart * index),
                ready_at=start,
            )
            for position, product_id in enumerate(product_ids or []):
                video.tags.append(
                    VideoTag(product_id=product_id, position=position, grounds="own_shop")
                )
            session.add(video)
            await session.flush()
            ids.append(video.id)
    return ids


async def seller_setup(client: httpx.AsyncClient, products: int = 2) -> dict[str, Any]:
    """olivia with the shop acme and active, stocked products."""
    made = await shop_with_products(client, "olivia", "acme", count=products)
    async with unit_of_work() as session:
        await session.execute(
            update(Variant)
            .where(Variant.product_id.in_([uuid.UUID(p["id"]) for p in made]))
            .values(stock=4)
        )
        await session.execute(
            update(Product)
            .where(Product.id.in_([uuid.UUID(p["id"]) for p in made]))
            .values(status="active")
        )
    shop_id = uuid.UUID(made[0]["shop"]["id"])
    return {"products": made, "shop_id": shop_id}


async def test_for_you_shows_public_ready_videos_newest_first_and_pages_through(
    app: Any, client: httpx.AsyncClient
) -> None:
    await signup(client, "olivia")
    ids = await make_videos("olivia", 5)
    hidden = await make_videos("olivia", 1, visibility="private")
    hidden += await make_videos("olivia", 1, visibility="followers")
    hidden += await make_videos("olivia", 1, status="processing")
    hidden += await make_videos("olivia", 1, status="failed")

    anonymous = new_client(app)
    async with anonymous:
        seen: list[str] = []
        cursor = None
        for _ in range(5):
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            response = await anonymous.get(FEED, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["tab"] == "for_you"
            seen += [item["video"]["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    # No likes or views yet: recency decides, and every public video comes exactly once.
    assert seen == [str(video_id) for video_id in reversed(ids)]
    assert not {str(video_id) for video_id in hidden} & set(seen)
    # Even the owner does not get their private videos in the feed.
    mine = (await client.get(FEED, params={"limit": 30})).json()
    assert {item["video"]["id"] for item in mine["items"]} == {str(i) for i in ids}


async def test_items_are_hydrated_for_the_screen(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    setup = await seller_setup(client)
    video = await upload_ready(
        client, clips["portrait"], shop="acme", caption="New hat #Summer for @olivia"
    )
    for product in setup["products"]:
        tagged = await client.post(
            f"{VIDEOS}/{video['id']}/tags", json={"product_id": product["id"]}
        )
        assert tagged.status_code == 201, tagged.text

    response = await client.get(FEED)
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    shown = item["video"]
    assert shown["id"] == video["id"]
    assert shown["page_url"] == f"/v/{video['id']}"
    assert (shown["width"], shown["height"]) == (720, 1280)
    assert shown["duration_seconds"] > 1.5
    assert shown["hashtags"] == ["summer"]
    kinds = [(part["kind"], part.get("href")) for part in shown["caption_parts"]]
    assert ("hashtag", "/tag/summer") in kinds and ("mention", "/@olivia") in kinds
    # The URLs are real: the stream plays and the poster is a JPEG.
    stream = await client.get(shown["stream_url"], headers={"Range": "bytes=0-99"})
    assert stream.status_code == 206
    poster = await client.get(shown["poster_url"])
    assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"
    assert (await client.get(shown["preview_url"])).status_code == 200

    assert item["creator"]["handle"] == "olivia"
    assert item["creator"]["profile_url"] == "/@olivia"
    assert item["creator"]["viewer_follows"] is False
    assert item["shop"]["handle"] == "acme" and item["shop"]["name"] == "Acme Goods"
    assert item["counts"]["likes"] == 0 and item["counts"]["comments"] == 0
    assert item["viewer"] == {"liked": False, "saved": False}
    chips = item["products"]
    assert [chip["title"] for chip in chips] == ["Product 0", "Product 1"]
    assert chips[0]["price"] == {"amount": 1500, "currency": "USD", "formatted": "$15.00"}
    assert chips[0]["in_stock"] is True
    assert chips[0]["url"] == f"/p/{setup['products'][0]['id']}"


async def test_sold_out_and_inactive_products_get_no_chip(client: httpx.AsyncClient) -> None:
    setup = await seller_setup(client, products=3)
    product_ids = [uuid.UUID(p["id"]) for p in setup["products"]]
    await make_videos("olivia", 1, shop_id=setup["shop_id"], product_ids=product_ids)
    async with unit_of_work() as session:
        await session.execute(
            update(Variant).where(Variant.product_id == product_ids[1]).values(stock=0)
        )
        await session.execute(
            update(Product).where(Product.id == product_ids[2]).values(status="archived")
        )
    [item] = (await client.get(FEED)).json()["items"]
    assert [chip["id"] for chip in item["products"]] == [str(product_ids[0])]


async def test_following_needs_login_and_shows_suggestions_when_empty(
    app: Any, client: httpx.AsyncClient
) -> None:
    await signup(client, "olivia")
    await make_videos("olivia", 2)
    anonymous = new_client(app)
    async with anonymous:
        assert_problem(
            await anonymous.get(FEED, params={"tab": "following"}), 401, "login_required"
        )
        await signup(anonymous, "bruno")
        page = (await anonymous.get(FEED, params={"tab": "following"})).json()
    assert page["items"] == [] and page["next_cursor"] is None
    assert [creator["handle"] for creator in page["suggestions"]] == ["olivia"]
    assert page["suggestions"][0]["viewer_follows"] is False


async def test_bad_parameters_are_clear_4xx(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(FEED, params={"tab": "trending"}), 422, "validation_failed")
    assert_problem(await client.get(FEED, params={"limit": 0}), 422, "validation_failed")
    assert_problem(await client.get(FEED, params={"limit": 500}), 422, "validation_failed")
    assert_problem(await client.get(FEED, params={"cursor": "nonsense"}), 400, "invalid_cursor")


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block."""
    statements: list[str] = []
    engine = get_engine().sync_engine

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_the_number_of_queries_does_not_grow_with_the_page_size(
    client: httpx.AsyncClient,
) -> None:
    setup = await seller_setup(client, products=2)
    product_ids = [uuid.UUID(p["id"]) for p in setup["products"]]
    await make_videos("olivia", 12, shop_id=setup["shop_id"], product_ids=product_ids)
    await signup(client, "bruno")  # a viewer (likes/saves/follows are looked up too)
    await make_videos("bruno", 12)

    with count_queries() as small:
        response = await client.get(FEED, params={"limit": 2})
        assert response.status_code == 200 and len(response.json()["items"]) == 2
    memory.clear()  # as cold as the first request: nothing remembered between the two
    with count_queries() as large:
        response = await client.get(FEED, params={"limit": 24})
        assert response.status_code == 200
        items = response.json()["items"]
        assert len(items) == 24 and all(
            len(item["products"]) == 2 for item in items if item["creator"]["handle"] == "olivia"
        )
    assert len(large) == len(small), (small, large)
    # The session, the viewer's live signals, settings, follows and blocks, each candidate
    # source, the candidates' facts, counters, trends and products, then the page hydrated.
    assert len(large) <= 26, large
    # Warm: candidate facts and shared lists come from memory; the page is still read fresh.
    with count_queries() as warm:
        response = await client.get(FEED, params={"limit": 24})
        assert response.status_code == 200 and len(response.json()["items"]) == 24
    assert len(warm) < len(large) - 6, warm
    # The page shows people and captions: the creators' roles and the videos' hashtag rows are
    # not read for it (only the viewer's own roles, joined to their session's row; hashtags
    # come from facts remembered since the cold request).
    assert [sql for sql in warm if "FROM media_video_hashtags" in sql] == [], warm
    reading_roles = [sql for sql in warm if "user_roles" in sql]
    assert len(reading_roles) == 1 and "FROM auth_sessions" in reading_roles[0], warm


async def test_likes_lift_a_video_above_newer_ones_and_viewer_state_shows(
    app: Any, client: httpx.AsyncClient
) -> None:
    await signup(client, "olivia")
    older, newer = await make_videos("olivia", 2, minutes_apart=30)
    fans = []
    for handle in ("bruno", "carla", "dora"):
        fan = new_client(app)
        await signup(fan, handle)
        liked = await fan.post(f"{VIDEOS}/{older}/like")
        assert liked.status_code == 200, liked.text
        fans.append(fan)
    try:
        page = (await fans[0].get(FEED)).json()
        assert [item["video"]["id"] for item in page["items"]] == [str(older), str(newer)]
        top = page["items"][0]
        assert top["counts"]["likes"] == 3
        assert top["viewer"] == {"liked": True, "saved": False}
        assert page["items"][1]["viewer"]["liked"] is False
        # Anonymous viewers get the same order, and no viewer state.
        anonymous = (await client.get(FEED)).json()
        assert anonymous["items"][0]["video"]["id"] == str(older)
    finally:
        for fan in fans:
            await fan.aclose()


async def test_following_shows_followed_accounts_and_shops_newest_first(
    app: Any, client: httpx.AsyncClient
) -> None:
    setup = await seller_setup(client, products=1)
    shop_videos = await make_videos("olivia", 2, shop_id=setup["shop_id"])
    fan = new_client(app)
    async with fan:
        await signup(fan, "carla")
        carla_videos = await make_videos("carla", 1)
        bruno = new_client(app)
        async with bruno:
            await signup(bruno, "bruno")
            await make_videos("bruno", 1)  # not followed: never in Following
            assert (await bruno.post(f"{API}/users/carla/follow")).status_code in (200, 201)
            assert (await bruno.post(f"{API}/shops/acme/follow")).status_code in (200, 201)
            page = (await bruno.get(FEED, params={"tab": "following"})).json()
            seen = [item["video"]["id"] for item in page["items"]]
            assert set(seen) == {str(v) for v in shop_videos + carla_videos}
            created = [item["video"]["created_at"] for item in page["items"]]
            assert created == sorted(created, reverse=True)
            by_id = {item["video"]["id"]: item for item in page["items"]}
            assert by_id[str(carla_videos[0])]["creator"]["viewer_follows"] is True
            assert by_id[str(shop_videos[0])]["shop"]["viewer_follows"] is True
            assert page["suggestions"] == []


async def test_the_home_page_lists_videos_and_pages_on_without_javascript(
    client: httpx.AsyncClient,
) -> None:
    await signup(client, "olivia")
    ids = await make_videos("olivia", 7)
    home = await client.get("/", headers={"accept": "text/html"})
    assert home.status_code == 200
    shown = [str(video_id) for video_id in reversed(ids)]
    for video_id in shown[:5]:
        assert f'href="/v/{video_id}"' in home.text
    assert f'href="/v/{shown[5]}"' not in home.text
    assert 'href="/tag/summer"' in home.text
    more = re.search(r'data-feed-more href="([^"]+)"', home.text)
    assert more, "no link to the next videos"
    rest = await client.get(html.unescape(more.group(1)), headers={"accept": "text/html"})
    assert rest.status_code == 200
    for video_id in shown[5:]:
        assert f'href="/v/{video_id}"' in rest.text
    assert 'data-position="5"' in rest.text and 'data-next-cursor=""' in rest.text


async def test_blocks_hide_videos_both_ways(app: Any, client: httpx.AsyncClient) -> None:
    await signup(client, "olivia")
    olivia_videos = await make_videos("olivia", 1)
    other = new_client(app)
    async with other:
        await signup(other, "bruno")
        bruno_videos = await make_videos("bruno", 1)
        blocked = await other.post(f"{API}/users/olivia/block")
        assert blocked.status_code in (200, 201), blocked.text

        def ids(page: httpx.Response) -> set[str]:
            return {item["video"]["id"] for item in page.json()["items"]}

        # bruno blocked olivia: neither sees the other's videos; others still see both.
        assert ids(await other.get(FEED)) == {str(bruno_videos[0])}
        assert ids(await client.get(FEED)) == {str(olivia_videos[0])}
    outsider = new_client(app)
    async with outsider:
        assert ids(await outsider.get(FEED)) == {str(olivia_videos[0]), str(bruno_videos[0])}
