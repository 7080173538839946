"""Tagging products in videos: own-shop products with optional time ranges, at most six,
other shops' products refused until the affiliate programme exists."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from clipcart.core import clock
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.media import service as media_service
from clipcart.media.models import Video, VideoTag
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup
from tests.api.test_catalog_products import create
from tests.api.test_media_upload import VIDEOS, clips, upload_ready
from tests.api.test_shops import open_shop

__all__ = ["clips"]


async def shop_with_products(
    client: httpx.AsyncClient, handle: str, shop: str, count: int = 1
) -> list[dict[str, Any]]:
    """A seller with a shop and `count` active products."""
    await signup(client, handle)
    await open_shop(client, shop)
    products = []
    for index in range(count):
        products.append(
            await create(
                client,
                shop,
                title=f"Product {index}",
                handle=f"product-{index}",
                variants=[
                    {
                        "sku": f"{shop}-{index}",
                        "option_values": ["S", "Blue"],
                        "price": 1500 + index,
                    }
                ],
            )
        )
    return products


async def test_staff_tag_their_shop_products_with_time_ranges(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    products = await shop_with_products(client, "olivia", "acme")
    video = await upload_ready(client, clips["landscape"], shop="acme", caption="New in #acme")
    assert video["shop_id"] is not None
    tagged = await client.post(
        f"{VIDEOS}/{video['id']}/tags",
        json={"product_id": products[0]["id"], "start_seconds": 0.5, "end_seconds": 1.5},
    )
    assert tagged.status_code == 201, tagged.text
    tag = tagged.json()["tags"][0]
    assert tag["title"] == "Product 0"
    assert tag["price"]["amount"] == 1500 and tag["price"]["currency"] == "USD"
    assert "15" in tag["price"]["formatted"]
    assert (tag["start_seconds"], tag["end_seconds"]) == (0.5, 1.5)
    assert tag["grounds"] == "own_shop" and tag["collaboration_id"] is None
    assert tag["url"] == f"/p/{products[0]['id']}"
    async with get_sessionmaker()() as session:
        row = await session.scalar(select(VideoTag))
        assert row is not None and row.grounds == "own_shop" and row.tagged_by_id is not None

    # The public sees the tag on the video.
    shown = (await client.get(f"{VIDEOS}/{video['id']}")).json()
    assert [t["product_id"] for t in shown["tags"]] == [products[0]["id"]]

    again = await client.post(
        f"{VIDEOS}/{video['id']}/tags", json={"product_id": products[0]["id"]}
    )
    assert_problem(again, 409, "already_tagged")
    removed = await client.delete(f"{VIDEOS}/{video['id']}/tags/{tag['id']}")
    assert removed.status_code == 204
    assert (await client.get(f"{VIDEOS}/{video['id']}")).json()["tags"] == []


async def test_bad_time_ranges_are_refused(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    products = await shop_with_products(client, "olivia", "acme")
    video = await upload_ready(client, clips["landscape"], shop="acme")
    url = f"{VIDEOS}/{video['id']}/tags"
    pid = products[0]["id"]
    for body in (
        {"product_id": pid, "start_seconds": 1.5, "end_seconds": 1.0},
        {"product_id": pid, "start_seconds": 0, "end_seconds": 30},
        {"product_id": pid, "start_seconds": 9},
    ):
        assert_problem(await client.post(url, json=body), 422, "validation_failed")
    assert (await client.get(f"{VIDEOS}/{video['id']}")).json()["tags"] == []


async def test_at_most_six_products(client: httpx.AsyncClient, clips: dict[str, Path]) -> None:
    products = await shop_with_products(client, "olivia", "acme", count=7)
    video = await upload_ready(client, clips["portrait"], shop="acme")
    url = f"{VIDEOS}/{video['id']}/tags"
    for product in products[:6]:
        assert (await client.post(url, json={"product_id": product["id"]})).status_code == 201
    seventh = await client.post(url, json={"product_id": products[6]["id"]})
    body = assert_problem(seventh, 409, "too_many_tags")
    assert "6" in body["detail"]
    assert len((await client.get(f"{VIDEOS}/{video['id']}")).json()["tags"]) == 6


async def test_another_shops_product_needs_an_affiliate_collaboration(
    client: httpx.AsyncClient, clips: dict[str, Path], app: Any
) -> None:
    await shop_with_products(client, "olivia", "acme")
    video = await upload_ready(client, clips["portrait"], shop="acme")
    async with new_client(app) as other:
        theirs = await shop_with_products(other, "bruno", "bolt")
        # Bruno cannot edit Olivia's video at all.
        outsider = await other.post(
            f"{VIDEOS}/{video['id']}/tags", json={"product_id": theirs[0]["id"]}
        )
        assert outsider.status_code == 403
    refused = await client.post(
        f"{VIDEOS}/{video['id']}/tags", json={"product_id": theirs[0]["id"]}
    )
    body = assert_problem(refused, 403, "affiliate_collaboration_required")
    assert "affiliate" in body["detail"]
    missing = await client.post(
        f"{VIDEOS}/{video['id']}/tags", json={"product_id": "01a20f0c-0000-7000-8000-000000000000"}
    )
    assert_problem(missing, 404, "product_not_found")
    assert (await client.get(f"{VIDEOS}/{video['id']}")).json()["tags"] == []


async def test_uploading_for_a_shop_needs_its_staff(
    client: httpx.AsyncClient, clips: dict[str, Path], app: Any
) -> None:
    await shop_with_products(client, "olivia", "acme", count=0)
    async with new_client(app) as other:
        await signup(other, "bruno")
        response = await other.post(
            VIDEOS,
            data={"shop": "acme"},
            files={"file": ("a.mp4", clips["portrait"].read_bytes(), "video/mp4")},
        )
        assert_problem(response, 404, "shop_not_found")
    listed = await client.get(f"{API}/videos")
    assert listed.json()["items"] == []


HTML = {"Accept": "text/html"}


async def test_video_page_shows_player_caption_links_chips_and_open_graph(
    client: httpx.AsyncClient, clips: dict[str, Path], app: Any
) -> None:
    products = await shop_with_products(client, "olivia", "acme")
    video = await upload_ready(client, clips["landscape"], shop="acme", caption="Hi @olivia #Sale")
    await client.post(f"{VIDEOS}/{video['id']}/tags", json={"product_id": products[0]["id"]})
    async with new_client(app) as visitor:
        page = await visitor.get(f"/v/{video['id']}", headers=HTML)
        assert page.status_code == 200
        html = page.text
        assert f'src="/api/v1/videos/{video["id"]}/stream"' in html
        assert "playsinline" in html and "controls" in html and 'poster="' in html
        assert '<a href="/@olivia">@olivia</a>' in html
        assert '<a href="/tag/sale">#Sale</a>' in html
        assert f'href="/p/{products[0]["id"]}"' in html and "Product 0" in html
        assert '<meta property="og:video:type" content="video/mp4">' in html
        assert "Edit video" not in html
        tag_page = await visitor.get("/tag/SALE", headers=HTML)
        assert f'href="/v/{video["id"]}"' in tag_page.text
        assert (await visitor.get(f"/v/{video['id']}/edit", headers=HTML)).status_code == 303
    edit = await client.get(f"/v/{video['id']}/edit", headers=HTML)
    assert edit.status_code == 200 and "Tagged products (1 of 6)" in edit.text
    studio = await client.get("/seller/acme/videos", headers=HTML)
    assert f'href="/v/{video["id"]}"' in studio.text and "Ready" in studio.text


async def test_upload_form_works_without_javascript(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    from tests.api.test_media_upload import make_creator

    await make_creator(client)
    form = await client.get("/upload", headers=HTML)
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    token = client.headers.pop("X-CSRF-Token")
    try:
        bad = await client.post(
            "/upload",
            data={"csrf_token": token, "caption": "oops"},
            files={"file": ("notes.mp4", b"just some text", "video/mp4")},
            headers=HTML,
        )
        assert bad.status_code == 422
        assert "not a video we can read" in bad.text and "oops" in bad.text
        good = await client.post(
            "/upload",
            data={"csrf_token": token, "caption": "no js #works"},
            files={"file": ("clip.mp4", clips["portrait"].read_bytes(), "video/mp4")},
            headers=HTML,
        )
    finally:
        client.headers["X-CSRF-Token"] = token
    assert good.status_code == 303
    status_url = good.headers["location"]
    assert status_url.endswith("/status")
    status = await client.get(status_url, headers=HTML)
    assert "Ready to watch." in status.text
    studio = await client.get("/studio/videos", headers=HTML)
    assert "no js #works" in studio.text


async def test_list_public_videos_filters_pages_and_loads_tags(
    app: Any, client: httpx.AsyncClient
) -> None:
    product = (await shop_with_products(client, "olivia", "acme"))[0]
    people = {"olivia": uuid.UUID((await client.get(f"{API}/me")).json()["id"])}
    for handle in ("maya", "bruno"):
        async with new_client(app) as other:
            people[handle] = uuid.UUID((await signup(other, handle))["user"]["id"])
    shop_id = uuid.UUID(product["shop"]["id"])
    start = clock.now() - timedelta(hours=1)
    rows = [  # (owner, shop, status, visibility), oldest first
        ("maya", None, "ready", "public"),
        ("maya", None, "ready", "private"),
        ("maya", None, "processing", "public"),
        ("bruno", None, "ready", "public"),
        ("olivia", shop_id, "ready", "public"),
        ("maya", None, "ready", "public"),
    ]
    ids = []
    async with unit_of_work() as session:
        for minute, (owner, shop, status, visibility) in enumerate(rows):
            video = Video(
                owner_id=people[owner],
                shop_id=shop,
                status=status,
                visibility=visibility,
                caption=f"video {minute}",
                created_at=start + timedelta(minutes=minute),
            )
            if shop is not None:
                video.tags.append(
                    VideoTag(product_id=uuid.UUID(product["id"]), position=0, grounds="own_shop")
                )
            session.add(video)
            await session.flush()
            ids.append(video.id)
    watchable = [ids[5], ids[4], ids[3], ids[0]]  # public and ready, newest first

    async with get_sessionmaker()() as session:
        seen: list[uuid.UUID] = []
        cursor: str | None = None
        while True:
            page, cursor = await media_service.list_public_videos(
                cursor=cursor, limit=3, session=session
            )
            seen += [video.id for video in page]
            if cursor is None:
                break
        assert seen == watchable

        async def listed(**filters: Any) -> list[uuid.UUID]:
            videos, next_cursor = await media_service.list_public_videos(
                cursor=None, limit=10, session=session, **filters
            )
            assert next_cursor is None
            return [video.id for video in videos]

        assert await listed(exclude_owner_ids={people["maya"]}) == [ids[4], ids[3]]
        assert await listed(owner_ids={people["bruno"]}) == [ids[3]]
        assert await listed(shop_ids={shop_id}) == [ids[4]]
        both = await listed(owner_ids={people["bruno"]}, shop_ids={shop_id})
        assert both == [ids[4], ids[3]]
        assert await listed(owner_ids=set(), shop_ids=set()) == []
        assert await listed(owner_ids={people["maya"]}, exclude_owner_ids={people["maya"]}) == []
        shop_videos, _ = await media_service.list_public_videos(
            cursor=None, limit=10, shop_ids={shop_id}, session=session
        )
    # tags came with the videos: readable after the session closed
    assert [tag.product_id for tag in shop_videos[0].tags] == [uuid.UUID(product["id"])]
