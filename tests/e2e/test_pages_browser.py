"""The pages in a real browser: the account journey, screenshots, CSP and console hygiene."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import pyotp
import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import ARTIFACTS, PageProblems

pytestmark = pytest.mark.browser

PASSWORD = "violet-harbour-lantern-42"


def make_avatar_png(path: Path) -> Path:
    """A 240x240 PNG with a recognisable shape, made with Pillow."""
    image = Image.new("RGB", (240, 240), (29, 78, 216))
    draw = ImageDraw.Draw(image)
    draw.ellipse((50, 40, 190, 180), fill=(255, 92, 138))
    draw.rectangle((0, 200, 240, 240), fill=(11, 11, 16))
    image.save(path, format="PNG")
    return path


async def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot under test-artifacts/ (gitignored) for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


async def sign_up(page: Page, *, display_name: str = "Ada Lovelace") -> dict[str, str]:
    handle = f"ada{uuid.uuid4().hex[:8]}"
    account = {"email": f"{handle}@example.com", "handle": handle, "name": display_name}
    await page.goto("/signup")
    await page.get_by_label("Email").fill(account["email"])
    await page.get_by_label("Handle", exact=True).fill(handle)
    await page.get_by_label("Display name").fill(display_name)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page).to_have_url(re.compile(rf"/@{handle}$"))
    return account


async def log_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def test_home_at_phone_size(page: Page, problems: PageProblems) -> None:
    await page.goto("/")

    await expect(page.get_by_role("heading", name="Watch. Tap. Shop.")).to_be_visible()
    await expect(page.get_by_text("The feed arrives soon")).to_be_visible()
    tabbar = page.get_by_role("navigation", name="Main")
    await expect(tabbar.get_by_role("link", name="Home", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    for label in ("Home", "Shop", "Upload", "Inbox", "Me"):
        box = await tabbar.get_by_role("link", name=label, exact=True).bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, (label, box)
    # Sign up and Log in are on screen without scrolling, above the tab bar.
    tabbar_box = await tabbar.bounding_box()
    assert tabbar_box
    for name in ("Sign up", "Log in"):
        button = await page.get_by_role("link", name=name, exact=True).first.bounding_box()
        assert button and button["y"] + button["height"] <= tabbar_box["y"], name
    no_horizontal_scroll = await page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
    )
    assert no_horizontal_scroll
    await screenshot(page, "home-390x844")
    assert problems.unexpected() == []


async def test_home_on_a_desktop_window_is_a_centered_column(
    context: BrowserContext, problems: PageProblems
) -> None:
    page = await context.new_page()
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto("/")

    shell = await page.locator(".shell").bounding_box()
    assert shell and shell["width"] < 700
    assert abs(shell["x"] - (1280 - shell["x"] - shell["width"])) <= 2  # centered
    await screenshot(page, "home-1280x800")
    assert problems.unexpected() == []


async def test_sign_up_log_out_log_in_and_edit_the_profile(
    page: Page, problems: PageProblems, tmp_path: Path
) -> None:
    account = await sign_up(page)
    await expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    await expect(page.get_by_text("Your account is ready")).to_be_visible()
    tabbar = page.get_by_role("navigation", name="Main")
    await expect(tabbar.get_by_role("link", name="Me", exact=True)).to_have_attribute(
        "aria-current", "page"
    )

    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.get_by_text("You are logged out")).to_be_visible()

    await page.goto("/login")
    await screenshot(page, "login-390x844")
    await page.get_by_label("Email").fill(account["email"])
    problems.allow_console("status of 401 (Unauthorized) (")  # the form, answered with 401
    await page.get_by_label("Password").fill("not-the-password-at-all")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    await expect(page.get_by_label("Email")).to_have_value(account["email"])
    await expect(page.get_by_label("Password")).to_have_value("")
    await screenshot(page, "login-error-390x844")

    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_text("Welcome back, Ada Lovelace")).to_be_visible()

    await tabbar.get_by_role("link", name="Me", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"/@{account['handle']}$"))
    await page.get_by_role("link", name="Edit profile").click()
    await page.get_by_label("Choose a new picture").set_input_files(
        make_avatar_png(tmp_path / "avatar.png")
    )
    preview = page.locator("#avatar-preview")
    await expect(preview).to_have_attribute("src", re.compile(r"^blob:"))
    await page.get_by_label("Display name").fill("Ada King")
    await page.get_by_label("Bio").fill("Analytical engines and\nthe finest punch cards.")
    await screenshot(page, "edit-profile-390x844", full_page=True)
    await page.get_by_role("button", name="Save profile").click()

    await expect(page).to_have_url(re.compile(rf"/@{account['handle']}$"))
    await expect(page.get_by_role("heading", name="Ada King")).to_be_visible()
    await expect(page.get_by_text("the finest punch cards.")).to_be_visible()
    avatar = page.get_by_role("img", name="Profile picture of Ada King")
    await expect(avatar).to_have_attribute("src", re.compile(r"^/media/avatars/.+\.webp$"))
    natural_width = await avatar.evaluate(
        "img => img.complete ? img.naturalWidth : new Promise(done => "
        "img.addEventListener('load', () => done(img.naturalWidth)))"
    )
    assert natural_width > 0
    await screenshot(page, "profile-390x844")
    assert problems.unexpected() == []


async def test_security_settings_tokens_and_two_factor(page: Page, problems: PageProblems) -> None:
    account = await sign_up(page)
    await page.goto("/settings/security")

    await page.get_by_label("Name").fill("Nightly export")
    await page.get_by_label("account:read").check()
    await page.get_by_label("orders:read").check()
    await page.get_by_role("button", name="Create token").click()
    secret = (await page.locator("#new-token").inner_text()).strip()
    assert secret.startswith("cc_")
    await expect(page.get_by_role("list", name="Your API tokens")).to_contain_text("Nightly export")

    await page.get_by_role("button", name="Set up two-factor").click()
    await expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    qr_width = await page.get_by_role("img", name=re.compile("QR code")).evaluate(
        "img => img.naturalWidth"
    )
    assert qr_width > 0
    await screenshot(page, "two-factor-setup-390x844", full_page=True)
    totp = pyotp.TOTP((await page.locator("#totp-secret").inner_text()).strip())
    await page.get_by_label("6-digit code").fill(totp.now())
    await page.get_by_role("button", name="Turn on two-factor").click()
    await expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    codes = await page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    await page.get_by_role("link", name="I have saved them").click()
    await expect(page.get_by_text("10 unused recovery codes")).to_be_visible()
    await screenshot(page, "settings-390x844", full_page=True)

    await page.goto(f"/@{account['handle']}")
    await page.get_by_role("button", name="Log out").click()
    await log_in(page, account["email"])
    await expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    await page.get_by_label("Code").fill(codes[0])
    await page.get_by_role("button", name="Verify and log in").click()
    await expect(page.get_by_text("Welcome back")).to_be_visible()
    assert problems.unexpected() == []


SIGNED_OUT_PAGES = ["/", "/shop", "/login", "/signup"]
SIGNED_IN_PAGES = ["/", "/shop", "/upload", "/inbox", "/settings/profile", "/settings/security"]


async def test_pages_have_no_csp_violations_or_console_errors(
    page: Page, problems: PageProblems
) -> None:
    for path in SIGNED_OUT_PAGES:
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
    account = await sign_up(page)
    for path in [*SIGNED_IN_PAGES, f"/@{account['handle']}"]:
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
    problems.allow_console("404 (Not Found)")  # the 404 page's own status, nothing else
    response = await page.goto("/this/page/does/not/exist")
    assert response and response.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await page.wait_for_load_state("networkidle")
    await screenshot(page, "not-found-390x844")

    assert problems.csp_violations == []
    assert problems.unexpected() == []
    not_found_errors = [m for m in problems.console_errors if "404" in m]
    assert len(not_found_errors) <= 1


async def test_the_csp_listener_does_report_violations(page: Page, problems: PageProblems) -> None:
    """A check of the check: an inline style on a page is reported as a violation."""
    await page.goto("/")
    await page.evaluate(
        "() => { const s = document.createElement('style'); s.textContent = 'body{}';"
        " document.head.append(s); }"
    )
    # The report crosses from the page to the test asynchronously: wait for it, up to 5 s.
    deadline = asyncio.get_running_loop().time() + 5
    while not any("style-src" in violation for violation in problems.csp_violations):
        assert asyncio.get_running_loop().time() < deadline, problems.csp_violations
        await asyncio.sleep(0.01)


async def test_the_forms_work_without_javascript(browser: Browser, live_server: str) -> None:
    context = await browser.new_context(
        base_url=live_server, viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    try:
        page = await context.new_page()
        account = await sign_up(page, display_name="No Script")
        await page.get_by_role("button", name="Log out").click()
        await log_in(page, account["email"])
        await expect(page.get_by_text("Welcome back, No Script")).to_be_visible()
        await page.goto("/settings/profile")
        await page.get_by_label("Bio").fill("Works without scripts.")
        await page.get_by_role("button", name="Save profile").click()
        await expect(page.get_by_text("Works without scripts.")).to_be_visible()
    finally:
        await context.close()
