"""Pricing a checkout: what the buyer wants (given items or the cart), checked against stock
and per-buyer limits, grouped per shop and priced with shipping, coupons and tax; and what
the buyer still has to give (address, payment method).

A platform coupon applies to one order of the checkout: the shop's order with the largest
subtotal (so it is redeemed once); a shop coupon to that shop's order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.commerce import (
    address_book,
    buyables,
    cart,
    coupons,
    domain,
    pricing,
    reservations,
    tax_rates,
)
from clipcart.commerce.promotion_models import Coupon, FlashDeal
from clipcart.commerce.schemas import (
    CouponUseOut,
    PaymentMethodRefOut,
    QuoteIn,
    QuoteLineOut,
    QuoteOut,
    ShopQuoteOut,
)
from clipcart.core.errors import ValidationFailed
from clipcart.core.money import Money
from clipcart.payments import service as payments
from clipcart.payments.models import PaymentMethod
from clipcart.shops.models import Shop
from clipcart.shops.schemas import MoneyOut

MISSING_ADDRESS = "address"
MISSING_PAYMENT_METHOD = "payment_method"


@dataclass
class WantedLine:
    """A variant the buyer wants, how many, and where they came from."""

    variant_id: uuid.UUID
    quantity: int
    source: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlannedLine:
    wanted: WantedLine
    buyable: buyables.Buyable
    deal: FlashDeal | None
    unit_price: int


@dataclass
class ShopPlan:
    """One shop's future order, priced."""

    shop: Shop
    lines: list[PlannedLine]
    coupons: list[Coupon]
    quote: pricing.OrderQuote


@dataclass
class CheckoutPlan:
    """Everything a checkout would place, priced on the server."""

    shops: list[ShopPlan]
    currency: str
    grand_total: int
    ship_to: dict[str, str] | None
    tax: pricing.TaxTerms | None
    payment_method: PaymentMethod | None
    missing: list[str]


def wanted_lines(data: QuoteIn) -> list[WantedLine] | None:
    """The items asked for, one line per variant (None: check out the cart)."""
    if data.items is None:
        return None
    merged: dict[uuid.UUID, WantedLine] = {}
    for item in data.items:
        line = merged.get(item.variant_id)
        if line is None:
            source = item.source.as_dict() if item.source else {}
            merged[item.variant_id] = WantedLine(item.variant_id, item.quantity, source)
        else:
            line.quantity += item.quantity
    return list(merged.values())


async def _ship_to(user: User, data: QuoteIn, session: AsyncSession) -> dict[str, str] | None:
    if data.address is not None:
        return address_book.address_snapshot(address_book.validate_inline(data.address))
    if data.address_id is not None:
        saved = await address_book.get_address_for(user, data.address_id, session=session)
        return address_book.address_snapshot(saved)
    default = await address_book.default_address(user.id, session=session)
    return address_book.address_snapshot(default) if default is not None else None


async def _payment_method(
    user: User, token: str | None, session: AsyncSession
) -> PaymentMethod | None:
    methods = await payments.list_payment_methods(user.id, session=session)
    if token is None:
        return methods[0] if methods else None
    for method in methods:
        if method.token == token:
            return method
    raise ValidationFailed.field("payment_method", "Use one of your saved payment methods.")


def _check_lines(
    wanted: Sequence[WantedLine],
    known: dict[uuid.UUID, buyables.Buyable],
    bought: dict[uuid.UUID, int],
) -> None:
    per_product: dict[uuid.UUID, int] = {}
    for line in wanted:
        buyable = known.get(line.variant_id)
        if buyable is None or not buyable.on_sale:
            what = buyable.title if buyable else "One of these products"
            raise ValidationFailed.field(
                "items", f"{what} is not for sale any more.", code="not_for_sale"
            )
        if buyable.variant.stock < line.quantity:
            # Answered before any lock is taken: a sold-out SKU must answer fast.
            raise reservations.sold_out(
                buyable.title, variant_id=buyable.variant.id, left=buyable.variant.stock
            )
        per_product[buyable.product.id] = per_product.get(buyable.product.id, 0) + line.quantity
    for line in wanted:
        buyable = known[line.variant_id]
        limit = buyable.product.max_per_buyer
        already = bought.get(buyable.product.id, 0)
        if limit is not None and per_product[buyable.product.id] + already > limit:
            message = domain.quantity_limit_message(
                title=buyable.title,
                stock=buyable.variant.stock,
                max_per_buyer=limit,
                bought_before=already,
            )
            raise ValidationFailed(
                message,
                code="quantity_unavailable",
                data={
                    "errors": [{"field": "quantity", "message": message}],
                    "variant_id": str(buyable.variant.id),
                    "available": max(0, limit - already),
                },
            )


def _assign_coupons(
    found: Sequence[Coupon], groups: dict[uuid.UUID, list[PlannedLine]]
) -> dict[uuid.UUID, list[Coupon]]:
    assigned: dict[uuid.UUID, list[Coupon]] = {shop_id: [] for shop_id in groups}
    subtotals = {
        shop_id: sum(line.unit_price * line.wanted.quantity for line in lines)
        for shop_id, lines in groups.items()
    }
    for coupon in found:
        if coupon.shop_id is not None:
            if coupon.shop_id in assigned:
                assigned[coupon.shop_id].append(coupon)
        else:
            largest = max(subtotals, key=lambda shop_id: (subtotals[shop_id], str(shop_id)))
            assigned[largest].append(coupon)
    return assigned


async def plan_checkout(user: User, data: QuoteIn, *, session: AsyncSession) -> CheckoutPlan:
    """Price what the buyer would buy, per shop (422/409 for what cannot be bought)."""
    wanted = wanted_lines(data)
    if wanted is None:
        wanted = [
            WantedLine(variant_id, quantity, source)
            for variant_id, quantity, source in await cart.checkout_items(user.id, session=session)
        ]
    if not wanted:
        raise ValidationFailed.field("items", "Your cart is empty: add something first.")
    known, deals = await buyables.load_buyables_and_deals(
        [line.variant_id for line in wanted], session=session
    )
    limited = {b.product.id for b in known.values() if b.product.max_per_buyer is not None}
    bought = await buyables.bought_before(user.id, limited, session=session)
    _check_lines(wanted, known, bought)
    currencies = {known[line.variant_id].product.currency for line in wanted}
    if len(currencies) != 1:
        raise ValidationFailed.field(
            "items", "Check out products priced in one currency at a time."
        )
    currency = currencies.pop()
    groups: dict[uuid.UUID, list[PlannedLine]] = {}
    shops: dict[uuid.UUID, Shop] = {}
    for line in wanted:
        buyable = known[line.variant_id]
        deal = deals.get(line.variant_id)
        shops[buyable.shop.id] = buyable.shop
        groups.setdefault(buyable.shop.id, []).append(
            PlannedLine(line, buyable, deal, buyables.unit_price(buyable, deal))
        )
    ship_to = await _ship_to(user, data, session)
    tax = None
    if ship_to is not None:
        tax = await tax_rates.tax_terms_for(ship_to["country"], ship_to["region"], session=session)
    found: list[Coupon] = []
    if data.coupon_codes:
        found = await coupons.find_coupons(
            data.coupon_codes,
            buyer_id=user.id,
            currency=currency,
            session=session,
            shop_ids=set(groups),
        )
    assigned = _assign_coupons(found, groups)
    plans: list[ShopPlan] = []
    for shop_id, lines in groups.items():
        shop = shops[shop_id]
        try:
            quote = pricing.quote_order(
                [
                    pricing.LineToPrice(
                        str(line.wanted.variant_id), line.unit_price, line.wanted.quantity
                    )
                    for line in lines
                ],
                currency=currency,
                shipping=pricing.ShippingTerms(
                    shop.shipping_flat_rate, shop.free_shipping_threshold
                ),
                coupons=[coupons.coupon_terms(coupon) for coupon in assigned[shop_id]],
                tax=tax,
            )
        except pricing.CouponRefused as refused:
            raise ValidationFailed.field(
                "coupon_codes", refused.reason, code="coupon_refused"
            ) from refused
        plans.append(ShopPlan(shop=shop, lines=lines, coupons=assigned[shop_id], quote=quote))
    method = await _payment_method(user, data.payment_method, session)
    missing = []
    if ship_to is None:
        missing.append(MISSING_ADDRESS)
    if method is None:
        missing.append(MISSING_PAYMENT_METHOD)
    return CheckoutPlan(
        shops=plans,
        currency=currency,
        grand_total=sum(plan.quote.total for plan in plans),
        ship_to=ship_to,
        tax=tax,
        payment_method=method,
        missing=missing,
    )


def _money(amount: int, currency: str) -> MoneyOut:
    return MoneyOut.of(Money(amount, currency))


def quote_out(plan: CheckoutPlan, images: dict[uuid.UUID, str] | None = None) -> QuoteOut:
    """The plan as the buyer sees it before paying."""
    currency = plan.currency
    shop_outs = []
    for shop_plan in plan.shops:
        quote = shop_plan.quote
        codes = {coupon.id: coupon.code for coupon in shop_plan.coupons}
        lines = [
            QuoteLineOut(
                variant_id=line.wanted.variant_id,
                product_id=line.buyable.product.id,
                title=line.buyable.title,
                variant_title=line.buyable.variant_title,
                image_url=(images or {}).get(line.buyable.product.id),
                unit_price=_money(priced.unit_price, currency),
                regular_price=_money(line.buyable.variant.price, currency),
                flash_deal_id=line.deal.id if line.deal else None,
                quantity=priced.quantity,
                subtotal=_money(priced.subtotal, currency),
                discount=_money(priced.discount, currency),
                tax=_money(priced.tax, currency),
                total=_money(priced.total, currency),
            )
            for line, priced in zip(shop_plan.lines, quote.lines, strict=True)
        ]
        shop_outs.append(
            ShopQuoteOut(
                shop=buyables.shop_ref(shop_plan.shop),
                currency=currency,
                lines=lines,
                subtotal=_money(quote.subtotal, currency),
                shipping=_money(quote.shipping, currency),
                discount=_money(quote.discount, currency),
                tax=_money(quote.tax, currency),
                tax_name=plan.tax.name if plan.tax else None,
                tax_included=bool(plan.tax and plan.tax.included_in_price),
                total=_money(quote.total, currency),
                coupons=[
                    CouponUseOut(code=codes[coupon_id], amount=_money(amount, currency))
                    for coupon_id, amount in quote.coupon_amounts
                ],
            )
        )
    method = plan.payment_method
    return QuoteOut(
        shops=shop_outs,
        currency=currency,
        grand_total=_money(plan.grand_total, currency),
        missing=plan.missing,
        ship_to=plan.ship_to,
        payment_method=PaymentMethodRefOut(
            token=method.token, brand=method.brand, last4=method.last4
        )
        if method
        else None,
    )
