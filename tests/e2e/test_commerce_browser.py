"""Buying in a real browser at 390x844: from the feed's product chip to the sheet, Buy now,
checkout (address + sandbox card), paying and the order page; the seller ships it from the
seller center in a second browser; the buyer confirms delivery; a second Buy now is one tap.
And the failures: a declined card, an expired coupon, stock gone before paying, an invalid
address. The server here knows its own address, so it reaches the payment sandbox it hosts."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect
from sqlalchemy import select

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.commerce.models import Order
from clipcart.commerce.promotion_models import Coupon
from clipcart.core import clock
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.media.samples import make_sample_video
from tests.e2e.conftest import PHONE
from tests.e2e.test_feed_browser import _add_image, _api, _upload
from tests.e2e.test_pages_browser import screenshot, sign_up

pytestmark = pytest.mark.browser

CARD_OK = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 9995"
CARD_3DS = "4000 0025 0000 3155"


@pytest.fixture
async def seller_context(browser: Browser, live_server: str) -> AsyncIterator[BrowserContext]:
    """A second browser profile for the seller, phone-sized too."""
    created = await browser.new_context(
        base_url=live_server, viewport=PHONE, device_scale_factor=1, locale="en-GB"
    )
    created.set_default_timeout(10_000)
    try:
        yield created
    finally:
        await created.close()


async def open_hat_shop(
    page: Page, *, name: str, stock: int, **shop_fields: Any
) -> tuple[str, dict[str, Any]]:
    """A shop opened by the page's signed-in account (its handle) with one active product, a
    straw hat with `stock` in size M."""
    shop = f"shop{uuid.uuid4().hex[:8]}"
    await _api(
        page,
        "POST",
        "/api/v1/shops",
        {"handle": shop, "name": name, "country": "US", "currency": "USD", **shop_fields},
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
                {"sku": f"HAT-{shop}", "option_values": ["M"], "price": 2450, "stock": stock}
            ],
        },
    )
    return shop, hat


async def _shop_world(
    page: Page, tmp_path: Path, *, stock: int = 5, video: bool = True
) -> dict[str, Any]:
    """A seller with a shop, a hat with a picture and (optionally) a video tagging it."""
    account = await sign_up(page, display_name="Sunny Goods")
    async with unit_of_work() as session:
        user = await session.scalar(select(User).where(User.handle == account["handle"]))
        assert user is not None
        await accounts.grant_role(user, "creator", session=session)
    shop, hat = await open_hat_shop(
        page,
        name="Sunny Goods",
        stock=stock,
        shipping_flat_rate=500,
        free_shipping_threshold=10000,
    )
    await _add_image(page, hat["id"], tmp_path)
    world: dict[str, Any] = {"seller": account, "shop": shop, "hat": hat}
    if video:
        clip = make_sample_video(tmp_path / "clip.mp4", width=240, height=426, seconds=3.0)
        uploaded = await _upload(page, clip, caption="Summer hat #beach", shop=shop)
        await _api(page, "POST", f"/api/v1/videos/{uploaded['id']}/tags", {"product_id": hat["id"]})
        world["video"] = uploaded
    return world


async def _fill_address(page: Page, **fields: str) -> None:
    form = page.locator("#address-form")
    values = {
        "Full name": "Bruno Buyer",
        "Address line 1": "1 Market St",
        "City": "San Francisco",
        "State / county / province": "CA",
        "Postal code": "94103",
    }
    values.update(fields)
    for label, value in values.items():
        await form.get_by_label(label, exact=True).fill(value)
    await form.get_by_label("Country").select_option("US")


async def _add_card(page: Page, number: str) -> None:
    form = page.locator("#card-form")
    await form.get_by_label("Card number").fill(number)
    await form.get_by_label("Expiry (MM/YY)").fill("12/34")
    await form.get_by_label("Security code").fill("123")
    await form.get_by_role("button", name="Save card").click()
    await expect(page.locator("[data-card-list]")).to_contain_text(f"ending {number[-4:]}")


async def _order_status(order_id: str) -> str:
    async with get_sessionmaker()() as session:
        order = await session.get(Order, uuid.UUID(order_id))
        assert order is not None
        return order.status


async def test_from_the_feed_chip_to_a_delivered_order(
    context: BrowserContext,
    seller_context: BrowserContext,
    page: Page,
    problems: Any,
    tmp_path: Path,
) -> None:
    seller_page = await seller_context.new_page()
    world = await _shop_world(seller_page, tmp_path)
    buyer = await sign_up(page, display_name="Bruno Buyer")
    problems.allow_console("status of 422")  # the invalid address below is a 422 answer

    # The feed's chip opens the sheet: price, stock, quantity, Add to cart and Buy now.
    await page.goto("/")
    item = page.locator(".feed-item").first
    await item.get_by_role("link", name=re.compile("Straw Sun Hat")).click()
    sheet = page.locator("#product-sheet")
    await expect(sheet.get_by_role("heading", name="Straw Sun Hat")).to_be_visible()
    await expect(sheet.locator("[data-price]")).to_have_text("$24.50")
    await expect(sheet.get_by_role("button", name="Buy now")).to_be_enabled()
    # Add to cart: a toast and the count.
    await sheet.get_by_role("button", name="Add to cart").click()
    await expect(
        page.get_by_role("status").filter(has_text="Added to your cart").first
    ).to_be_visible()
    await screenshot(page, "commerce-sheet-390x844")

    # Buy now without a saved address and card: the checkout asks for both.
    await sheet.get_by_role("button", name="Buy now").click()
    await expect(page).to_have_url(re.compile(r"/checkout\?variant="))
    await expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    pay = page.locator("[data-pay]")
    await expect(pay).to_be_disabled()
    # An invalid address: a message under each field that needs fixing.
    await _fill_address(page, **{"Postal code": "941", "State / county / province": "XX"})
    await page.get_by_role("button", name="Use this address").click()
    await expect(page.locator("#address-form .field-error")).to_have_count(2)
    await expect(page.get_by_label("Postal code")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#address-form")).to_contain_text("ZIP")
    await screenshot(page, "commerce-checkout-invalid-address-390x844", full_page=True)
    await _fill_address(page)
    await page.get_by_role("button", name="Use this address").click()
    await expect(page.locator("[data-address-list]")).to_contain_text("1 Market St")
    await _add_card(page, CARD_OK)
    # One order: $24.50 + $5.00 shipping + CA sales tax, as quoted by the server.
    await expect(page.locator("[data-shop-quote]")).to_contain_text("Sunny Goods")
    await expect(pay).to_be_enabled()
    label = await pay.text_content()
    assert label and re.fullmatch(r"Pay \$\d+\.\d\d", label.strip()), label
    await screenshot(page, "commerce-checkout-390x844", full_page=True)
    await pay.click()
    await expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}$"))
    await expect(page.locator("[data-order-status]")).to_have_text("Paid")
    await expect(page.locator("[data-order-total]")).to_have_text(
        label.strip().removeprefix("Pay ")
    )
    order_id = page.url.rsplit("/", 1)[1]
    number = (await page.locator("h1 .mono").text_content() or "").strip()
    await screenshot(page, "commerce-order-paid-390x844", full_page=True)

    # The seller, in another browser, ships it with a tracking number from the orders list.
    await seller_page.goto(f"/seller/{world['shop']}/orders")
    row = seller_page.locator(f"[data-order-row='{number}']")
    await expect(row).to_contain_text("Paid")
    await row.get_by_label(f"Carrier for {number}").select_option("ups")
    await row.get_by_label(f"Tracking number for {number}").fill("1Z999AA10123456784")
    await expect(row.get_by_label(f"Select order {number}")).to_be_checked()
    await screenshot(seller_page, "commerce-seller-orders-390x844", full_page=True)
    assert await seller_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await seller_page.get_by_role("button", name="Mark shipped").click()
    await expect(seller_page.get_by_text("1 order marked shipped.")).to_be_visible()
    assert await _order_status(order_id) == "shipped"

    # The buyer sees the tracking and confirms delivery.
    await page.reload()
    await expect(page.locator("[data-order-status]")).to_have_text("Shipped")
    await expect(page.locator("[data-tracking]")).to_contain_text("1Z999AA10123456784")
    await page.get_by_role("button", name="Confirm delivery").click()
    await expect(page.locator("[data-order-status]")).to_have_text("Delivered")
    await expect(page.get_by_role("link", name="Request a return")).to_be_visible()
    await expect(page.locator(".timeline-step")).to_have_count(4)
    assert await _order_status(order_id) == "delivered"
    await screenshot(page, "commerce-order-delivered-390x844", full_page=True)

    # With a default address and a saved card, Buy now is one confirming tap in the sheet.
    await page.goto("/")
    await (
        page.locator(".feed-item")
        .first.get_by_role("link", name=re.compile("Straw Sun Hat"))
        .click()
    )
    await sheet.get_by_role("button", name="Buy now").click()
    confirm = sheet.locator("[data-buy-confirm]")
    await expect(confirm).to_contain_text("Ship to")
    await expect(confirm).to_contain_text("ending 4242")
    one_tap = confirm.get_by_role("button", name=re.compile(r"^Pay \$"))
    await screenshot(page, "commerce-sheet-confirm-390x844")
    await one_tap.click()
    await expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}$"))
    await expect(page.locator("[data-order-status]")).to_have_text("Paid")

    # Its line remembers the video it was bought from.
    async with get_sessionmaker()() as session:
        from clipcart.commerce.models import OrderLine

        line = await session.scalar(
            select(OrderLine).where(OrderLine.order_id == uuid.UUID(page.url.rsplit("/", 1)[1]))
        )
        assert line is not None and str(line.source_video_id) == world["video"]["id"]
    assert buyer["handle"]
    assert problems.unexpected() == []


async def test_checkout_failures_say_what_to_do(
    context: BrowserContext,
    seller_context: BrowserContext,
    page: Page,
    problems: Any,
    tmp_path: Path,
) -> None:
    seller_page = await seller_context.new_page()
    world = await _shop_world(seller_page, tmp_path, stock=2, video=False)
    shop = world["shop"]
    variant = world["hat"]["variants"][0]["id"]
    # An expired shop coupon (its window closed yesterday).
    async with unit_of_work() as session:
        from clipcart.shops.models import Shop

        shop_row = await session.scalar(select(Shop).where(Shop.handle == shop))
        assert shop_row is not None
        session.add(
            Coupon(
                code="SUMMER10",
                shop_id=shop_row.id,
                kind="percent",
                value=1000,
                currency="USD",
                starts_at=clock.now() - timedelta(days=30),
                ends_at=clock.now() - timedelta(days=1),
            )
        )
    await sign_up(page, display_name="Carla Buyer")
    # Refusals come back as 4xx answers, which Chromium logs as console errors.
    for status in (409, 422):
        problems.allow_console(f"status of {status}")

    # A visitor's Buy now asks to log in; here we are logged in: straight to checkout.
    await page.goto(f"/checkout?variant={variant}&quantity=1")
    await _fill_address(page)
    await page.get_by_role("button", name="Use this address").click()
    await expect(page.locator("[data-address-list]")).to_contain_text("1 Market St")

    # The expired coupon is refused with its reason.
    await page.get_by_label("Coupon code").fill("summer10")
    await page.get_by_role("button", name="Apply").click()
    coupon_error = page.locator("#coupon-form .field-error")
    await expect(coupon_error).to_contain_text("SUMMER10")
    await expect(coupon_error).to_contain_text(re.compile("ended|expired", re.I))
    await expect(page.locator("[data-coupon-list] li")).to_have_count(0)

    # A declined card: the reason, and the chance to use another card.
    await _add_card(page, CARD_DECLINED)
    pay = page.locator("[data-pay]")
    await expect(pay).to_be_enabled()
    await pay.click()
    alert = page.locator("#checkout-alert")
    await expect(alert).to_contain_text(re.compile("declined", re.I))
    await expect(alert).to_contain_text("another card")
    await screenshot(page, "commerce-checkout-declined-390x844")
    assert page.url.endswith(f"/checkout?variant={variant}&quantity=1")

    # Stock gone between looking and paying: "sold out", naming the product.
    await page.get_by_label("A new card").check()
    await _add_card(page, CARD_OK)
    await expect(pay).to_be_enabled()
    await _empty_stock(seller_page, shop, variant)
    await pay.click()
    await expect(alert).to_contain_text("Straw Sun Hat is sold out")
    await screenshot(page, "commerce-checkout-sold-out-390x844")
    assert problems.unexpected() == [] or all(
        "409" in p or "402" in p or "422" in p for p in problems.unexpected()
    )


async def _empty_stock(seller_page: Page, shop: str, variant: str) -> None:
    """The seller takes the last units out of stock through the seller center's form."""
    await seller_page.goto(f"/seller/{shop}/stock")
    form = seller_page.locator("form.card")
    await form.get_by_label("Product").select_option(variant)
    await form.get_by_label("Change").fill("-2")
    await form.get_by_label("Reason").select_option(index=0)
    await form.get_by_role("button", name="Record change").click()
    await expect(seller_page.get_by_text("Stock updated")).to_be_visible()


async def test_a_visitor_adds_to_cart_and_buy_now_asks_to_log_in(
    context: BrowserContext,
    seller_context: BrowserContext,
    page: Page,
    problems: Any,
    tmp_path: Path,
) -> None:
    seller_page = await seller_context.new_page()
    world = await _shop_world(seller_page, tmp_path, video=False)
    variant = world["hat"]["variants"][0]["id"]
    ends = (clock.now() + timedelta(hours=1)).isoformat()
    await _api(
        seller_page,
        "POST",
        f"/api/v1/shops/{world['shop']}/flash-deals",
        {"variant_id": variant, "deal_price": 1999, "quantity": 3, "ends_at": ends},
    )
    await page.goto(f"/p/{world['hat']['id']}")
    # The flash deal: its price, how many are left, and a countdown ticking in place.
    banner = page.locator("[data-deal]")
    await expect(banner).to_contain_text("3 left")
    await expect(page.locator("#variant-price")).to_have_text("$19.99")
    countdown = banner.locator("[data-deal-countdown]")
    first = await countdown.text_content()
    box = await banner.bounding_box()
    await page.wait_for_function(
        "(t) => document.querySelector('[data-deal-countdown]').textContent !== t", arg=first
    )
    assert re.fullmatch(r"\d+:\d\d(:\d\d)?", (await countdown.text_content()) or "")
    assert await banner.bounding_box() == box  # ticking moves nothing
    await screenshot(page, "commerce-product-deal-390x844")
    await page.get_by_role("button", name="Add to cart").click()
    await expect(
        page.get_by_role("status").filter(has_text="Added to your cart").first
    ).to_be_visible()
    await expect(page.locator("[data-cart-count]")).to_have_text("1")
    await page.goto("/cart")
    await expect(page.get_by_role("heading", name=re.compile("Sunny Goods"))).to_be_visible()
    await screenshot(page, "commerce-cart-390x844", full_page=True)
    sizes: tuple[ViewportSize, ...] = (PHONE, {"width": 1280, "height": 800})
    for size in sizes:
        await page.set_viewport_size(size)
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await screenshot(page, "commerce-cart-1280x800")
    await page.set_viewport_size(PHONE)
    await page.goto(f"/p/{world['hat']['id']}")
    await page.get_by_role("button", name="Buy now").click()
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Fcheckout"))
    # Signing up from there comes back to the checkout, and the visitor's cart is kept.
    await page.get_by_role("link", name="Sign up").first.click()
    handle = f"vis{uuid.uuid4().hex[:8]}"
    await page.get_by_label("Email").fill(f"{handle}@example.com")
    await page.get_by_label("Handle", exact=True).fill(handle)
    await page.get_by_label("Display name").fill("Vera Visitor")
    await page.get_by_label("Password").fill("violet-harbour-lantern-42")
    await page.get_by_role("button", name="Create account").click()
    await expect(page).to_have_url(re.compile(rf"/checkout\?variant={variant}&quantity=1$"))
    await expect(page.locator("[data-shop-quote]")).to_contain_text("Straw Sun Hat")
    await page.goto("/cart")
    await expect(page.locator("[data-cart-item]")).to_have_count(1)
    assert problems.unexpected() == []


async def test_a_card_needing_the_banks_confirmation(
    context: BrowserContext,
    seller_context: BrowserContext,
    page: Page,
    problems: Any,
    tmp_path: Path,
) -> None:
    seller_page = await seller_context.new_page()
    world = await _shop_world(seller_page, tmp_path, video=False)
    variant = world["hat"]["variants"][0]["id"]
    await sign_up(page, display_name="Dora Buyer")
    await page.goto(f"/checkout?variant={variant}&quantity=1")
    await _fill_address(page)
    await page.get_by_role("button", name="Use this address").click()
    await expect(page.locator("[data-address-list]")).to_contain_text("1 Market St")
    await _add_card(page, CARD_3DS)
    await page.locator("[data-pay]").click()
    action = page.locator("[data-requires-action]")
    await expect(action).to_contain_text("confirm this payment")
    await action.get_by_role("button", name="Confirm with your bank").click()
    await expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}$"))
    # The capture runs as a job once the bank said yes (inline in tests): the order is paid.
    await expect(page.locator("[data-order-status]")).to_have_text("Paid")
    order_id = page.url.rsplit("/", 1)[1]
    assert await _order_status(order_id) == "paid"
    assert problems.unexpected() == []


async def test_a_cart_from_two_shops_becomes_two_orders(
    context: BrowserContext,
    seller_context: BrowserContext,
    page: Page,
    problems: Any,
    tmp_path: Path,
) -> None:
    seller_page = await seller_context.new_page()
    first = await _shop_world(seller_page, tmp_path, video=False)
    await seller_context.clear_cookies()
    second = await _shop_world(seller_page, tmp_path, video=False)
    await sign_up(page, display_name="Erin Buyer")
    for world in (first, second):
        await _api(
            page,
            "POST",
            "/api/v1/cart/items",
            {"variant_id": world["hat"]["variants"][0]["id"], "quantity": 2},
        )
    await _api(
        page,
        "POST",
        "/api/v1/addresses",
        {
            "name": "Erin Buyer",
            "line1": "1 Market St",
            "city": "San Francisco",
            "region": "CA",
            "postal_code": "94103",
            "country": "US",
            "is_default": True,
        },
    )
    await _api(
        page,
        "POST",
        "/api/v1/payments/methods",
        {
            "number": CARD_OK.replace(" ", ""),
            "exp_month": 12,
            "exp_year": 2034,
            "cvc": "123",
        },
    )
    await page.goto("/cart")
    await expect(page.locator(".cart-shop")).to_have_count(2)
    await page.get_by_role("link", name="Checkout", exact=True).click()
    await expect(page.locator("[data-shop-quote]")).to_have_count(2)
    await expect(page.locator("[data-grand-total]")).to_be_visible()
    grand = (await page.locator("[data-grand-total]").text_content() or "").strip()
    pay = page.locator("[data-pay]")
    await expect(pay).to_have_text(f"Pay {grand}")
    await screenshot(page, "commerce-checkout-two-shops-390x844", full_page=True)
    await pay.click()
    await expect(page).to_have_url(re.compile(r"/orders$"))
    await expect(page.locator(".order-row")).to_have_count(2)
    await expect(page.locator(".order-row .order-chip")).to_have_text(["Paid", "Paid"])
    await screenshot(page, "commerce-orders-390x844")
    await page.goto("/cart")
    await expect(page.get_by_text("Your cart is empty.")).to_be_visible()
    assert problems.unexpected() == []
