"""A shop's video in a real browser: upload through the page with progress, watch it become
ready, tag a product, and play it in Chromium (H.264/AAC MP4)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.core.db import unit_of_work
from clipcart.media.samples import make_sample_video
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


async def test_upload_tag_and_play_a_video(
    page: Page, problems: PageProblems, tmp_path: Path
) -> None:
    clip = make_sample_video(tmp_path / "holiday.mp4", width=320, height=240, seconds=4.0)
    account = await sign_up(page, display_name="Olivia Shop")
    async with unit_of_work() as session:
        user = await session.scalar(select(User).where(User.handle == account["handle"]))
        assert user is not None
        await accounts.grant_role(user, "creator", session=session)
    shop = f"shop{uuid.uuid4().hex[:8]}"
    await _api(
        page,
        "POST",
        "/api/v1/shops",
        {
            "handle": shop,
            "name": "Sunny Goods",
            "country": "US",
            "currency": "USD",
        },
    )
    product = await _api(
        page,
        "POST",
        f"/api/v1/shops/{shop}/products",
        {
            "title": "Straw Sun Hat",
            "status": "active",
            "options": ["Size"],
            "variants": [{"sku": f"HAT-{shop}", "option_values": ["M"], "price": 2450, "stock": 3}],
        },
    )

    await page.goto("/upload")
    await expect(page.get_by_role("heading", name="Post a video")).to_be_visible()
    await page.get_by_label("Video file").set_input_files(str(clip))
    await page.get_by_label("Caption").fill(f"Summer is here #beach with @{account['handle']}")
    await page.get_by_label("Post as").select_option(shop)
    await screenshot(page, "video-upload-390x844")
    await page.get_by_role("button", name="Upload video").click()
    await expect(page).to_have_url(re.compile(r"/v/[0-9a-f-]+/status$"), timeout=30_000)
    await expect(page.get_by_text("Ready to watch.")).to_be_visible(timeout=60_000)
    await screenshot(page, "video-status-ready-390x844")
    video_id = page.url.rsplit("/", 2)[-2]

    await page.get_by_role("link", name="Edit and tag products").click()
    await page.get_by_label("Product", exact=True).select_option(product["id"])
    await page.get_by_label("Show from (seconds, optional)").fill("0.5")
    await page.get_by_role("button", name="Tag product").click()
    await expect(page.get_by_text("Product tagged.")).to_be_visible()
    await expect(page.get_by_text("Tagged products (1 of 6)")).to_be_visible()

    await page.goto(f"/v/{video_id}")
    chip = page.get_by_role("link", name=re.compile(r"Straw Sun Hat"))
    await expect(chip).to_be_visible()
    await expect(chip).to_contain_text("$24.50")
    await expect(page.get_by_role("link", name="#beach")).to_have_attribute("href", "/tag/beach")
    player = page.locator("video#video-player")
    await expect(player).to_have_attribute("playsinline", "")
    started = await player.evaluate(
        """async (video) => {
            video.muted = true;
            await video.play();
            return video.currentTime;
        }"""
    )
    await page.wait_for_function(
        "() => { const v = document.getElementById('video-player');"
        " return v.readyState >= 3 && v.currentTime > 0.5; }",
        timeout=15_000,
    )
    state = await player.evaluate(
        "(v) => ({readyState: v.readyState, time: v.currentTime, error: v.error && v.error.code,"
        " width: v.videoWidth, height: v.videoHeight})"
    )
    assert state["readyState"] >= 3 and state["error"] is None
    assert state["time"] > started
    assert (state["width"], state["height"]) == (720, 1280)
    await player.evaluate("(v) => v.pause()")
    await screenshot(page, "video-page-390x844", full_page=True)

    await page.get_by_role("link", name="#beach").click()
    await expect(page.get_by_role("heading", name="#beach")).to_be_visible()
    await expect(page.locator(f'a[href="/v/{video_id}"]')).to_be_visible()
    await page.goto(f"/seller/{shop}/videos")
    await expect(page.locator(f'a[href="/v/{video_id}"]')).to_be_visible()
    await screenshot(page, "video-shop-videos-390x844")
    assert problems.unexpected() == []
