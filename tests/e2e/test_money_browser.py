"""Money pages in Chromium: a creator and a seller with money see it and pay it out."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from clipcart.accounts.models import User
from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.ledger import tasks
from clipcart.shops import service as shops
from clipcart.shops.schemas import ShopIn
from tests.e2e.conftest import PageProblems
from tests.e2e.test_pages_browser import screenshot, sign_up

pytestmark = pytest.mark.browser


async def user_id_of(handle: str) -> uuid.UUID:
    async with unit_of_work() as session:
        user = await session.scalar(select(User).where(User.handle == handle))
        assert user is not None
        return user.id


async def earn(*, amount: int, shop_id: uuid.UUID, creator_id: uuid.UUID | None = None,
               commission: int = 0, release: bool = True) -> str:  # fmt: skip
    """A paid order (and its release, unless told), straight through the ledger service."""
    order_ref = f"ord_{uuid.uuid4().hex[:10]}"
    async with unit_of_work() as session:
        await ledger.hold_payment(
            order_ref=order_ref,
            amount=Money(amount, "USD"),
            shop_id=shop_id,
            creator_id=creator_id,
            commission=Money(commission, "USD") if commission else None,
            fee_rate=Decimal("0.05"),
            session=session,
        )
    if release:
        async with unit_of_work() as session:
            await ledger.release_order_funds(order_ref=order_ref, session=session)
    return order_ref


async def settle_payouts() -> dict[str, int]:
    """Run the payout jobs as the worker would, then again once the sandbox bank has paid."""
    await tasks.advance_open_payouts()
    with clock.frozen_at(clock.now() + timedelta(minutes=10)):
        return await tasks.advance_open_payouts()


async def test_creator_sees_earnings_and_requests_a_payout(
    page: Page, problems: PageProblems
) -> None:
    account = await sign_up(page, display_name="Cara Creator")
    creator = await user_id_of(account["handle"])
    first = await earn(amount=80_000, shop_id=uuid.uuid4(), creator_id=creator, commission=8_000)
    await earn(amount=30_000, shop_id=uuid.uuid4(), creator_id=creator, commission=2_550)
    await earn(amount=20_000, shop_id=uuid.uuid4(), creator_id=creator, commission=1_000,
               release=False)  # fmt: skip

    await page.goto("/studio/money")
    await expect(page.get_by_role("heading", name="Your earnings")).to_be_visible()
    await expect(page.get_by_test_id("available")).to_have_text("$105.50")
    await expect(page.get_by_test_id("pending")).to_have_text("$10.00")
    statement = page.locator("table.money-statement")
    await expect(statement.get_by_text(first)).to_have_count(2)
    await expect(statement.get_by_text("Commission released").first).to_be_visible()
    await expect(
        page.get_by_role("img", name=re.compile("Balance over the last 30 days"))
    ).to_be_visible()
    await screenshot(page, "money-creator", full_page=True)

    # Too much first: a friendly message next to the amount, nothing paid (a 409 page).
    problems.allow_console("status of 409")
    await page.get_by_label("Amount (USD)").fill("200")
    await page.get_by_role("button", name="Request payout").click()
    await expect(page.get_by_text("You can pay out at most $105.50 now.")).to_be_visible()
    await screenshot(page, "money-creator-error", full_page=True)

    await page.get_by_label("Amount (USD)").fill("100")
    await page.get_by_role("button", name="Request payout").click()
    await expect(page.get_by_text("Payout of $100.00 requested.")).to_be_visible()
    await expect(page.get_by_test_id("available")).to_have_text("$5.50")
    await expect(page.get_by_test_id("in-transit")).to_have_text("$100.00")
    await expect(page.get_by_role("cell", name="Requested")).to_be_visible()

    assert await settle_payouts() == {"paid": 1}
    await page.reload()
    await expect(page.get_by_role("cell", name="Paid")).to_be_visible()
    await expect(page.get_by_test_id("in-transit")).to_have_text("$0.00")
    await screenshot(page, "money-creator-paid", full_page=True)
    assert problems.unexpected() == []


async def test_seller_sees_shop_money_and_a_negative_balance(
    page: Page, problems: PageProblems
) -> None:
    account = await sign_up(page, display_name="Sam Seller")
    handle = f"shop{uuid.uuid4().hex[:8]}"
    async with unit_of_work() as session:
        owner = await session.scalar(select(User).where(User.handle == account["handle"]))
        assert owner is not None
        shop = await shops.open_shop(
            owner, ShopIn(handle=handle, name="Sam's Goods", country="US", currency="USD"),
            session=session,
        )  # fmt: skip
        shop_id = shop.id
    order = await earn(amount=40_000, shop_id=shop_id)
    await earn(amount=10_000, shop_id=shop_id, release=False)

    await page.goto(f"/seller/{handle}/money")
    await expect(page.get_by_role("heading", name="Shop money")).to_be_visible()
    await expect(page.get_by_test_id("available")).to_have_text("$380.00")
    await expect(page.get_by_test_id("pending")).to_have_text("$95.00")
    await expect(page.get_by_text("Order $400.00, platform fee $20.00").first).to_be_visible()
    nav = page.get_by_role("navigation", name="Seller center")
    await expect(nav.get_by_role("link", name="Money")).to_have_attribute("aria-current", "page")

    await page.get_by_label("Amount (USD)").fill("380")
    await page.get_by_role("button", name="Request payout").click()
    await expect(page.get_by_text("Payout of $380.00 requested.")).to_be_visible()

    # A full refund after the money left: the balance goes negative and the page says why.
    async with unit_of_work() as session:
        await ledger.refund_order(
            order_ref=order, amount=Money(40_000, "USD"), refund_ref="r-1", session=session
        )
    await page.reload()
    await expect(page.get_by_test_id("available")).to_have_text("-$380.00")
    await expect(page.get_by_text("recovered from your next sales")).to_be_visible()

    await page.get_by_label("Pay out automatically").select_option("weekly")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("paid out every week")).to_be_visible()
    await screenshot(page, "money-seller", full_page=True)
    assert problems.unexpected() == []
