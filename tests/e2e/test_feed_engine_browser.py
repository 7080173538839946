"""For You in the browser: every video says why it is there, and the feed settings page steers
the mix of shopping and the interests a new account starts from."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.conftest import PageProblems
from tests.e2e.test_feed_browser import _make_world
from tests.e2e.test_pages_browser import screenshot, sign_up


async def test_why_am_i_seeing_this_and_the_feed_settings(
    context: BrowserContext, page: Page, problems: PageProblems, tmp_path: Path
) -> None:
    await _make_world(page, tmp_path)
    await context.clear_cookies()
    await sign_up(page, display_name="Wanda Why")
    problems.allow_console("status of 422")  # the refused settings form below, on purpose

    await page.goto("/")
    first = page.locator(".feed-item").first
    why = first.locator(".feed-why")
    await why.get_by_text("Why am I seeing this?").click()
    await expect(why.locator(".feed-why-body p")).to_contain_text("You are seeing this because")
    assert await why.locator(".feed-why-terms li").count() >= 1
    await screenshot(page, "feed-why")

    await why.get_by_role("link", name="Tune your feed").click()
    await expect(page.get_by_role("heading", name="Your feed")).to_be_visible()
    await expect(page.get_by_label("Balanced")).to_be_checked()
    await page.get_by_label("More shopping").check()
    await page.get_by_label("Interests").fill("#cooking, #Fitness bad/topic")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator(".field-error")).to_contain_text("is not a topic")
    await expect(page.get_by_label("Interests")).to_have_value("#cooking, #Fitness bad/topic")
    await page.get_by_label("Interests").fill("#cooking #Fitness")
    await page.get_by_label("More shopping").check()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Your feed settings are saved")).to_be_visible()
    await expect(page.get_by_label("More shopping")).to_be_checked()
    await expect(page.get_by_label("Interests")).to_have_value("#cooking #fitness")
    await expect(page.get_by_text("videos with products may come one after")).to_be_visible()
    await screenshot(page, "feed-settings", full_page=True)
    assert problems.unexpected() == []
