"""Demo commerce: the buyer's address and saved card, the starter tax table, a shop coupon, a
flash deal, and a few orders in different states placed and paid through the services, so the
seller center and the buyer's orders page have something to show. Each order's steps are planned
on the demo's timeline at the moments they happened. Adds nothing on a rerun."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.catalog.models import Product, Variant
from clipcart.core import clock
from clipcart.demo.timeline import Timeline
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
# Each step is dated when it happened (demo/timeline.py), so are the ledger's postings.
DEMO_ORDERS: tuple[tuple[timedelta, str], ...] = (
    (timedelta(days=12), "completed"),
    (timedelta(days=8), "refunded"),
    (timedelta(days=6), "cancelled"),
    (timedelta(days=4), "delivered"),
    (timedelta(days=2), "shipped"),
    (timedelta(hours=3), "paid"),
)
CARD_SAVED_BEFORE = timedelta(hours=1)
CANCELLED_AFTER = timedelta(hours=2)
SHIPPED_AFTER = timedelta(days=1)
DELIVERED_AFTER = timedelta(days=2)
RETURN_ASKED_AFTER = timedelta(days=1)
RETURN_REFUNDED_AFTER = timedelta(days=3, hours=4)  # two days and more to come back


@asynccontextmanager
async def in_process_sandbox() -> AsyncIterator[None]:
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


async def plan_demo_commerce(
    timeline: Timeline, *, buyer_email: str, seller_email: str, shop_handle: str
) -> int:
    """Everything commerce the demo shows, once: the buyer's address and card, the coupon and
    the deal now, and the orders' histories planned on `timeline` (run it inside
    `in_process_sandbox`); how many orders were planned."""
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
    oldest = timeline.now - max(age for age, _ in DEMO_ORDERS)
    if not has_card:  # the buyer saved the card a little before their first order
        timeline.add(oldest - CARD_SAVED_BEFORE, partial(_save_card, buyer))
    variants = await _variants_to_order(shop.id, len(DEMO_ORDERS))
    for (age, status), variant in zip(DEMO_ORDERS, variants, strict=False):
        story = DemoOrder(buyer=buyer, seller=seller, variant_id=variant.id, status=status)
        story.plan(timeline, placed_at=timeline.now - age)
    return min(len(DEMO_ORDERS), len(variants))


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


async def _save_card(buyer: User) -> None:
    """The buyer saves the sandbox card (the provider tokenises it)."""
    from clipcart.core.db import unit_of_work
    from clipcart.payments import service as payments

    async with unit_of_work() as session:
        await payments.save_payment_method(
            buyer, number=SANDBOX_CARD, exp_month=12, exp_year=2099, cvc="123", session=session
        )


@dataclass
class DemoOrder:
    """One demo order's life, planned step by step at the moments it happened: placed and
    paid, shipped a day later, delivered two days after that, then returned, or completed
    when the return window closed (which releases its money)."""

    buyer: User
    seller: User
    variant_id: uuid.UUID
    status: str
    order_id: uuid.UUID | None = None
    return_id: uuid.UUID | None = None

    def plan(self, timeline: Timeline, *, placed_at: datetime) -> None:
        """Put this order's steps on `timeline`, as far as its status goes."""
        timeline.add(placed_at, self.place_and_pay)
        if self.status == "paid":
            return
        if self.status == "cancelled":
            timeline.add(placed_at + CANCELLED_AFTER, self.cancel)
            return
        shipped_at = placed_at + SHIPPED_AFTER
        timeline.add(shipped_at, self.ship)
        if self.status == "shipped":
            return
        delivered_at = shipped_at + DELIVERED_AFTER
        timeline.add(delivered_at, self.deliver)
        if self.status == "refunded":
            timeline.add(delivered_at + RETURN_ASKED_AFTER, self.ask_return)
            timeline.add(delivered_at + RETURN_REFUNDED_AFTER, self.refund_return)
        elif self.status == "completed":
            from clipcart.commerce.config import get_commerce_settings

            window = timedelta(days=get_commerce_settings().return_window_days)
            closed_at = delivered_at + window + timedelta(hours=1)
            # A return window configured longer than the order's age leaves it delivered.
            if closed_at <= timeline.now:
                timeline.add(closed_at, self.complete)

    async def place_and_pay(self) -> None:
        """Check out one unit with the saved card and pay."""
        from clipcart.commerce import checkout, payment
        from clipcart.commerce.schemas import CheckoutIn, CheckoutItemIn, QuoteIn
        from clipcart.core.db import unit_of_work
        from clipcart.payments import service as payments

        items = [CheckoutItemIn(variant_id=self.variant_id, quantity=1)]
        async with unit_of_work() as session:
            card = (await payments.list_payment_methods(self.buyer.id, session=session))[0].token
            quote = await checkout.quote_checkout(
                self.buyer, QuoteIn(items=items, payment_method=card), session=session
            )
            placed = await checkout.place_checkout(
                self.buyer,
                CheckoutIn(
                    items=items, payment_method=card, expected_total=quote.grand_total.amount
                ),
                session=session,
            )
        async with unit_of_work() as session:
            await payment.pay_checkout(
                self.buyer, placed.checkout_id, payment_method=card, session=session
            )
        self.order_id = placed.orders[0].id

    async def ship(self) -> None:
        """The seller ships it with a tracking number."""
        from clipcart.commerce import fulfilment, orders
        from clipcart.core.db import unit_of_work

        async with unit_of_work() as session:
            order = await orders.get_order(self._id(), session=session, lock=True)
            await fulfilment.ship_order(
                order,
                carrier="usps",
                tracking_number=f"9400{order.number[3:]}",
                actor=self.seller,
                session=session,
            )

    async def deliver(self) -> None:
        """The buyer confirms delivery: the return window opens."""
        from clipcart.commerce import fulfilment, orders
        from clipcart.core.db import unit_of_work

        async with unit_of_work() as session:
            order = await orders.get_order(self._id(), session=session, lock=True)
            await fulfilment.confirm_delivery(order, actor=self.buyer, session=session)

    async def complete(self) -> None:
        """The return window is over: the order completes and its money is released."""
        from clipcart.commerce import fulfilment
        from clipcart.core.db import unit_of_work

        async with unit_of_work() as session:
            await fulfilment.complete_order(self._id(), session=session)

    async def cancel(self) -> None:
        """The buyer cancels the paid order before it ships; the refund follows the commit."""
        from clipcart.commerce import cancelling, orders
        from clipcart.core.db import unit_of_work

        async with unit_of_work() as session:
            order = await orders.get_order(self._id(), session=session, lock=True)
            cancellation = await cancelling.cancel_order(
                order, actor=self.buyer, reason="Ordered the wrong size", session=session
            )
        await cancelling.finish_cancellation(cancellation)

    async def ask_return(self) -> None:
        """The buyer asks to send the whole order back and the seller approves."""
        from clipcart.commerce import orders, returns
        from clipcart.core.db import unit_of_work

        async with unit_of_work() as session:
            order = await orders.get_order(self._id(), session=session, lock=True)
            lines = await orders.list_order_lines(order.id, session=session)
            request = await returns.request_return(
                order,
                buyer=self.buyer,
                lines_in=[returns.ReturnLineIn(line.id, line.quantity) for line in lines],
                reason="not_as_described",
                details="The colour is darker than in the video.",
                session=session,
            )
            await returns.approve_return(request, order, actor=self.seller, session=session)
            self.return_id = request.id

    async def refund_return(self) -> None:
        """The parcel is back at the shop: received and refunded."""
        from clipcart.commerce import returns
        from clipcart.commerce.models import ReturnRequest
        from clipcart.core.db import unit_of_work

        if self.return_id is None:
            raise RuntimeError("the demo refunds a return before it was asked for")
        async with unit_of_work() as session:
            request = await session.get(ReturnRequest, self.return_id)
            if request is None:
                raise RuntimeError("the demo's return request is gone")
            await returns.receive_return(request, session=session)
        await returns.refund_return(self.return_id)

    def _id(self) -> uuid.UUID:
        if self.order_id is None:  # planned steps run in time order, placing first
            raise RuntimeError("a demo order step ran before the order was placed")
        return self.order_id
