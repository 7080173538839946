"""Pure pricing rules: line subtotals, coupons, shipping and tax for one shop's order.

Amounts are integer minor units of the order's currency. Decisions worth knowing:
- coupon discounts are capped so the order's discount never exceeds its subtotal, and are
  allocated to the lines in proportion to their subtotals (largest remainder), so every line
  knows its own discount (refunds are per line);
- shipping is free when subtotal - discount reaches the shop's threshold;
- tax is computed per line on (line subtotal - line discount), rounded half-up; shipping is not
  taxed (the starter table is for goods; a shop's flat shipping rate is quoted as is);
- a VAT-style rate (`included_in_price`) is extracted from the price (rate / (1 + rate)): it is
  shown but not added; a sales tax is added on top;
- a line's total is subtotal - discount + (tax unless included), and the order's total is the
  sum of line totals plus shipping.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from clipcart.core.money import Money

PERCENT = "percent"
FIXED = "fixed"
COUPON_KINDS = (PERCENT, FIXED)
BASIS_POINTS = 10_000


@dataclass(frozen=True)
class LineToPrice:
    """A line to price: `unit_price` is already the flash-deal price when one applies."""

    key: str
    unit_price: int
    quantity: int


@dataclass(frozen=True)
class ShippingTerms:
    """A shop's flat shipping rate, free from `free_threshold` (None: never free)."""

    flat_rate: int
    free_threshold: int | None


@dataclass(frozen=True)
class CouponTerms:
    """What pricing needs to know of a coupon (`shop_id` None: a platform coupon)."""

    id: uuid.UUID
    code: str
    shop_id: uuid.UUID | None
    kind: str
    value: int
    min_spend: int
    combinable: bool


@dataclass(frozen=True)
class TaxTerms:
    """The tax rate that applies to the ship-to address."""

    rate_bp: int
    included_in_price: bool
    name: str


@dataclass(frozen=True)
class PricedLine:
    """A priced line: subtotal = unit_price * quantity; total = subtotal - discount (+ tax)."""

    key: str
    unit_price: int
    quantity: int
    subtotal: int
    discount: int
    tax: int
    total: int


@dataclass(frozen=True)
class OrderQuote:
    """One shop's order priced: totals, lines, and how much each coupon took off."""

    currency: str
    lines: tuple[PricedLine, ...]
    subtotal: int
    shipping: int
    discount: int
    tax: int
    total: int
    coupon_amounts: tuple[tuple[uuid.UUID, int], ...]


class CouponRefused(Exception):
    """A coupon that cannot be used on this order; `reason` is a sentence for the buyer."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(reason)


def format_amount(amount: int, currency: str) -> str:
    """An amount as a buyer reads it ("$20.00")."""
    return Money(amount, currency).format()


def round_half_up(value: Fraction) -> int:
    """A non-negative exact value rounded half-up to an integer."""
    return math.floor(value + Fraction(1, 2))


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split `amount` in proportion to `weights` (largest remainder); the parts sum to it."""
    if not weights:
        if amount:
            raise ValueError("cannot allocate an amount over no weights")
        return []
    if any(weight < 0 for weight in weights):
        raise ValueError("weights must be non-negative")
    total = sum(weights)
    if total == 0:
        # nothing to weigh by: split evenly, earlier parts taking the remainder
        weights = [1] * len(weights)
        total = len(weights)
    negative = amount < 0
    magnitude = -amount if negative else amount
    shares = [magnitude * weight // total for weight in weights]
    remainder = magnitude - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-((magnitude * weights[i]) % total), i))
    for index in order[:remainder]:
        shares[index] += 1
    return [-share for share in shares] if negative else shares


def check_combination(coupons: Sequence[CouponTerms]) -> None:
    """Refuse more than one shop coupon, more than one platform coupon, or a pair where
    either is not combinable."""
    shop_coupons = [coupon for coupon in coupons if coupon.shop_id is not None]
    platform_coupons = [coupon for coupon in coupons if coupon.shop_id is None]
    if len(shop_coupons) > 1:
        extra = shop_coupons[1]
        raise CouponRefused(
            extra.code,
            f"Only one shop coupon can be used per order: remove {extra.code} "
            f"or {shop_coupons[0].code}.",
        )
    if len(platform_coupons) > 1:
        extra = platform_coupons[1]
        raise CouponRefused(
            extra.code,
            f"Only one ClipCart coupon can be used per order: remove {extra.code} "
            f"or {platform_coupons[0].code}.",
        )
    if shop_coupons and platform_coupons:
        for coupon in (*shop_coupons, *platform_coupons):
            if not coupon.combinable:
                other = platform_coupons[0] if coupon.shop_id is not None else shop_coupons[0]
                raise CouponRefused(
                    coupon.code,
                    f"{coupon.code} cannot be combined with another coupon: "
                    f"remove {coupon.code} or {other.code}.",
                )


def coupon_amount(coupon: CouponTerms, subtotal: int) -> int:
    """What the coupon takes off a subtotal before capping (percent rounded half-up)."""
    if coupon.kind == PERCENT:
        return round_half_up(Fraction(subtotal * coupon.value, BASIS_POINTS))
    if coupon.kind == FIXED:
        return coupon.value
    raise ValueError(f"unknown coupon kind {coupon.kind!r}")


def tax_on(amount: int, tax: TaxTerms) -> int:
    """The tax on an amount: added on top, or the part of it that is VAT when included."""
    if amount <= 0 or tax.rate_bp <= 0:
        return 0
    if tax.included_in_price:
        return round_half_up(Fraction(amount * tax.rate_bp, BASIS_POINTS + tax.rate_bp))
    return round_half_up(Fraction(amount * tax.rate_bp, BASIS_POINTS))


def _validate_lines(lines: Sequence[LineToPrice]) -> None:
    for line in lines:
        if line.quantity <= 0:
            raise ValueError(f"line {line.key!r}: quantity must be positive")
        if line.unit_price < 0:
            raise ValueError(f"line {line.key!r}: unit price must not be negative")


def quote_order(
    lines: Sequence[LineToPrice],
    *,
    currency: str,
    shipping: ShippingTerms,
    coupons: Sequence[CouponTerms],
    tax: TaxTerms | None,
) -> OrderQuote:
    """Price one shop's order; raises CouponRefused for a coupon that cannot be used."""
    _validate_lines(lines)
    check_combination(coupons)
    subtotals = [line.unit_price * line.quantity for line in lines]
    subtotal = sum(subtotals)

    # Shop coupons apply first, then the platform's on what is left.
    ordered = sorted(coupons, key=lambda coupon: coupon.shop_id is None)
    coupon_amounts: list[tuple[uuid.UUID, int]] = []
    discount = 0
    for coupon in ordered:
        if subtotal < coupon.min_spend:
            raise CouponRefused(
                coupon.code,
                f"Spend at least {format_amount(coupon.min_spend, currency)} to use {coupon.code}.",
            )
        amount = min(coupon_amount(coupon, subtotal), subtotal - discount)
        coupon_amounts.append((coupon.id, amount))
        discount += amount

    line_discounts = allocate(discount, subtotals) if lines else []
    priced: list[PricedLine] = []
    for line, line_subtotal, line_discount in zip(lines, subtotals, line_discounts, strict=True):
        line_tax = tax_on(line_subtotal - line_discount, tax) if tax else 0
        added_tax = 0 if tax is None or tax.included_in_price else line_tax
        priced.append(
            PricedLine(
                key=line.key,
                unit_price=line.unit_price,
                quantity=line.quantity,
                subtotal=line_subtotal,
                discount=line_discount,
                tax=line_tax,
                total=line_subtotal - line_discount + added_tax,
            )
        )

    free = shipping.free_threshold is not None and subtotal - discount >= shipping.free_threshold
    shipping_amount = 0 if not lines or free else max(shipping.flat_rate, 0)
    tax_total = sum(line.tax for line in priced)
    total = sum(line.total for line in priced) + shipping_amount
    return OrderQuote(
        currency=currency,
        lines=tuple(priced),
        subtotal=subtotal,
        shipping=shipping_amount,
        discount=discount,
        tax=tax_total,
        total=total,
        coupon_amounts=tuple(coupon_amounts),
    )


def assign_coupons(
    coupons: Sequence[CouponTerms], subtotals: Mapping[uuid.UUID, int]
) -> dict[uuid.UUID, list[CouponTerms]]:
    """Which shop order each coupon applies to in a multi-shop checkout (`subtotals` by shop
    id): a shop coupon to its shop; a platform coupon to the largest order that reaches its
    minimum spend (else the largest, whose quote then refuses it)."""
    assigned: dict[uuid.UUID, list[CouponTerms]] = {shop_id: [] for shop_id in subtotals}
    for coupon in coupons:
        if coupon.shop_id is not None:
            if coupon.shop_id not in assigned:
                raise CouponRefused(
                    coupon.code,
                    f"{coupon.code} is a coupon of a shop that is not in this order.",
                )
            assigned[coupon.shop_id].append(coupon)
    ranked = sorted(subtotals, key=lambda shop_id: -subtotals[shop_id])
    for coupon in coupons:
        if coupon.shop_id is None and ranked:
            reaching = [shop_id for shop_id in ranked if subtotals[shop_id] >= coupon.min_spend]
            assigned[(reaching or ranked)[0]].append(coupon)
    return assigned
