"""The top bar at 390x844 with everything it can hold for a seller: the cart count, the
Messages icon with its unread badge and "Seller center" stay on one line, inside the window."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import BrowserContext, Locator, Page, expect

from tests.e2e.conftest import PHONE, PageProblems
from tests.e2e.test_commerce_browser import open_hat_shop, seller_context
from tests.e2e.test_feed_browser import _api
from tests.e2e.test_pages_browser import screenshot, sign_up

__all__ = ["seller_context"]  # fixtures used here

pytestmark = pytest.mark.browser


async def _geometry(bar: Locator) -> dict[str, Any]:
    """The top bar's height and overflow, and where its links are."""
    geometry: dict[str, Any] = await bar.evaluate(
        """(bar) => {
          const links = [...bar.querySelectorAll("a")].map((a) => a.getBoundingClientRect());
          return {
            height: bar.getBoundingClientRect().height,
            min_height: parseFloat(getComputedStyle(bar).minHeight),
            overflow: bar.scrollWidth - bar.clientWidth,
            page_overflow: document.documentElement.scrollWidth - window.innerWidth,
            tops: links.map((box) => box.top),
            heights: links.map((box) => box.height),
            rights: links.map((box) => box.right),
          };
        }"""
    )
    return geometry


async def test_the_seller_top_bar_stays_on_one_line_at_phone_width(
    page: Page, problems: PageProblems, seller_context: BrowserContext
) -> None:
    other_page = await seller_context.new_page()
    await sign_up(other_page, display_name="Sunny Goods")
    _, hat = await open_hat_shop(other_page, name="Sunny Goods", stock=50)

    me = await sign_up(page, display_name="Ada Seller")
    await open_hat_shop(page, name="Ada's Shop", stock=0)
    variant_id = hat["variants"][0]["id"]
    await _api(page, "POST", "/api/v1/cart/items", {"variant_id": variant_id, "quantity": 12})
    for number in range(3):
        await _api(
            other_page,
            "POST",
            "/api/v1/conversations",
            {"to": me["handle"], "text": f"Hello {number}"},
        )

    await page.goto("/shop")
    bar = page.locator("header.topbar")
    await expect(bar.locator("[data-cart-count]")).to_have_text("12")
    await expect(bar.locator("[data-messages-badge]")).to_have_text("3")
    # The Inbox tab counts notifications: one "new messages" for the one conversation.
    await expect(page.locator("[data-inbox-badge]")).to_have_text("1")
    await expect(bar.get_by_role("link", name="Seller center")).to_be_visible()
    await screenshot(page, "topbar-seller-390x844")

    geometry = await _geometry(bar)
    # One line: exactly the bar's own height, every link on the same row at 44 px (one line of
    # text each), nothing past the right edge of the window.
    assert geometry["height"] == geometry["min_height"] == 56, geometry
    assert len(set(geometry["tops"])) == 1, geometry
    assert all(height == 44 for height in geometry["heights"]), geometry
    assert max(geometry["rights"]) <= PHONE["width"] - 16, geometry
    assert geometry["overflow"] <= 0 and geometry["page_overflow"] <= 0, geometry
    for link in await bar.locator("a").all():  # every link is still a 44 px touch target
        box = await link.bounding_box()
        assert box is not None and box["width"] >= 44 and box["height"] >= 44, box

    # The counts sit on corners and take no width: the longest ones change nothing, and a
    # 360 px phone still holds it all.
    await bar.evaluate(
        """(bar) => {
          bar.querySelector("[data-cart-count]").textContent = "999";
          bar.querySelector("[data-messages-badge]").textContent = "99+";
        }"""
    )
    assert (await _geometry(bar))["rights"] == geometry["rights"]
    await page.set_viewport_size({"width": 360, "height": 844})
    narrow = await _geometry(bar)
    assert narrow["height"] == 56 and len(set(narrow["tops"])) == 1, narrow
    assert narrow["overflow"] <= 0 and narrow["page_overflow"] <= 0, narrow
    assert not problems.unexpected(), problems.unexpected()
