"""The demo world in a real browser at 390x844: the feed with its rendered clips, a product
sheet, a shop page, the creator center and the seller center, as `clipcart demo` seeds them.
Screenshots go to test-artifacts/ (and /work/screens/) for people to look at."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select, update

from clipcart.accounts.models import User
from clipcart.core.db import unit_of_work
from clipcart.demo.catalog import DEMO_SHOP_HANDLE
from clipcart.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from clipcart.demo.world import WorldSize, build_world
from clipcart.demo.world.building import Guest
from clipcart.demo.world.media_jobs import render_videos
from clipcart.media.models import Video
from tests.e2e.test_affiliate_browser import keep
from tests.e2e.test_pages_browser import screenshot

pytestmark = pytest.mark.browser

SMALL_WORLD = WorldSize(shops=2, products=4, creators=2, videos=2, users=4, events=200, media=True)


async def _log_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).not_to_have_url(re.compile(r"/login"))


async def _seed_demo_world() -> None:
    """The demo's accounts, shop, orders and a small generated world, with a few clips
    rendered (2 s each, to keep the test quick)."""
    await seed_demo()
    async with unit_of_work() as session:
        buyer = await session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[0][2]))
        assert buyer is not None
        guest = Guest(buyer.id, buyer.handle, ("cooking",))
    await build_world(SMALL_WORLD, guests=[guest])
    async with unit_of_work() as session:
        await session.execute(update(Video).values(duration_seconds=2.0))
        video_ids = list(
            await session.scalars(
                select(Video.id).where(Video.status == "processing").order_by(Video.id).limit(4)
            )
        )
    assert await render_videos(video_ids) == len(video_ids)


async def test_the_demo_world_in_a_browser(page: Page, problems: Any) -> None:
    await _seed_demo_world()
    buyer, creator, seller = DEMO_ACCOUNTS[0][2], DEMO_ACCOUNTS[1][2], DEMO_ACCOUNTS[2][2]

    await _log_in(page, buyer)
    await page.goto("/")
    item = page.locator(".feed-item").first
    await expect(item).to_be_visible()
    keep(await screenshot(page, "demo-feed-390x844"))
    shoppable = page.locator(".feed-item:has(.feed-chip)").first
    await shoppable.scroll_into_view_if_needed()
    await shoppable.locator(".feed-chip").first.click()
    sheet = page.locator("#product-sheet")
    await expect(sheet.get_by_role("button", name="Buy now")).to_be_visible()
    keep(await screenshot(page, "demo-product-sheet-390x844"))

    await page.goto(f"/shop/{DEMO_SHOP_HANDLE}")
    await expect(page.get_by_role("heading", name="Sam's Corner Store")).to_be_visible()
    keep(await screenshot(page, "demo-shop-390x844", full_page=True))

    await page.context.clear_cookies()
    await _log_in(page, creator)
    await page.goto("/studio/affiliate")
    await expect(page.locator("main")).to_be_visible()
    keep(await screenshot(page, "demo-creator-center-390x844", full_page=True))

    await page.context.clear_cookies()
    await _log_in(page, seller)
    await page.goto(f"/seller/{DEMO_SHOP_HANDLE}/orders")
    keep(await screenshot(page, "demo-seller-center-390x844", full_page=True))
    for state in ("paid", "shipped", "delivered", "completed", "cancelled", "refunded"):
        await expect(page.locator(f".order-chip-{state}").first).to_be_visible()

    await page.goto(f"/seller/{DEMO_SHOP_HANDLE}/money")  # balances and the demo's payouts
    payouts = page.locator("section[aria-labelledby='payouts-title']")
    await expect(payouts.locator(".money-status-paid").first).to_be_visible()
    await expect(payouts.locator(".money-status-in_transit").first).to_be_visible()
    keep(await screenshot(page, "demo-seller-money-390x844", full_page=True))
