"""Demo commerce: the buyer's address and saved card, the starter tax table, a shop coupon, a
flash deal, and a few orders in different states placed and paid through the services, so the
seller center and the buyer's orders page have something to show. Adds nothing on a rerun."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.catalog.models import Product, Variant
from clipcart.core import clock
from clipcart.shops.models import Shop

DEMO_COUPON = "WELCOME10"
DEAL_PRODUCT = "Studio Headphones"
DEMO_ADDRESS = {
    "name": "Bea Buyer",
    "line1": "500 Howard Street",
    "line2": "Apt 4",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
    "phone": "+14155550123",
}
SANDBOX_CARD = "4242424242424242"
# (how long ago it was placed, how far along it got): shipped a day after payment, delivered
# two days after that; "completed" orders are older than the return window; "refunded" was
# sent back after delivery, "cancelled" by the buyer before it shipped (both refunded).
DEMO_ORDERS: tuple[tuple[timedelta, str], ...] = (
    (timedelta(days=12), "completed"),
    (timedelta(days=8), "refunded"),
    (timedelta(days=6), "cancelled"),
    (timedelta(days=4), "delivered"),
    (timedelta(days=2), "shipped"),
    (timedelta(hours=3), "paid"),
)


@asynccontextmanager
async def _in_process_sandbox() -> AsyncIterator[None]:
    """The payment sandbox reached in-process: the server is not running while seeding."""
    import httpx

    from clipcart.app import create_app
    from clipcart.payments import service as payments
    from clipcart.payments.sandbox_client import SandboxProvider

    transport = httpx.ASGITransport(app=create_app())
    payments.set_provider(SandboxProvider("http://demo/sandbox", transport=transport))
    try:
        yield
    finally:
        payments.set_provider(None)


@asynccontextmanager
async def clock_at(moment: datetime) -> AsyncIterator[clock.FrozenClock]:
    """Run the block as if it were `moment` (the clock moves only when told)."""
    frozen = clock.FrozenClock(moment)
    previous = clock.set_clock(frozen)
    try:
        yield frozen
    finally:
        clock.set_clock(previous)


async def seed_demo_commerce(*, buyer_email: str, seller_email: str, shop_handle: str) -> int:
    """Everything commerce the demo shows, once; how many orders were placed."""
    from clipcart.commerce import address_book, tax_rates
    from clipcart.commerce.models import Order
    from clipcart.commerce.promotion_schemas import AddressIn
    from clipcart.core.db import unit_of_work
    from clipcart.payments import service as payments
    from clipcart.shops import service as shops

    async with unit_of_work() as session:
        buyer = await session.scalar(select(User).where(User.email == buyer_email))
        seller = await session.scalar(select(User).where(User.email == seller_email))
        if buyer is None or seller is None:
            return 0
        shop = await shops.get_shop_by_handle(shop_handle, session=session)
        await tax_rates.ensure_default_tax_rates(session=session)
        if await address_book.default_address(buyer.id, session=session) is None:
            await address_book.save_address(
                buyer, AddressIn(**DEMO_ADDRESS, is_default=True), session=session
            )
        await _ensure_coupon(shop, session=session)
        await _ensure_flash_deal(shop, session=session)
        has_card = bool(await payments.list_payment_methods(buyer.id, session=session))
        placed_before = await session.scalar(
            select(func.count()).select_from(Order).where(Order.buyer_id == buyer.id)
        )
    if placed_before:
        return 0
    async with _in_process_sandbox():
        if not has_card:
            async with unit_of_work() as session:
                await payments.save_payment_method(
                    buyer, number=SANDBOX_CARD, exp_month=12, exp_year=2099, cvc="123",
                    session=session,
                )  # fmt: skip
        variants = await _variants_to_order(shop.id, len(DEMO_ORDERS))
        placed = 0
        for (age, status), variant in zip(DEMO_ORDERS, variants, strict=False):
            await _demo_order(buyer, seller, variant, placed_ago=age, status=status)
            placed += 1
    return placed


async def _ensure_coupon(shop: Shop, *, session: AsyncSession) -> None:
    """The shop's WELCOME10: 10% off from $20, once per buyer."""
    from clipcart.commerce import coupons
    from clipcart.commerce.promotion_models import Coupon
    from clipcart.commerce.promotion_schemas import CouponIn

    existing = await session.scalar(
        select(Coupon.id).where(Coupon.shop_id == shop.id, Coupon.code == DEMO_COUPON)
    )
    if existing is None:
        await coupons.create_coupon(
            shop,
            CouponIn(
                code=DEMO_COUPON,
                kind="percent",
                value=1000,
                min_spend=2000,
                per_buyer_limit=1,
                ends_at=clock.now() + timedelta(days=90),
            ),
            session=session,
        )


async def _ensure_flash_deal(shop: Shop, *, session: AsyncSession) -> None:
    """A flash deal on the headphones for the next three days, unless one is running."""
    from clipcart.commerce import flash_deals
    from clipcart.commerce.promotion_models import FlashDeal
    from clipcart.commerce.promotion_schemas import FlashDealIn

    variant = await session.scalar(
        select(Variant)
        .join(Product, Product.id == Variant.product_id)
        .where(Product.shop_id == shop.id, Product.title == DEAL_PRODUCT, Variant.stock > 0)
        .order_by(Variant.position, Variant.id)
        .limit(1)
    )
    if variant is None:
        return
    now = clock.now()
    running = await session.scalar(
        select(FlashDeal.id).where(
            FlashDeal.variant_id == variant.id,
            FlashDeal.cancelled.is_(False),
            FlashDeal.ends_at > now,
        )
    )
    if running is None:
        await flash_deals.create_flash_deal(
            shop,
            FlashDealIn(
                variant_id=variant.id,
                deal_price=variant.price * 3 // 4,
                quantity=min(10, variant.stock),
                per_buyer_limit=2,
                ends_at=now + timedelta(days=3),
            ),
            session=session,
        )


async def _variants_to_order(shop_id: uuid.UUID, count: int) -> Sequence[Variant]:
    """One in-stock variant from each of the first products (not the one on a deal)."""
    from clipcart.core.db import unit_of_work

    async with unit_of_work() as session:
        rows = await session.execute(
            select(Variant, Product.title)
            .join(Product, Product.id == Variant.product_id)
            .where(
                Product.shop_id == shop_id,
                Product.status == "active",
                Product.title != DEAL_PRODUCT,
                Variant.stock > 1,
            )
            .order_by(Product.created_at, Product.id, Variant.position, Variant.id)
        )
        chosen: dict[str, Variant] = {}
        for variant, title in rows:
            chosen.setdefault(title, variant)
        return list(chosen.values())[:count]


async def _demo_order(
    buyer: User, seller: User, variant: Variant, *, placed_ago: timedelta, status: str
) -> None:
    """Place and pay one order `placed_ago`, then take it as far as `status`."""
    from clipcart.commerce import checkout, fulfilment, orders, payment
    from clipcart.commerce.schemas import CheckoutIn, CheckoutItemIn, QuoteIn
    from clipcart.core.db import unit_of_work
    from clipcart.payments import service as payments

    now = clock.now()
    async with clock_at(now - placed_ago) as frozen:
        items = [CheckoutItemIn(variant_id=variant.id, quantity=1)]
        async with unit_of_work() as session:
            card = (await payments.list_payment_methods(buyer.id, session=session))[0].token
            quote = await checkout.quote_checkout(
                buyer, QuoteIn(items=items, payment_method=card), session=session
            )
            placed = await checkout.place_checkout(
                buyer,
                CheckoutIn(
                    items=items, payment_method=card, expected_total=quote.grand_total.amount
                ),
                session=session,
            )
        async with unit_of_work() as session:
            await payment.pay_checkout(
                buyer, placed.checkout_id, payment_method=card, session=session
            )
        order_id = placed.orders[0].id
        if status == "paid":
            return
        if status == "cancelled":
            await _cancel(order_id, buyer)
            return
        frozen.advance(timedelta(days=1))
        async with unit_of_work() as session:
            order = await orders.get_order(order_id, session=session, lock=True)
            await fulfilment.ship_order(
                order,
                carrier="usps",
                tracking_number=f"9400{order.number[3:]}",
                actor=seller,
                session=session,
            )
        if status == "shipped":
            return
        frozen.advance(timedelta(days=2))
        async with unit_of_work() as session:
            order = await orders.get_order(order_id, session=session, lock=True)
            await fulfilment.confirm_delivery(order, actor=buyer, session=session)
        if status == "refunded":
            frozen.advance(timedelta(days=1))
            await _send_back(order_id, buyer, seller)
            return
    if status == "completed":
        async with unit_of_work() as session:
            await fulfilment.complete_order(order_id, session=session)


async def _cancel(order_id: uuid.UUID, buyer: User) -> None:
    """The buyer cancels a paid order before it ships; the refund follows the commit."""
    from clipcart.commerce import cancelling, orders
    from clipcart.core.db import unit_of_work

    async with unit_of_work() as session:
        order = await orders.get_order(order_id, session=session, lock=True)
        cancellation = await cancelling.cancel_order(
            order, actor=buyer, reason="Ordered the wrong size", session=session
        )
    await cancelling.finish_cancellation(cancellation)


async def _send_back(order_id: uuid.UUID, buyer: User, seller: User) -> None:
    """The buyer returns a delivered order: asked, approved, received, refunded."""
    from clipcart.commerce import orders, returns
    from clipcart.core.db import unit_of_work

    async with unit_of_work() as session:
        order = await orders.get_order(order_id, session=session, lock=True)
        lines = await orders.list_order_lines(order_id, session=session)
        request = await returns.request_return(
            order,
            buyer=buyer,
            lines_in=[returns.ReturnLineIn(line.id, line.quantity) for line in lines],
            reason="not_as_described",
            details="The colour is darker than in the video.",
            session=session,
        )
        await returns.approve_return(request, order, actor=seller, session=session)
        await returns.receive_return(request, session=session)
        return_id = request.id
    await returns.refund_return(return_id)
