"""Messages in a real browser at 390x844: a buyer opens a product, taps "Ask the shop" and
sends a question; the seller, in a second browser, finds it in the shop's inbox and answers;
the buyer's open conversation shows the answer without a reload (the page polls)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.conftest import PageProblems
from tests.e2e.test_commerce_browser import open_hat_shop, seller_context
from tests.e2e.test_pages_browser import screenshot, sign_up

__all__ = ["seller_context"]  # fixtures used here

pytestmark = pytest.mark.browser


async def _shop_with_a_hat(page: Page) -> dict[str, Any]:
    await sign_up(page, display_name="Sunny Goods")
    shop, hat = await open_hat_shop(page, name="Sunny Goods", stock=5)
    return {"shop": shop, "hat": hat}


async def test_a_buyer_asks_the_shop_and_sees_the_answer_arrive(
    page: Page, problems: PageProblems, seller_context: BrowserContext
) -> None:
    seller_page = await seller_context.new_page()
    world = await _shop_with_a_hat(seller_page)
    await sign_up(page, display_name="Bruno Buyer")

    await page.goto(f"/p/{world['hat']['id']}")
    await page.get_by_role("link", name="Ask the shop").click()
    await expect(page.get_by_role("heading", name="Ask Sunny Goods")).to_be_visible()
    await expect(page.locator(".message-card")).to_contain_text("Straw Sun Hat")
    await page.get_by_label("Your message").fill("Does the hat fold flat for travel?")
    await screenshot(page, "messages-ask-the-shop-390x844")
    await page.get_by_role("button", name="Send").click()
    await expect(page).to_have_url(re.compile(r"/inbox/[0-9a-f-]{36}#latest$"))
    thread_url = page.url
    await expect(page.locator(".message-mine")).to_contain_text("Does the hat fold flat")
    await expect(page.locator(".message-mine .message-card")).to_contain_text("Straw Sun Hat")

    await seller_page.goto("/inbox")
    badge = seller_page.locator("[data-messages-badge]")
    await expect(badge).to_have_text("1")
    await screenshot(seller_page, "messages-seller-badge-390x844")
    await seller_page.get_by_role("link", name=re.compile(r"^Sunny Goods")).click()
    await seller_page.get_by_role("link", name=re.compile(r"Bruno Buyer")).click()
    await expect(seller_page.get_by_text("you answer as the shop")).to_be_visible()
    await seller_page.get_by_label("Message (as the shop)").fill("Yes, it rolls up into a tube.")
    await seller_page.get_by_role("button", name="Send").click()
    await expect(seller_page.locator(".message-mine")).to_contain_text("rolls up")

    # The buyer never reloaded: the answer arrives by the page's 5-second poll.
    assert page.url == thread_url
    answer = page.locator(".message-theirs")
    await expect(answer).to_contain_text("Yes, it rolls up into a tube.", timeout=12_000)
    await page.wait_for_timeout(500)  # let the smooth scroll settle for the screenshot
    await screenshot(page, "messages-thread-390x844")
    # The Inbox tab: the activity row first, then the conversations; nothing left unread.
    await page.get_by_role("link", name="Inbox", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    conversations = page.get_by_role("list", name="Conversations")
    await expect(conversations.locator(".message-row")).to_contain_text("Sunny Goods")
    await expect(page.get_by_role("list", name="Activity")).to_contain_text("Activity")
    await expect(page.locator("[data-messages-badge]")).to_be_hidden()
    await screenshot(page, "messages-inbox-390x844")
    assert problems.csp_violations == []
    assert problems.unexpected() == []
