"""Pricing rules: coupons, shipping, tax and allocation, by examples and by properties."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clipcart.commerce.pricing import (
    CouponRefused,
    CouponTerms,
    LineToPrice,
    ShippingTerms,
    TaxTerms,
    allocate,
    assign_coupons,
    check_combination,
    quote_order,
)

SHOP = uuid.UUID(int=1)
OTHER_SHOP = uuid.UUID(int=2)
NO_SHIPPING = ShippingTerms(flat_rate=0, free_threshold=None)
SALES_TAX = TaxTerms(rate_bp=725, included_in_price=False, name="Sales tax")
VAT = TaxTerms(rate_bp=2000, included_in_price=True, name="VAT")


def coupon(
    code: str = "SAVE10",
    *,
    shop_id: uuid.UUID | None = SHOP,
    kind: str = "percent",
    value: int = 1000,
    min_spend: int = 0,
    combinable: bool = True,
) -> CouponTerms:
    return CouponTerms(
        id=uuid.uuid4(),
        code=code,
        shop_id=shop_id,
        kind=kind,
        value=value,
        min_spend=min_spend,
        combinable=combinable,
    )


def lines(*pairs: tuple[int, int]) -> list[LineToPrice]:
    return [LineToPrice(f"l{i}", price, qty) for i, (price, qty) in enumerate(pairs)]


# --- examples ------------------------------------------------------------------------------


def test_plain_order_adds_flat_shipping_and_sales_tax() -> None:
    quote = quote_order(
        lines((2500, 2), (999, 1)),
        currency="USD",
        shipping=ShippingTerms(flat_rate=500, free_threshold=10000),
        coupons=[],
        tax=SALES_TAX,
    )
    assert quote.subtotal == 5999
    assert quote.shipping == 500
    # 7.25% of 5000 = 362.5 -> 363; of 999 = 72.43 -> 72
    assert [line.tax for line in quote.lines] == [363, 72]
    assert quote.tax == 435
    assert quote.total == 5999 + 500 + 435
    assert quote.lines[0].total == 5000 + 363


def test_shipping_is_free_from_the_threshold_after_discount() -> None:
    shipping = ShippingTerms(flat_rate=500, free_threshold=5000)
    at_threshold = quote_order(
        lines((5000, 1)), currency="USD", shipping=shipping, coupons=[], tax=None
    )
    assert at_threshold.shipping == 0
    # a 10% coupon takes the order below the threshold: shipping is charged again
    discounted = quote_order(
        lines((5000, 1)), currency="USD", shipping=shipping, coupons=[coupon()], tax=None
    )
    assert discounted.discount == 500
    assert discounted.shipping == 500
    assert discounted.total == 5000 - 500 + 500


def test_vat_included_is_shown_but_not_added() -> None:
    quote = quote_order(lines((1200, 1)), currency="EUR", shipping=NO_SHIPPING, coupons=[], tax=VAT)
    assert quote.tax == 200  # 1200 includes 20% VAT: 1000 + 200
    assert quote.total == 1200
    assert quote.lines[0].total == 1200


def test_percent_and_fixed_coupons_combine_and_are_capped_at_the_subtotal() -> None:
    shop_coupon = coupon("TEN", value=1000)
    platform = coupon("BIG", shop_id=None, kind="fixed", value=10_000)
    quote = quote_order(
        lines((3000, 1)),
        currency="USD",
        shipping=NO_SHIPPING,
        coupons=[platform, shop_coupon],
        tax=None,
    )
    assert dict(quote.coupon_amounts) == {shop_coupon.id: 300, platform.id: 2700}
    assert quote.discount == 3000
    assert quote.total == 0


def test_discount_is_allocated_to_lines_by_their_subtotals() -> None:
    quote = quote_order(
        lines((1000, 1), (2000, 1), (1, 1)),
        currency="USD",
        shipping=NO_SHIPPING,
        coupons=[coupon(kind="fixed", value=1000)],
        tax=SALES_TAX,
    )
    assert [line.discount for line in quote.lines] == [333, 667, 0]
    assert sum(line.discount for line in quote.lines) == quote.discount == 1000
    # tax on what is left of each line: 7.25% of 667 = 48.36 -> 48; of 1333 = 96.64 -> 97
    assert [line.tax for line in quote.lines] == [48, 97, 0]


def test_min_spend_is_refused_with_a_sentence_naming_the_amount_and_code() -> None:
    with pytest.raises(CouponRefused) as refused:
        quote_order(
            lines((1500, 1)),
            currency="USD",
            shipping=NO_SHIPPING,
            coupons=[coupon(min_spend=2000)],
            tax=None,
        )
    assert refused.value.code == "SAVE10"
    assert refused.value.reason == "Spend at least $20.00 to use SAVE10."


def test_min_spend_compares_with_the_subtotal_before_discounts() -> None:
    quote = quote_order(
        lines((2000, 1)),
        currency="USD",
        shipping=NO_SHIPPING,
        coupons=[coupon("A", value=5000), coupon("B", shop_id=None, min_spend=2000)],
        tax=None,
    )
    assert quote.discount == 1000 + 200


def test_two_shop_coupons_are_refused() -> None:
    with pytest.raises(CouponRefused, match="Only one shop coupon"):
        check_combination([coupon("A"), coupon("B")])


def test_two_platform_coupons_are_refused() -> None:
    with pytest.raises(CouponRefused, match="Only one ClipCart coupon"):
        check_combination([coupon("A", shop_id=None), coupon("B", shop_id=None)])


def test_a_non_combinable_coupon_is_refused_next_to_another() -> None:
    with pytest.raises(CouponRefused) as refused:
        check_combination([coupon("SOLO", combinable=False), coupon("ALL", shop_id=None)])
    assert refused.value.code == "SOLO"
    assert "cannot be combined" in refused.value.reason
    check_combination([coupon("SOLO", combinable=False)])  # alone it is fine


def test_allocate_examples() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [0, 5, 5]) == [0, 5, 5]
    assert allocate(-7, [1, 1]) == [-4, -3]
    assert allocate(0, []) == []
    assert allocate(3, [0, 0]) == [2, 1]


def test_assign_coupons_puts_a_platform_coupon_on_the_largest_order_reaching_min_spend() -> None:
    shop_coupon = coupon("SHOP", shop_id=OTHER_SHOP)
    platform = coupon("ALL", shop_id=None, min_spend=3000)
    assigned = assign_coupons([shop_coupon, platform], {SHOP: 5000, OTHER_SHOP: 3000})
    assert assigned == {SHOP: [platform], OTHER_SHOP: [shop_coupon]}
    with pytest.raises(CouponRefused, match="not in this order"):
        assign_coupons([coupon("ELSE", shop_id=uuid.UUID(int=9))], {SHOP: 100})


def test_nothing_to_price_costs_nothing() -> None:
    quote = quote_order(
        [], currency="USD", shipping=ShippingTerms(500, None), coupons=[], tax=SALES_TAX
    )
    assert (quote.subtotal, quote.shipping, quote.total) == (0, 0, 0)


# --- properties ----------------------------------------------------------------------------

line_lists = st.lists(
    st.tuples(st.integers(0, 1_000_000), st.integers(1, 50)), min_size=1, max_size=8
)
coupon_terms = st.builds(
    lambda kind, value, min_spend, shop: coupon(
        "X", shop_id=shop, kind=kind, value=value, min_spend=min_spend
    ),
    st.sampled_from(["percent", "fixed"]),
    st.integers(1, 10_000),
    st.integers(0, 50_000),
    st.sampled_from([SHOP, None]),
)
taxes = st.one_of(
    st.none(),
    st.builds(TaxTerms, st.integers(0, 10_000), st.booleans(), st.just("Tax")),
)
shippings = st.builds(
    ShippingTerms, st.integers(0, 5000), st.one_of(st.none(), st.integers(0, 100_000))
)


@given(line_lists, st.lists(coupon_terms, max_size=2), taxes, shippings)
def test_quote_totals_add_up_and_nothing_is_negative(
    pairs: list[tuple[int, int]],
    coupons: list[CouponTerms],
    tax: TaxTerms | None,
    shipping: ShippingTerms,
) -> None:
    try:
        quote = quote_order(
            lines(*pairs), currency="USD", shipping=shipping, coupons=coupons, tax=tax
        )
    except CouponRefused as refused:
        assert refused.reason
        return
    assert 0 <= quote.discount <= quote.subtotal
    assert quote.subtotal == sum(price * qty for price, qty in pairs)
    assert sum(line.discount for line in quote.lines) == quote.discount
    assert sum(amount for _, amount in quote.coupon_amounts) == quote.discount
    assert sum(line.tax for line in quote.lines) == quote.tax
    added_tax = 0 if tax is None or tax.included_in_price else quote.tax
    assert quote.total == quote.subtotal - quote.discount + quote.shipping + added_tax
    assert quote.total == sum(line.total for line in quote.lines) + quote.shipping
    for line in quote.lines:
        assert 0 <= line.discount <= line.subtotal
        assert line.tax >= 0 and line.total >= 0
        if tax is not None and tax.included_in_price:
            assert line.tax <= line.subtotal - line.discount
    free = shipping.free_threshold is not None and (
        quote.subtotal - quote.discount >= shipping.free_threshold
    )
    assert quote.shipping == (0 if free else shipping.flat_rate)


@given(st.integers(-(10**9), 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=20))
def test_allocation_sums_exactly_and_stays_proportional(amount: int, weights: list[int]) -> None:
    parts = allocate(amount, weights)
    assert sum(parts) == amount
    assert len(parts) == len(weights)
    total = sum(weights)
    if total:
        for part, weight in zip(parts, weights, strict=True):
            exact = amount * weight / total
            assert abs(part - exact) < 1 + 1e-6
            if weight == 0:
                assert part == 0


@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=10), st.data())
def test_allocating_at_most_the_total_never_exceeds_a_weight(
    weights: list[int], data: st.DataObject
) -> None:
    amount = data.draw(st.integers(0, sum(weights)))
    for part, weight in zip(allocate(amount, weights), weights, strict=True):
        assert 0 <= part <= weight
