"""Coupons: the seller's and admin's management API, and the rules when a buyer uses one
(expired, not started, other currency, wrong shop, used up, per buyer, min spend,
combination), redemption and release."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clipcart.accounts import service as accounts
from clipcart.commerce import coupons, domain, tax_rates
from clipcart.commerce.models import Order
from clipcart.commerce.pricing import (
    CouponRefused,
    LineToPrice,
    ShippingTerms,
    quote_order,
)
from clipcart.commerce.promotion_models import Coupon
from clipcart.core import clock
from clipcart.core.clock import FrozenClock
from clipcart.core.db import unit_of_work
from clipcart.core.errors import Conflict, ValidationFailed
from clipcart.shops import service as shops
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup
from tests.commerce_factories import (
    BuyerMaker,
    Seller,
    SellerMaker,
    buyer,
    commerce_sandbox,
    items_body,
    place_and_pay,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "seller"]

START = datetime(2026, 8, 1, 12, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    with clock.frozen_at(START) as moved:
        yield moved


async def make_coupon(shop: Seller, **fields: Any) -> dict[str, Any]:
    body = {"code": "save10", "kind": "percent", "value": 1000, **fields}
    for key in ("starts_at", "ends_at"):
        if isinstance(body.get(key), datetime):
            body[key] = body[key].isoformat()
    response = await shop.client.post(f"{API}/shops/{shop.shop_handle}/coupons", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def a_user(handle: str) -> uuid.UUID:
    async with unit_of_work() as session:
        from clipcart.accounts.models import User

        user = User(
            handle=handle, email=f"{handle}@example.com", display_name=handle, password_hash="x"
        )
        session.add(user)
        await session.flush()
        return user.id


async def bare_order(buyer_id: uuid.UUID, shop_id: uuid.UUID, currency: str = "USD") -> uuid.UUID:
    """An order row to hang redemptions on (checkout itself is CORE's)."""
    async with unit_of_work() as session:
        order = Order(
            number=domain.new_order_number(),
            checkout_id=uuid.uuid4(),
            buyer_id=buyer_id,
            shop_id=shop_id,
            status=domain.PENDING_PAYMENT,
            currency=currency,
            subtotal=1000,
            total=1000,
            ship_to={},
        )
        session.add(order)
        await session.flush()
        return order.id


async def find(codes: list[str], buyer_id: uuid.UUID | None, **options: Any) -> list[Coupon]:
    async with unit_of_work() as session:
        return await coupons.find_coupons(
            codes,
            buyer_id=buyer_id,
            currency=options.pop("currency", "USD"),
            session=session,
            **options,
        )


async def refusal(codes: list[str], buyer_id: uuid.UUID | None, **options: Any) -> str:
    with pytest.raises(ValidationFailed) as refused:
        await find(codes, buyer_id, **options)
    (error,) = refused.value.data["errors"]
    assert error["field"] == "coupon_codes"
    return str(error["message"])


async def redeem(coupon_id: uuid.UUID, buyer_id: uuid.UUID, order_id: uuid.UUID) -> None:
    async with unit_of_work() as session:
        await coupons.redeem_coupon(
            coupon_id, buyer_id=buyer_id, order_id=order_id, amount=100, session=session
        )


# --- management API --------------------------------------------------------------------------


async def test_seller_creates_lists_and_deactivates_coupons(seller: SellerMaker) -> None:
    shop = await seller()
    created = await make_coupon(shop, min_spend=2000, total_limit=100, per_buyer_limit=1)
    assert created["code"] == "SAVE10" and created["currency"] == "USD"
    assert created["label"] == "10%" and created["min_spend"]["formatted"] == "$20.00"
    assert created["shop_id"] == str(shop.shop_id) and created["active"]
    listed = (await shop.client.get(f"{API}/shops/{shop.shop_handle}/coupons")).json()
    assert [c["id"] for c in listed] == [created["id"]]
    taken = await shop.client.post(
        f"{API}/shops/{shop.shop_handle}/coupons",
        json={"code": "SAVE10", "kind": "fixed", "value": 5},
    )
    assert_problem(taken, 409, "coupon_code_taken")
    off = await shop.client.post(
        f"{API}/shops/{shop.shop_handle}/coupons/{created['id']}/deactivate"
    )
    assert off.status_code == 200 and off.json()["active"] is False


async def test_bad_coupon_fields_are_listed(seller: SellerMaker) -> None:
    shop = await seller()
    response = await shop.client.post(
        f"{API}/shops/{shop.shop_handle}/coupons",
        json={"code": "x!", "kind": "percent", "value": 20000, "total_limit": 0, "min_spend": -1},
    )
    body = assert_problem(response, 422, "validation_failed")
    assert {e["field"] for e in body["errors"]} == {"code", "value", "total_limit", "min_spend"}


async def test_only_shop_managers_manage_its_coupons(seller: SellerMaker, app: Any) -> None:
    shop = await seller()
    async with new_client(app) as stranger:
        await signup(stranger, "mallory")
        assert_problem(
            await stranger.get(f"{API}/shops/{shop.shop_handle}/coupons"), 404, "shop_not_found"
        )
        created = await make_coupon(shop)
        response = await stranger.post(
            f"{API}/shops/{shop.shop_handle}/coupons/{created['id']}/deactivate"
        )
        assert_problem(response, 404, "shop_not_found")
        other = await seller("oscar", "other")
        # another shop's staff cannot reach this shop's coupon through their own shop
        response = await other.client.post(
            f"{API}/shops/{other.shop_handle}/coupons/{created['id']}/deactivate"
        )
        assert_problem(response, 404, "coupon_not_found")


async def test_platform_coupons_are_for_admins(app: Any) -> None:
    async with new_client(app) as client:
        await signup(client, "boss")
        body = {"code": "clipcart5", "kind": "fixed", "value": 500, "currency": "usd"}
        assert_problem(await client.post(f"{API}/admin/coupons", json=body), 403, "role_required")
        async with unit_of_work() as session:
            user = await accounts.get_user_by_handle("boss", session=session)
            await accounts.grant_role(user, "admin", session=session)
        response = await client.post(f"{API}/admin/coupons", json=body)
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["shop_id"] is None and created["label"] == "$5.00"
        assert_problem(
            await client.post(f"{API}/admin/coupons", json=body), 409, "coupon_code_taken"
        )
        listed = (await client.get(f"{API}/admin/coupons")).json()
        assert [c["code"] for c in listed] == ["CLIPCART5"]
        off = await client.post(f"{API}/admin/coupons/{created['id']}/deactivate")
        assert off.json()["active"] is False


# --- using a coupon ------------------------------------------------------------------------


async def test_window_currency_and_unknown_codes_are_refused_with_reasons(
    seller: SellerMaker, frozen: FrozenClock
) -> None:
    shop = await seller()
    buyer_id = await a_user("jane")
    await make_coupon(shop, code="SUMMER10", ends_at=datetime(2026, 9, 1, 9, tzinfo=UTC))
    await make_coupon(shop, code="LATER", starts_at=datetime(2026, 8, 20, tzinfo=UTC))
    found = await find(["summer10 "], buyer_id, shop_ids=[shop.shop_id])
    assert [c.code for c in found] == ["SUMMER10"]

    assert (
        await refusal(["NOPE"], buyer_id) == "NOPE is not a valid coupon code. Check the spelling."
    )
    assert await refusal(["LATER"], buyer_id) == "LATER can be used from 20 Aug 2026."
    assert "in USD" in await refusal(["SUMMER10"], buyer_id, currency="EUR")
    frozen.advance(timedelta(days=40))
    assert await refusal(["SUMMER10"], buyer_id) == "SUMMER10 ended on 1 Sept 2026."


async def test_inactive_and_wrong_shop_coupons_are_refused(seller: SellerMaker) -> None:
    shop = await seller()
    other = await seller("oscar", "other")
    buyer_id = await a_user("jane")
    created = await make_coupon(shop, code="ACME5")
    reason = await refusal(["ACME5"], buyer_id, shop_ids=[other.shop_id])
    assert reason == "ACME5 is a coupon of another shop: it cannot be used on this order."
    await shop.client.post(f"{API}/shops/{shop.shop_handle}/coupons/{created['id']}/deactivate")
    assert await refusal(["ACME5"], buyer_id) == "ACME5 is no longer available."


async def test_total_limit_is_never_exceeded(seller: SellerMaker) -> None:
    shop = await seller()
    created = await make_coupon(shop, code="FIRST2", total_limit=2)
    coupon_id = uuid.UUID(created["id"])
    buyers = [await a_user(f"b{i}") for i in range(3)]
    for buyer_id in buyers[:2]:
        await redeem(coupon_id, buyer_id, await bare_order(buyer_id, shop.shop_id))
    assert await refusal(["FIRST2"], buyers[2]) == "FIRST2 has been used up."
    with pytest.raises(Conflict) as used_up:
        await redeem(coupon_id, buyers[2], await bare_order(buyers[2], shop.shop_id))
    assert used_up.value.code == "coupon_used_up"
    async with unit_of_work() as session:
        coupon = await session.get(Coupon, coupon_id)
        assert coupon is not None and coupon.redeemed == 2


async def test_per_buyer_limit_counts_unreleased_redemptions(seller: SellerMaker) -> None:
    shop = await seller()
    created = await make_coupon(shop, code="ONCE", per_buyer_limit=1)
    coupon_id = uuid.UUID(created["id"])
    jane, john = await a_user("jane"), await a_user("john")
    first_order = await bare_order(jane, shop.shop_id)
    await redeem(coupon_id, jane, first_order)
    reason = await refusal(["ONCE"], jane)
    assert reason == "You have already used ONCE: it can be used once per buyer."
    assert [c.code for c in await find(["ONCE"], john)] == ["ONCE"]  # others still may
    with pytest.raises(Conflict) as limited:
        await redeem(coupon_id, jane, await bare_order(jane, shop.shop_id))
    assert limited.value.code == "coupon_limit_reached"

    # the order is cancelled unpaid: the use is given back, once
    async with unit_of_work() as session:
        assert await coupons.release_coupons_for_order(first_order, session=session) == 1
    async with unit_of_work() as session:
        assert await coupons.release_coupons_for_order(first_order, session=session) == 0
        coupon = await session.get(Coupon, coupon_id)
        assert coupon is not None and coupon.redeemed == 0
    assert [c.code for c in await find(["ONCE"], jane)] == ["ONCE"]


async def test_min_spend_and_combination_through_pricing(seller: SellerMaker) -> None:
    shop = await seller()
    await make_coupon(shop, code="BIGSPEND", min_spend=2000)
    await make_coupon(shop, code="SOLO", combinable=False, kind="fixed", value=300)
    buyer_id = await a_user("jane")
    lines = [LineToPrice("a", 1500, 1)]
    shipping = ShippingTerms(flat_rate=500, free_threshold=None)
    found = await find(["BIGSPEND"], buyer_id)
    with pytest.raises(CouponRefused) as refused:
        quote_order(
            lines,
            currency="USD",
            shipping=shipping,
            coupons=[coupons.coupon_terms(c) for c in found],
            tax=None,
        )
    assert refused.value.reason == "Spend at least $20.00 to use BIGSPEND."
    both = await find(["BIGSPEND", "SOLO"], buyer_id)
    with pytest.raises(CouponRefused, match="Only one shop coupon"):
        quote_order(
            [LineToPrice("a", 1500, 2)],
            currency="USD",
            shipping=shipping,
            coupons=[coupons.coupon_terms(c) for c in both],
            tax=None,
        )
    solo = await find(["SOLO"], buyer_id)
    quote = quote_order(
        lines,
        currency="USD",
        shipping=shipping,
        coupons=[coupons.coupon_terms(c) for c in solo],
        tax=None,
    )
    assert quote.discount == 300 and quote.total == 1500 - 300 + 500


@pytest.mark.postgres
async def test_concurrent_redemptions_stop_at_the_total_limit(seller: SellerMaker) -> None:
    from tests.services import require_postgres

    require_postgres()
    shop = await seller()
    created = await make_coupon(shop, code="FIVE", total_limit=5)
    coupon_id = uuid.UUID(created["id"])
    buyers = [await a_user(f"b{i}") for i in range(20)]
    orders = [await bare_order(buyer_id, shop.shop_id) for buyer_id in buyers]
    results = await asyncio.gather(
        *(redeem(coupon_id, b, o) for b, o in zip(buyers, orders, strict=True)),
        return_exceptions=True,
    )
    refused = [r for r in results if r is not None]
    assert len(refused) == 15
    assert all(isinstance(r, Conflict) and r.code == "coupon_used_up" for r in refused)
    async with unit_of_work() as session:
        coupon = await session.get(Coupon, coupon_id)
        assert coupon is not None and coupon.redeemed == 5


# --- through checkout (CORE's quote and place use these services) ---------------------------


async def test_a_coupon_through_the_checkout_quote_and_order(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500, shipping_flat_rate=500, free_shipping_threshold=10000)
    async with unit_of_work() as session:
        await tax_rates.ensure_default_tax_rates(session=session)
    await make_coupon(shop, code="SAVE10", min_spend=2000, per_buyer_limit=1)
    jane = await buyer("jane")  # ships to San Francisco, CA: 7.25% sales tax

    too_little = await jane.client.post(
        f"{API}/checkout/quote",
        json={"items": items_body((shop.variant_id, 1)), "coupon_codes": ["save10"]},
    )
    assert too_little.status_code == 200, too_little.text
    (quoted,) = too_little.json()["shops"]
    assert quoted["discount"]["amount"] == 250
    assert quoted["tax"]["amount"] == 163  # 7.25% of 2250 = 163.125
    assert quoted["shipping"]["amount"] == 500
    assert quoted["total"]["amount"] == 2500 - 250 + 500 + 163

    orders = await place_and_pay(jane, (shop.variant_id, 1), coupon_codes=["SAVE10"])
    assert orders[0]["status"] == "paid"
    async with unit_of_work() as session:
        (coupon,) = await coupons.list_coupons(
            await shops.get_shop(shop.shop_id, session=session), session=session
        )
        assert coupon.redeemed == 1
    again = await jane.client.post(
        f"{API}/checkout/quote",
        json={"items": items_body((shop.variant_id, 1)), "coupon_codes": ["SAVE10"]},
    )
    body = assert_problem(again, 422, "coupon_refused")
    assert body["errors"] == [
        {
            "field": "coupon_codes",
            "message": "You have already used SAVE10: it can be used once per buyer.",
        }
    ]


async def test_min_spend_and_expiry_are_explained_at_checkout(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(price=1500)
    await make_coupon(shop, code="BIG", min_spend=2000)
    await make_coupon(shop, code="SUMMER10", ends_at=START + timedelta(days=1))
    jane = await buyer("jane")
    for codes, message in (
        (["BIG"], "Spend at least $20.00 to use BIG."),
        (
            ["BIG", "SUMMER10"],
            "Only one shop coupon can be used per order: remove SUMMER10 or BIG.",
        ),
    ):
        response = await jane.client.post(
            f"{API}/checkout/quote",
            json={"items": items_body((shop.variant_id, 1)), "coupon_codes": codes},
        )
        assert assert_problem(response, 422, "coupon_refused")["detail"] == message
    frozen.advance(timedelta(days=2))
    response = await jane.client.post(
        f"{API}/checkout/quote",
        json={"items": items_body((shop.variant_id, 1)), "coupon_codes": ["summer10"]},
    )
    assert assert_problem(response, 422, "coupon_refused")["detail"] == (
        "SUMMER10 ended on 2 Aug 2026."
    )


async def test_a_shops_own_code_wins_over_a_platform_coupon_with_the_same_code(
    seller: SellerMaker,
) -> None:
    shop = await seller()
    own = await make_coupon(shop, code="HELLO")
    async with unit_of_work() as session:
        await coupons.create_coupon(
            None,
            coupons.CouponIn(code="hello", kind="fixed", value=100, currency="USD"),
            session=session,
        )
    buyer_id = await a_user("jane")
    found = await find(["HELLO"], buyer_id, shop_ids=[shop.shop_id])
    assert [str(c.id) for c in found] == [own["id"]]
    other = await seller("oscar", "other")
    platform = await find(["HELLO"], buyer_id, shop_ids=[other.shop_id])
    assert [(c.shop_id, c.value) for c in platform] == [(None, 100)]
