"""The home feed in a real browser at 390x844: autoplay, swipe, unmute, like and follow that
survive a reload, the product sheet, comments, and watch events stored for the recommender."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import BrowserContext, Page, expect
from sqlalchemy import select

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.media.samples import make_sample_video
from clipcart.recs.domain import EVENT_TYPE_CODES
from clipcart.recs.models import RecsEvent
from tests.e2e.conftest import PageProblems
from tests.e2e.test_pages_browser import screenshot, sign_up

pytestmark = pytest.mark.browser


async def _api(page: Page, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Call the JSON API as the browser's logged-in user."""
    csrf = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    response = await page.request.fetch(
        path, method=method, data=body, headers={"X-CSRF-Token": csrf or ""}
    )
    assert response.ok, await response.text()
    data: dict[str, Any] = await response.json()
    return data


async def _upload(page: Page, clip: Path, *, caption: str, shop: str) -> dict[str, Any]:
    csrf = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    content = await asyncio.to_thread(clip.read_bytes)
    response = await page.request.post(
        "/api/v1/videos",
        multipart={
            "file": {"name": clip.name, "mimeType": "video/mp4", "buffer": content},
            "caption": caption,
            "shop": shop,
        },
        headers={"X-CSRF-Token": csrf or ""},
        timeout=60_000,
    )
    assert response.status == 201, await response.text()
    video: dict[str, Any] = await response.json()
    for _ in range(120):
        shown = await page.request.get(f"/api/v1/videos/{video['id']}")
        video = await shown.json()
        if video["status"] != "processing":
            break
        await asyncio.sleep(0.5)
    assert video["status"] == "ready", video
    return video


async def _add_image(page: Page, product_id: str, tmp_path: Path) -> None:
    """Give the product a picture (a straw-coloured square)."""
    path = tmp_path / "hat.png"
    Image.new("RGB", (400, 400), (222, 184, 90)).save(path)
    csrf = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    content = await asyncio.to_thread(path.read_bytes)
    response = await page.request.post(
        f"/api/v1/products/{product_id}/images",
        multipart={
            "file": {"name": "hat.png", "mimeType": "image/png", "buffer": content},
            "alt": "A straw sun hat",
        },
        headers={"X-CSRF-Token": csrf or ""},
    )
    assert response.status == 201, await response.text()


async def _make_world(page: Page, tmp_path: Path) -> dict[str, Any]:
    """A shop that posted three videos with tagged products; returns what the test needs."""
    account = await sign_up(page, display_name="Sunny Goods")
    async with unit_of_work() as session:
        user = await session.scalar(select(User).where(User.handle == account["handle"]))
        assert user is not None
        await accounts.grant_role(user, "creator", session=session)
    shop = f"shop{uuid.uuid4().hex[:8]}"
    await _api(
        page,
        "POST",
        "/api/v1/shops",
        {"handle": shop, "name": "Sunny Goods", "country": "US", "currency": "USD"},
    )
    hat = await _api(
        page,
        "POST",
        f"/api/v1/shops/{shop}/products",
        {
            "title": "Straw Sun Hat",
            "status": "active",
            "options": ["Size"],
            "variants": [
                {"sku": f"HAT-M-{shop}", "option_values": ["M"], "price": 2450, "stock": 3},
                {"sku": f"HAT-L-{shop}", "option_values": ["L"], "price": 2650, "stock": 0},
            ],
        },
    )
    towel = await _api(
        page,
        "POST",
        f"/api/v1/shops/{shop}/products",
        {
            "title": "Beach Towel",
            "status": "active",
            "options": ["Colour"],
            "variants": [
                {"sku": f"TOWEL-{shop}", "option_values": ["Blue"], "price": 1800, "stock": 9}
            ],
        },
    )
    await _add_image(page, hat["id"], tmp_path)
    videos = []
    for index, seconds in enumerate((3.0, 3.0, 3.0)):
        clip = make_sample_video(
            tmp_path / f"clip{index}.mp4", width=240, height=426, seconds=seconds
        )
        videos.append(await _upload(page, clip, caption=f"Summer look {index} #beach", shop=shop))
    # The newest video comes first in the feed: it shows the hat, the next one the towel.
    for video, product in ((videos[2], hat), (videos[1], towel), (videos[0], hat)):
        await _api(
            page, "POST", f"/api/v1/videos/{video['id']}/tags", {"product_id": product["id"]}
        )
    return {"creator": account, "shop": shop, "videos": videos[::-1], "hat": hat, "towel": towel}


async def _playing(page: Page, index: int) -> dict[str, Any]:
    """Wait until the feed's video number `index` is playing and advancing; its state."""
    locator = page.locator(".feed-item video").nth(index)
    start = await locator.evaluate("(v) => v.currentTime")
    await page.wait_for_function(
        "([i, t]) => { const v = document.querySelectorAll('.feed-item video')[i];"
        " return !v.paused && v.readyState >= 3 && v.currentTime > t + 0.3; }",
        arg=[index, start],
        timeout=15_000,
    )
    state: dict[str, Any] = await locator.evaluate(
        "(v) => ({paused: v.paused, muted: v.muted, time: v.currentTime})"
    )
    return state


async def test_the_feed_plays_swipes_and_remembers(
    context: BrowserContext, page: Page, problems: PageProblems, tmp_path: Path
) -> None:
    world = await _make_world(page, tmp_path)
    await context.clear_cookies()
    viewer = await sign_up(page, display_name="Bruno Viewer")

    await page.goto("/")
    items = page.locator(".feed-item")
    await expect(items).to_have_count(3)
    first, second = items.nth(0), items.nth(1)
    assert await first.get_attribute("data-video-id") == world["videos"][0]["id"]
    await expect(page.get_by_role("link", name="For You")).to_have_attribute("aria-current", "page")

    # The first video autoplays, muted, and its box is the full feed screen already.
    state = await _playing(page, 0)
    assert state["muted"] is True
    box = await first.bounding_box()
    assert box and box["width"] == 390 and box["height"] >= 700
    await expect(first.locator("a[href='/tag/beach']")).to_be_visible()
    await expect(first.get_by_role("link", name=re.compile("Straw Sun Hat"))).to_contain_text(
        "$24.50"
    )
    await screenshot(page, "feed-390x844")
    # The next video is already loading while the first plays.
    await page.wait_for_function(
        "() => { const v = document.querySelectorAll('.feed-item video')[1];"
        " return v.preload === 'auto' && v.readyState >= 2; }"
    )

    # A tap unmutes.
    await first.locator(".feed-media").click(position={"x": 195, "y": 300})
    await page.wait_for_function("() => !document.querySelector('.feed-item video').muted")
    await expect(first.get_by_role("button", name="Mute")).to_be_visible()

    # A swipe (wheel scroll) snaps to the next video: it plays, the first one pauses.
    await page.mouse.move(195, 400)
    await page.mouse.wheel(0, 600)
    await _playing(page, 1)
    await page.wait_for_function("() => document.querySelector('.feed-item video').paused")
    list_box = await page.locator(".feed-list").evaluate("(l) => l.scrollTop")
    assert list_box == pytest.approx(box["height"], abs=2)  # snapped exactly one screen
    # And the keyboard: up goes back, down comes again, m toggles the sound.
    await page.keyboard.press("ArrowUp")
    await _playing(page, 0)
    await page.keyboard.press("ArrowDown")
    await _playing(page, 1)
    await page.keyboard.press("m")
    await page.wait_for_function("() => document.querySelectorAll('.feed-item video')[1].muted")

    # Like the second video and follow its creator, then come back: both are remembered.
    liked_id = await second.get_attribute("data-video-id")
    async with page.expect_response(re.compile(r"/like$")) as liked:
        await second.get_by_role("button", name="Like").click()
    assert (await liked.value).ok
    await expect(second.get_by_role("button", name="Like")).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(second.locator("[data-count=likes]")).to_have_text("1")
    async with page.expect_response(re.compile(r"/follow$")) as followed:
        await second.get_by_role("button", name=f"Follow @{world['creator']['handle']}").click()
    assert (await followed.value).ok
    # For You moves on past what was seen; Following keeps the creator's videos.
    await page.goto("/?tab=following")
    again = page.locator(f".feed-item[data-video-id='{liked_id}']")
    await expect(again.get_by_role("button", name="Like")).to_have_attribute("aria-pressed", "true")
    await expect(again.locator("[data-count=likes]")).to_have_text("1")
    await expect(
        again.get_by_role("button", name=f"Following @{world['creator']['handle']}")
    ).to_have_attribute("aria-pressed", "true")
    # A small world: once everything is seen, For You brings the seen videos back (least
    # recently seen first) rather than running dry.
    await page.goto("/")
    await expect(page.locator(".feed-item")).to_have_count(3)
    ids = await page.locator(".feed-item").evaluate_all("(l) => l.map((i) => i.dataset.videoId)")
    assert sorted(ids) == sorted(video["id"] for video in world["videos"])
    # The Following tab now has the shop's videos.
    await page.goto("/?tab=following")
    await expect(page.locator(".feed-item")).to_have_count(3)
    await expect(page.get_by_role("link", name="Following")).to_have_attribute(
        "aria-current", "page"
    )
    await page.goto("/")

    # The product chip opens the sheet with that product, honest about checkout.
    first = page.locator(".feed-item").nth(1)
    await _playing(page, 0)
    await page.keyboard.press("ArrowDown")
    await _playing(page, 1)
    await first.get_by_role("link", name=re.compile("Straw Sun Hat")).click()
    sheet = page.locator("#product-sheet")
    await expect(sheet).to_be_visible()
    await expect(sheet.get_by_role("heading", name="Straw Sun Hat")).to_be_visible()
    await expect(sheet.locator("[data-price]")).to_have_text("$24.50")
    picture = sheet.get_by_role("img", name="A straw sun hat")
    await expect(picture).to_be_visible()
    await page.wait_for_function(
        "() => { const i = document.querySelector('#product-sheet img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    # The chip shows the same picture.
    await expect(first.locator(".feed-chip img")).to_be_visible()
    await expect(sheet.locator("[data-stock]")).to_have_text("Only a few left")
    await expect(sheet.get_by_role("radio", name="L")).to_be_disabled()  # sold out
    await expect(sheet.get_by_role("radio", name="M")).to_be_checked()
    # Buying from the sheet is covered by tests/e2e/test_commerce_browser.py.
    await expect(sheet.get_by_role("button", name="Add to cart")).to_be_enabled()
    await expect(sheet.get_by_role("button", name="Buy now")).to_be_enabled()
    await screenshot(page, "feed-product-sheet-390x844")
    await sheet.get_by_role("button", name="Close").click()
    await expect(sheet).to_be_hidden()

    # A comment posts and appears, and the count follows.
    await first.get_by_role("button", name="Comments").click()
    comments = page.locator("#comments-sheet")
    await expect(comments.get_by_text("No comments yet")).to_be_visible()
    await comments.get_by_label("Add a comment").fill("Love this hat!")
    await comments.get_by_role("button", name="Post").click()
    await expect(comments.locator(".comment-body")).to_have_text(["Love this hat!"])
    await expect(comments.get_by_role("link", name=f"@{viewer['handle']}")).to_be_visible()
    await screenshot(page, "feed-comments-sheet-390x844")
    await comments.get_by_role("button", name="Close").click()
    await expect(first.locator("[data-count=comments]")).to_have_text("1")

    # The share sheet hands out a link carrying the share code, and copies it.
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    await first.get_by_role("button", name="Share").click()
    share = page.locator("#share-sheet")
    link = share.get_by_label("Link to this video")
    shared_id = await first.get_attribute("data-video-id")
    await expect(link).to_have_value(re.compile(rf"/v/{shared_id}\?s=[\w-]+$"))
    await share.get_by_role("button", name="Copy link").click()
    await expect(share.get_by_text("Link copied.")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == await link.input_value()
    await expect(first.locator("[data-count=shares]")).to_have_text("1")
    await share.get_by_role("button", name="Close").click()

    # Leaving the page sends the rest of the events with sendBeacon; watches are stored.
    await page.goto("/shop")
    watched = await _wait_for_events(world["videos"][0]["id"])
    assert EVENT_TYPE_CODES["impression"] in watched["types"]
    assert EVENT_TYPE_CODES["chip_tap"] in watched["types"]
    assert EVENT_TYPE_CODES["sheet_open"] in watched["types"]
    assert EVENT_TYPE_CODES["share"] in watched["types"]
    assert watched["watch_ms"] > 300
    assert problems.unexpected() == []


async def _wait_for_events(video_id: str) -> dict[str, Any]:
    """The event types stored for the video and its total watch time (waits a little)."""
    found: dict[str, Any] = {"types": set(), "watch_ms": 0}
    for _ in range(50):
        async with get_sessionmaker()() as session:
            rows = (
                await session.execute(
                    select(RecsEvent.type, RecsEvent.watch_ms).where(
                        RecsEvent.video_id == uuid.UUID(video_id)
                    )
                )
            ).all()
        found = {
            "types": {row.type for row in rows},
            "watch_ms": sum(row.watch_ms or 0 for row in rows),
        }
        wanted = {EVENT_TYPE_CODES[name] for name in ("watch", "sheet_open", "share")}
        if wanted <= found["types"]:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no watch events stored for {video_id}: {found}")


async def test_the_feed_without_javascript_lists_video_links(
    browser: Any, live_server: str, page: Page, tmp_path: Path
) -> None:
    world = await _make_world(page, tmp_path)
    context = await browser.new_context(
        base_url=live_server, viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    try:
        plain = await context.new_page()
        await plain.goto("/")
        for video in world["videos"]:
            await expect(plain.locator(f"a[href='/v/{video['id']}']")).to_be_visible()
    finally:
        await context.close()


async def test_the_feed_in_a_desktop_window_is_a_centred_column(
    context: BrowserContext, page: Page, problems: PageProblems, tmp_path: Path
) -> None:
    await _make_world(page, tmp_path)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto("/")
    await _playing(page, 0)
    item = await page.locator(".feed-item").first.bounding_box()
    assert item and item["width"] < 700
    assert abs(item["x"] - (1280 - item["x"] - item["width"])) <= 2
    await screenshot(page, "feed-1280x800")
    # Space pauses and resumes the video on screen.
    await page.keyboard.press("Space")
    await page.wait_for_function("() => document.querySelector('.feed-item video').paused")
    await page.keyboard.press("Space")
    await _playing(page, 0)
    assert problems.unexpected() == []


async def test_an_empty_following_tab_suggests_accounts_to_follow(
    context: BrowserContext, page: Page, problems: PageProblems, tmp_path: Path
) -> None:
    world = await _make_world(page, tmp_path)
    await context.clear_cookies()
    await sign_up(page, display_name="Carla New")
    await page.goto("/?tab=following")
    await expect(page.get_by_role("heading", name="You follow nobody yet")).to_be_visible()
    handle = world["creator"]["handle"]
    suggestion = page.locator(".feed-suggestion").filter(has_text=f"@{handle}")
    await expect(suggestion).to_be_visible()
    await screenshot(page, "feed-following-empty-390x844")
    async with page.expect_response(re.compile(rf"/users/{handle}/follow$")) as followed:
        await suggestion.get_by_role("button", name=f"Follow @{handle}").click()
    assert (await followed.value).ok
    await page.reload()
    await expect(page.locator(".feed-item")).to_have_count(3)
    assert problems.unexpected() == []


async def test_more_videos_load_as_the_viewer_scrolls(
    page: Page, problems: PageProblems, tmp_path: Path
) -> None:
    world = await _make_world(page, tmp_path)
    clip = make_sample_video(tmp_path / "more.mp4", width=240, height=426, seconds=2.0)
    for index in range(3):
        await _upload(page, clip, caption=f"More {index}", shop=world["shop"])
    await page.goto("/")
    items = page.locator(".feed-item")
    await expect(items).to_have_count(5)  # the first screenful; the rest comes on demand
    await _playing(page, 0)
    for index in range(1, 5):
        await page.keyboard.press("ArrowDown")
        await _playing(page, index)
    await expect(items).to_have_count(6)
    await page.keyboard.press("ArrowDown")
    await _playing(page, 5)
    positions = await items.evaluate_all("(l) => l.map((i) => Number(i.dataset.position))")
    assert positions == [0, 1, 2, 3, 4, 5]
    assert problems.unexpected() == []
