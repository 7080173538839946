"""The creator center and the shop's affiliate page in Chromium, with their charts: a creator
with a month of views, taps and commissions in every state, and the shop selling through her.
Screenshots go to /work/screens/ (and test-artifacts/) for people to look at."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, ViewportSize, expect
from sqlalchemy import select

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.accounts.schemas import SignupIn
from clipcart.affiliate.models import Commission
from clipcart.catalog import service as catalog
from clipcart.catalog.schemas import ProductIn, VariantIn
from clipcart.core.db import unit_of_work
from clipcart.demo.affiliate import seed_affiliate_story
from clipcart.shops import service as shops
from clipcart.shops.schemas import ShopIn
from tests.e2e.conftest import PageProblems
from tests.e2e.test_commerce_browser import CARD_OK
from tests.e2e.test_commerce_browser import _add_card as add_card
from tests.e2e.test_commerce_browser import _fill_address as fill_address
from tests.e2e.test_pages_browser import PASSWORD, log_in, screenshot, sign_up

pytestmark = pytest.mark.browser

SCREENS = Path("/work/screens")
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def keep(path: Path) -> None:
    """Copy a screenshot where the people reviewing this work look for it."""
    if SCREENS.is_dir() or SCREENS.parent.is_dir():
        SCREENS.mkdir(exist_ok=True)
        shutil.copy(path, SCREENS / path.name)


async def seed(creator_handle: str) -> tuple[str, str]:
    """A shop with two products selling through the creator; (seller email, shop handle)."""
    suffix = uuid.uuid4().hex[:6]
    email, shop_handle = f"seller{suffix}@example.com", f"glow{suffix}"
    async with unit_of_work() as session:
        creator = await session.scalar(select(User).where(User.handle == creator_handle))
        assert creator is not None
        owner = await accounts.sign_up(
            SignupIn(email=email, handle=f"sam{suffix}", password=PASSWORD, display_name="Sam"),
            session=session,
        )
        shop = await shops.open_shop(
            owner,
            ShopIn(handle=shop_handle, name="Glow Lab", country="US", currency="USD"),
            session=session,
        )
        products = [
            await catalog.create_product(
                shop,
                ProductIn(
                    title=title,
                    status="active",
                    variants=[VariantIn(sku=f"{sku}-{suffix}", price=price, stock=50)],
                ),
                actor=owner,
                session=session,
            )
            for title, sku, price in (("Glow Serum", "GS", 2_800), ("Night Cream", "NC", 4_200))
        ]
        await seed_affiliate_story(creator=creator, shop=shop, products=products, session=session)
    return email, shop_handle


async def test_creator_center_and_shop_side_with_charts(page: Page, problems: PageProblems) -> None:
    account = await sign_up(page, display_name="Cara Creator")
    seller_email, shop_handle = await seed(account["handle"])

    await page.goto("/studio/affiliate")
    await expect(page.get_by_role("heading", name="Creator center")).to_be_visible()
    await expect(page.get_by_test_id("available")).not_to_have_text("$0.00")
    await expect(page.get_by_test_id("pending")).not_to_have_text("$0.00")
    for title in ("Views", "Product taps", "GMV", "Commission"):
        await expect(page.locator(".affiliate-chart-title", has_text=title).first).to_be_visible()
    assert await page.locator(".affiliate-chart svg").count() == 4
    assert await page.locator("rect.affiliate-bar").count() >= 30  # a bar per day with taps
    await expect(page.get_by_role("row", name="Trying Glow Serum for a week")).to_be_visible()
    await expect(page.get_by_text("Clawed back").first).to_be_visible()
    await expect(page.get_by_text("Awaiting payment").first).to_be_visible()
    keep(await screenshot(page, "affiliate-creator-center-phone", full_page=True))

    # Offers: add one to the showcase, ask for a sample; both show up.
    offer = page.locator(".affiliate-offer", has_text="Night Cream")
    await expect(offer.get_by_text("15%")).to_be_visible()
    await offer.get_by_role("button", name="Ask for a sample").click()
    await expect(page.get_by_text("Sample requested")).to_be_visible()
    await expect(page.locator(".affiliate-sample", has_text="Night Cream")).to_be_visible()
    offer = page.locator(".affiliate-offer", has_text="Glow Serum")
    await offer.get_by_role("button", name="Add to showcase").click()
    await expect(page.get_by_text("Added to your showcase")).to_be_visible()

    await page.set_viewport_size(DESKTOP)
    await page.goto("/studio/affiliate")
    await expect(page.locator(".affiliate-chart svg").first).to_be_visible()
    keep(await screenshot(page, "affiliate-creator-center-desktop", full_page=True))

    # The shop's side: who sells its products, and the sample request to answer.
    await page.context.clear_cookies()
    await log_in(page, seller_email)
    await expect(page).not_to_have_url(re.compile(r"/login"))
    await page.goto(f"/seller/{shop_handle}/affiliate")
    await expect(page.get_by_role("heading", name="Affiliates")).to_be_visible()
    await expect(page.get_by_role("row", name=f"@{account['handle']}")).to_be_visible()
    assert await page.locator(".affiliate-chart svg").count() == 4  # views, taps, GMV, commission
    sample = page.locator(".affiliate-sample", has_text="Night Cream")
    await sample.get_by_role("button", name="Approve").click()
    await expect(page.get_by_text("the creator has 14 days to post")).to_be_visible()
    await expect(page.locator(".affiliate-sample", has_text="Video due")).to_be_visible()
    await page.get_by_role("combobox", name="Product").select_option(label="Glow Serum")
    await page.get_by_label("Commission (%)").fill("20")
    await page.get_by_label("Ends on (optional)").fill("2099-01-31")
    await page.get_by_label("Invite only these creators (optional)").fill(f"@{account['handle']}")
    await page.get_by_role("button", name="Open to creators").click()
    await expect(page.get_by_text("Opened to creators at 20%")).to_be_visible()
    invited = page.get_by_role("row", name="Glow Serum Invited creators 20%")
    await invited.get_by_role("button", name="Pause").click()
    await expect(page.get_by_text("Collaboration updated.")).to_be_visible()
    await expect(page.get_by_role("row", name="Glow Serum Invited creators 20%")).to_contain_text(
        "Paused"
    )
    keep(await screenshot(page, "affiliate-shop-side-desktop", full_page=True))
    assert problems.unexpected() == []


async def test_a_purchase_from_a_creators_showcase_earns_her_commission(
    page: Page, problems: PageProblems
) -> None:
    account = await sign_up(page, display_name="Cara Creator")
    _seller_email, _shop_handle = await seed(account["handle"])
    await page.goto("/studio/affiliate")
    offer = page.locator(".affiliate-offer", has_text="Glow Serum")
    await offer.get_by_role("button", name="Add to showcase").click()
    await expect(page.get_by_text("Added to your showcase")).to_be_visible()

    # A buyer finds the serum in her showcase and buys it.
    await page.context.clear_cookies()
    await sign_up(page, display_name="Bruno Buyer")
    await page.goto(f"/@{account['handle']}")
    # The product page reports the showcase tap as soon as its script runs (it is the evidence
    # the commission is credited with); a buyer quicker than the script would leave none.
    async with page.expect_response(
        lambda answer: answer.url.endswith("/api/v1/events") and answer.request.method == "POST"
    ) as tap:
        await (
            page.locator(".social-showcase")
            .get_by_role("link", name=re.compile("Glow Serum"))
            .click()
        )
    assert (await tap.value).status == 200
    await expect(page).to_have_url(re.compile(r"/p/[0-9a-f-]{36}\?showcase=[0-9a-f-]{36}$"))
    await page.get_by_role("button", name="Buy now").click()
    await expect(page).to_have_url(re.compile(r"/checkout\?.*showcase=[0-9a-f-]{36}"))
    await fill_address(page)
    await page.get_by_role("button", name="Use this address").click()
    await expect(page.locator("[data-address-list]")).to_contain_text("1 Market St")
    await add_card(page, CARD_OK)
    await page.locator("[data-pay]").click()
    await expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}$"))
    await expect(page.locator("[data-order-status]")).to_have_text("Paid")
    order_id = uuid.UUID(page.url.rsplit("/", 1)[1])
    async with unit_of_work() as session:
        commission = await session.scalar(select(Commission).where(Commission.order_id == order_id))
        assert commission is not None and commission.source_kind == "showcase"
        assert commission.source_event_id is not None  # the showcase tap the page sent

    # Cara sees it in her creator center, credited to her showcase.
    await page.context.clear_cookies()
    await log_in(page, account["email"])
    await expect(page).not_to_have_url(re.compile(r"/login"))
    await page.goto("/studio/affiliate")
    row = page.get_by_role("row").filter(has_text="Your showcase")
    await expect(row.first).to_contain_text("Glow Serum")
    keep(await screenshot(page, "affiliate-showcase-commission-phone", full_page=True))
    assert problems.unexpected() == []
