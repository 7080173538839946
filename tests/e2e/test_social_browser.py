"""The follow button in a real browser at 390x844: with JavaScript it follows in place
(fetch + CSRF header) and the follow survives a reload; without JavaScript the same form
still works as a plain POST."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from clipcart.accounts import service as accounts
from clipcart.accounts.schemas import SignupIn
from clipcart.core.db import unit_of_work
from clipcart.social import service as social
from clipcart.social.models import UserFollow
from tests.api.test_social_likes import count_rows
from tests.e2e.conftest import ARTIFACTS, PHONE, PageProblems

pytestmark = pytest.mark.browser

PASSWORD = "violet-harbour-lantern-42"


async def _people(*handles: str) -> None:
    async with unit_of_work() as session:
        for handle in handles:
            user = await accounts.sign_up(
                SignupIn(email=f"{handle}@example.com", handle=handle, password=PASSWORD),
                session=session,
            )
            if handle == "other":
                followed = await accounts.get_user_by_handle("creator", session=session)
                await social.follow(user, user_id=followed.id, session=session)


async def _log_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).not_to_have_url(re.compile(r"/login"))


async def test_follow_button_with_javascript_survives_a_reload(
    page: Page, problems: PageProblems
) -> None:
    await _people("creator", "other", "fan")
    await _log_in(page, "fan@example.com")
    await page.goto("/@creator/followers")
    await expect(page.get_by_role("button", name=re.compile(r"Follow\s+@other"))).to_be_visible()
    button = page.locator('[data-follow-handle="other"] button')
    await expect(button).to_have_attribute("aria-pressed", "false")
    await button.click()
    await expect(button).to_have_attribute("aria-pressed", "true")
    await expect(button).to_contain_text("Following")
    await expect(page).to_have_url(re.compile(r"/@creator/followers$"))  # no navigation
    assert await count_rows(UserFollow) == 2
    ARTIFACTS.mkdir(exist_ok=True)
    await page.wait_for_timeout(300)  # let the colour transition finish for the screenshot
    await page.screenshot(path=str(ARTIFACTS / "social-followers-390x844.png"))

    await page.reload()
    await expect(button).to_have_attribute("aria-pressed", "true")
    await button.click()
    await expect(button).to_have_attribute("aria-pressed", "false")
    await page.reload()
    await expect(page.get_by_role("button", name=re.compile(r"Follow\s+@other"))).to_have_attribute(
        "aria-pressed", "false"
    )
    assert await count_rows(UserFollow) == 1
    assert problems.unexpected() == []


async def test_follow_form_works_without_javascript(browser: Browser, live_server: str) -> None:
    await _people("creator", "other", "fan")
    context = await browser.new_context(
        base_url=live_server, viewport=PHONE, java_script_enabled=False
    )
    try:
        page = await context.new_page()
        await _log_in(page, "fan@example.com")
        await page.goto("/@creator/followers")
        await page.get_by_role("button", name=re.compile(r"Follow\s+@other")).click()
        await expect(page).to_have_url(re.compile(r"/@creator/followers$"))
        await expect(page.get_by_text("You follow @other now.")).to_be_visible()
        await expect(
            page.get_by_role("button", name=re.compile(r"Following\s+@other"))
        ).to_have_attribute("aria-pressed", "true")
        assert await count_rows(UserFollow) == 2
    finally:
        await context.close()
