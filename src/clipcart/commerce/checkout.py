"""Checkout: quote the buyer's items (quoting.py), then place one order per shop in one
transaction: re-priced on the server, stock reserved, deal units claimed, coupons redeemed,
one payment intent per order. Paying is in payment.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.affiliate import service as affiliate
from clipcart.commerce import (
    attribution,
    buyables,
    cart,
    coupons,
    domain,
    flash_deals,
    orders,
    pricing,
    quoting,
    reservations,
)
from clipcart.commerce.config import get_commerce_settings
from clipcart.commerce.models import Order, OrderLine
from clipcart.commerce.quoting import (
    MISSING_ADDRESS,
    CheckoutPlan,
    PlannedLine,
    ShopPlan,
    plan_checkout,
    quote_out,
)
from clipcart.commerce.schemas import CheckoutIn, CheckoutOut, QuoteIn, QuoteOut
from clipcart.core import clock, idempotency
from clipcart.core.errors import Conflict, ValidationFailed
from clipcart.core.ids import new_id
from clipcart.core.money import Money
from clipcart.payments import service as payments
from clipcart.shops.schemas import MoneyOut

__all__ = ["CheckoutPlan", "plan_checkout", "quote_out"]


def _money(amount: int, currency: str) -> MoneyOut:
    return MoneyOut.of(Money(amount, currency))


# Built once: a flash sale answers thousands of these a second, and building the statement
# costs about as much as running it.
_STOCK_UNLESS_KEY_USED = buyables.stock_levels_query().add_columns(idempotency.key_used())


async def refuse_sold_out(
    owner_id: uuid.UUID, key: str, data: QuoteIn, *, session: AsyncSession
) -> None:
    """409 sold_out, from one read and before any write or lock, when an item asked for is
    out of stock (the flash-sale path: most buyers arrive after the last unit went), unless
    this Idempotency-Key was used before: its stored answer must then be given instead."""
    wanted = quoting.wanted_lines(data) or []
    if not wanted:
        return
    parameters = {
        "variant_ids": [line.variant_id for line in wanted],
        "owner_id": owner_id,
        "key": key,
    }
    rows = (await session.execute(_STOCK_UNLESS_KEY_USED, parameters)).all()
    if not rows or rows[0][3]:
        return
    stock = {variant_id: (level, title) for variant_id, level, title, _ in rows}
    for line in wanted:
        level = stock.get(line.variant_id)
        if level is not None and level[0] < line.quantity:
            raise reservations.sold_out(level[1], variant_id=line.variant_id, left=level[0])


async def quote_checkout(user: User, data: QuoteIn, *, session: AsyncSession) -> QuoteOut:
    """POST /checkout/quote: per-shop totals, the grand total and what is still missing."""
    plan = await plan_checkout(user, data, session=session)
    product_ids = {line.buyable.product.id for shop in plan.shops for line in shop.lines}
    return quote_out(plan, await buyables.first_images(product_ids, session=session))


def _new_order(
    plan: CheckoutPlan, shop_plan: ShopPlan, *, buyer_id: uuid.UUID, checkout_id: uuid.UUID
) -> Order:
    quote = shop_plan.quote
    minutes = get_commerce_settings().reservation_minutes
    now = clock.now()
    assert plan.ship_to is not None
    return Order(
        id=new_id(),
        number=domain.new_order_number(),
        checkout_id=checkout_id,
        buyer_id=buyer_id,
        shop_id=shop_plan.shop.id,
        status=domain.PENDING_PAYMENT,
        currency=plan.currency,
        subtotal=quote.subtotal,
        shipping=quote.shipping,
        discount=quote.discount,
        tax=quote.tax,
        total=quote.total,
        refunded=0,
        ship_to=plan.ship_to,
        reservation_expires_at=now + timedelta(minutes=minutes),
        created_at=now,
        updated_at=now,
    )


async def _new_line(
    order: Order, line: PlannedLine, priced: pricing.PricedLine, session: AsyncSession
) -> OrderLine:
    source = await attribution.attribute(
        order.buyer_id, line.buyable.product.id, line.wanted.source, session=session
    )
    return OrderLine(
        id=new_id(),
        order_id=order.id,
        variant_id=line.wanted.variant_id,
        product_id=line.buyable.product.id,
        title=line.buyable.title[:255],
        variant_title=line.buyable.variant_title[:255],
        sku=line.buyable.variant.sku,
        unit_price=priced.unit_price,
        quantity=priced.quantity,
        discount=priced.discount,
        tax=priced.tax,
        total=priced.total,
        refunded=0,
        flash_deal_id=line.deal.id if line.deal else None,
        source_kind=source.kind,
        source_video_id=source.video_id,
        source_live_id=source.live_id,
        source_creator_id=source.creator_id,
        source_event_id=source.event_id,
        source_at=source.at,
    )


async def place_checkout(user: User, data: CheckoutIn, *, session: AsyncSession) -> CheckoutOut:
    """Place one order per shop (409 prices_changed with the new quote when the total the
    buyer saw differs; 409 sold_out naming the product, nothing kept)."""
    plan = await plan_checkout(user, data, session=session)
    if MISSING_ADDRESS in plan.missing:
        raise ValidationFailed.field("address", "Add a shipping address to place the order.")
    if plan.grand_total != data.expected_total:
        shown = quote_out(plan)
        raise Conflict(
            f"Prices changed since you looked: the total is now {shown.grand_total.formatted}. "
            "Check the new total and place the order again.",
            code="prices_changed",
            data={"quote": shown.model_dump(mode="json")},
        )
    checkout_id = new_id()
    token = plan.payment_method.token if plan.payment_method else None
    placed: list[tuple[Order, ShopPlan, list[OrderLine]]] = []
    for shop_plan in plan.shops:
        order = _new_order(plan, shop_plan, buyer_id=user.id, checkout_id=checkout_id)
        lines = [
            await _new_line(order, line, priced, session)
            for line, priced in zip(shop_plan.lines, shop_plan.quote.lines, strict=True)
        ]
        commission = await _record_commissions(order, lines, session)
        if order.total > 0:
            order.payment_intent_id = await _new_payment(order, token, user, commission, session)
        session.add(order)
        placed.append((order, shop_plan, lines))
    await session.flush()
    for order, _, lines in placed:
        session.add_all(lines)
        session.add(orders.placed_event(order, actor_id=user.id))
    await session.flush()
    variants = {
        line.buyable.variant.id: line.buyable.variant
        for shop_plan in plan.shops
        for line in shop_plan.lines
    }
    await cart.remove_bought(user.id, variants.keys(), session=session)
    # The contended rows come last, so their locks are held for the shortest time, and each
    # kind in id order (coupons, then deals, then variants) so checkouts cannot deadlock.
    uses = sorted(
        (coupon_id, order.id, amount)
        for order, shop_plan, _ in placed
        for coupon_id, amount in shop_plan.quote.coupon_amounts
    )
    for coupon_id, order_id, amount in uses:
        await coupons.redeem_coupon(
            coupon_id, buyer_id=user.id, order_id=order_id, amount=amount, session=session
        )
    claims = sorted(
        (line.flash_deal_id, order.id, line.quantity)
        for order, _, lines in placed
        for line in lines
        if line.flash_deal_id is not None
    )
    for deal_id, order_id, quantity in claims:
        await flash_deals.claim_deal_units(
            deal_id,
            buyer_id=user.id,
            quantity=quantity,
            session=session,
            exclude_order_id=order_id,
        )
    await reservations.reserve_lines(
        [(order, line) for order, _, lines in placed for line in lines],
        session=session,
        variants=variants,
    )
    for order, _, _ in placed:
        if order.total <= 0:
            # Fully discounted: nothing to charge, the order is paid as placed.
            await orders.record_transition(
                order, domain.PAID, actor_id=user.id, note="Nothing to pay", session=session
            )
            await reservations.commit_reservations(order.id, session=session)
    total = sum(order.total for order, _, _ in placed)
    return CheckoutOut(
        checkout_id=checkout_id,
        orders=[
            orders.summary_out(order, shop_plan.shop, lines) for order, shop_plan, lines in placed
        ],
        total=_money(total, plan.currency),
    )


async def _record_commissions(order: Order, lines: list[OrderLine], session: AsyncSession) -> int:
    """The creators' commissions on the order's lines (affiliate program); their total."""
    if order.total <= 0 or not any(line.source_creator_id for line in lines):
        return 0  # nothing charged, nothing to share
    sale = affiliate.Sale(
        order_id=order.id,
        order_ref=domain.order_ref(order.id),
        order_number=order.number,
        shop_id=order.shop_id,
        buyer_id=order.buyer_id,
        currency=order.currency,
    )
    sale_lines = [
        affiliate.SaleLine(
            order_line_id=line.id,
            product_id=line.product_id,
            title=line.title,
            total=line.total,
            tax=line.tax,
            source_kind=line.source_kind,
            creator_id=line.source_creator_id,
            video_id=line.source_video_id,
            event_id=line.source_event_id,
            source_at=line.source_at,
        )
        for line in lines
    ]
    return await affiliate.record_commissions(sale, sale_lines, session=session)


async def _new_payment(
    order: Order, token: str | None, user: User, commission: int, session: AsyncSession
) -> uuid.UUID:
    intent = await payments.create_payment_intent(
        domain.order_ref(order.id),
        Money(order.total, order.currency),
        token,
        idempotency_key=domain.order_ref(order.id),
        user_id=user.id,
        shop_id=order.shop_id,
        # Several creators may share it: the ledger splits it by the shares planned per line.
        commission=Money(commission, order.currency) if commission else None,
        fresh=True,  # a new order's key; the method is the plan's, read from the user's cards
        session=session,
    )
    return intent.id
