"""Checkout through the API, the harder cases: a lost provider answer, a payment after expiry,
coupons, currencies, flash deals and concurrent checkouts on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from clipcart.commerce import domain, reservations
from clipcart.commerce.models import Order, OrderLine, StockReservation
from clipcart.core import clock
from clipcart.core.clock import FrozenClock
from clipcart.core.db import get_sessionmaker, unit_of_work
from tests.api.test_accounts_auth import API, assert_problem
from tests.commerce_factories import (
    CARD_DECLINED,
    CARD_TIMEOUT,
    Buyer,
    BuyerMaker,
    SellerMaker,
    buyer,
    commerce_sandbox,
    pay,
    place,
    place_and_pay,
    quote,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "seller"]  # fixtures used here

from tests.api.test_commerce_checkout import count, frozen, stock_of

__all__ = ["buyer", "commerce_sandbox", "frozen", "seller"]  # fixtures used here


async def test_a_lost_answer_leaves_the_order_waiting_until_the_webhook_then_it_is_paid(
    seller: SellerMaker, buyer: BuyerMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clipcart.core.config import get_settings
    from clipcart.payments.sandbox import tasks as sandbox_tasks
    from clipcart.payments.sandbox.models import SandboxCharge

    monkeypatch.setenv("CLIPCART_PAYMENTS_SANDBOX_LOST_RESPONSE_SECONDS", "3")
    get_settings.cache_clear()
    try:
        shop = await seller(stock=5)
        jane = await buyer("jane", card=CARD_TIMEOUT)
        placed = (await place(jane.client, (shop.variant_id, 1))).json()
        [result] = (await pay(jane.client, placed["checkout_id"])).json()["orders"]
        assert result["status"] == "pending_payment"
        assert result["payment_status"] == "processing"
        assert "not answered yet" in result["message"]
        assert await sandbox_tasks.deliver_pending_events() >= 1
        detail = (await jane.client.get(f"{API}/orders/{result['order_id']}")).json()
        assert detail["status"] == "paid"
        assert detail["payment"]["status"] == "captured"
        assert await count(SandboxCharge) == 1
        assert await stock_of(shop.variant_id) == 4
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_a_payment_that_arrives_after_the_order_expired_is_let_go(
    seller: SellerMaker,
    buyer: BuyerMaker,
    monkeypatch: pytest.MonkeyPatch,
    frozen: FrozenClock,
) -> None:
    from clipcart.core.config import get_settings
    from clipcart.payments.sandbox import tasks as sandbox_tasks

    monkeypatch.setenv("CLIPCART_PAYMENTS_SANDBOX_LOST_RESPONSE_SECONDS", "3")
    get_settings.cache_clear()
    try:
        shop = await seller(stock=5)
        jane = await buyer("jane", card=CARD_TIMEOUT)
        placed = (await place(jane.client, (shop.variant_id, 1))).json()
        [result] = (await pay(jane.client, placed["checkout_id"])).json()["orders"]
        assert result["payment_status"] == "processing"
        frozen.advance(timedelta(minutes=20))
        async with unit_of_work() as session:
            assert await reservations.expire_overdue_reservations(session=session) == 1
        assert await stock_of(shop.variant_id) == 5
        await sandbox_tasks.deliver_pending_events()  # the late authorisation arrives
        detail = (await jane.client.get(f"{API}/orders/{result['order_id']}")).json()
        assert detail["status"] == "cancelled"
        assert detail["payment"]["status"] == "cancelled"  # voided, never captured
        assert await stock_of(shop.variant_id) == 5
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def add_coupon(code: str, *, shop_id: uuid.UUID | None, **fields: Any) -> uuid.UUID:
    from clipcart.commerce.promotion_models import Coupon

    values: dict[str, Any] = {
        "code": code,
        "shop_id": shop_id,
        "kind": "percent",
        "value": 1000,
        "currency": "USD",
        "min_spend": 0,
        "starts_at": clock.now() - timedelta(days=1),
        "ends_at": None,
        "total_limit": None,
        "per_buyer_limit": None,
        "combinable": True,
        "redeemed": 0,
        "active": True,
    }
    values.update(fields)
    async with unit_of_work() as session:
        coupon = Coupon(**values)
        session.add(coupon)
        await session.flush()
        return coupon.id


async def test_coupons_discount_the_right_order_and_are_redeemed_once(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    from clipcart.commerce.promotion_models import Coupon, CouponRedemption

    acme = await seller(price=4000, shipping_flat_rate=0, free_shipping_threshold=None)
    bolt = await seller(
        "sam", "bolt", price=1000, shipping_flat_rate=0, free_shipping_threshold=None
    )
    jane = await buyer("jane")
    await add_coupon("BOLT5", shop_id=bolt.shop_id, kind="fixed", value=500)
    platform = await add_coupon("WELCOME10", shop_id=None)
    lines = ((acme.variant_id, 1), (bolt.variant_id, 1))
    quoted = await quote(jane.client, *lines, coupon_codes=["bolt5", "WELCOME10"])
    by_shop = {shop["shop"]["handle"]: shop for shop in quoted["shops"]}
    # the shop coupon on its shop's order; the platform coupon once, on the largest order
    assert by_shop["bolt"]["discount"]["amount"] == 500
    assert [c["code"] for c in by_shop["bolt"]["coupons"]] == ["BOLT5"]
    assert by_shop["acme"]["discount"]["amount"] == 400
    assert quoted["grand_total"]["amount"] == 4000 + 1000 - 500 - 400
    placed = await place(jane.client, *lines, coupon_codes=["BOLT5", "WELCOME10"])
    assert placed.status_code == 201, placed.text
    assert await count(CouponRedemption) == 2
    async with get_sessionmaker()() as session:
        coupon = await session.get(Coupon, platform)
        assert coupon is not None and coupon.redeemed == 1


async def test_a_refused_coupon_says_why(seller: SellerMaker, buyer: BuyerMaker) -> None:
    shop = await seller(price=1000)
    jane = await buyer("jane")
    await add_coupon("OLD", shop_id=None, ends_at=clock.now() - timedelta(hours=1))
    await add_coupon("BIG", shop_id=None, min_spend=5000)
    response = await jane.client.post(
        f"{API}/checkout/quote",
        json={
            "items": [{"variant_id": str(shop.variant_id), "quantity": 1}],
            "coupon_codes": ["OLD"],
        },
    )
    problem = assert_problem(response, 422, "coupon_refused")
    assert problem["errors"][0]["field"] == "coupon_codes"
    assert "OLD" in problem["errors"][0]["message"]
    response = await jane.client.post(
        f"{API}/checkout/quote",
        json={
            "items": [{"variant_id": str(shop.variant_id), "quantity": 1}],
            "coupon_codes": ["BIG"],
        },
    )
    problem = assert_problem(response, 422, "coupon_refused")
    assert problem["errors"][0]["message"] == "Spend at least $50.00 to use BIG."


async def test_a_fully_discounted_order_is_paid_as_placed(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=1000, shipping_flat_rate=0, free_shipping_threshold=None)
    jane = await buyer("jane")
    await add_coupon("FREE", shop_id=shop.shop_id, value=10000)
    placed = await place(jane.client, (shop.variant_id, 1), coupon_codes=["FREE"])
    assert placed.status_code == 201, placed.text
    [order] = placed.json()["orders"]
    assert order["status"] == "paid" and order["total"]["amount"] == 0
    assert await count(StockReservation, StockReservation.status == domain.COMMITTED) == 1
    paid = await pay(jane.client, placed.json()["checkout_id"])
    assert paid.json()["all_paid"] is True


async def test_one_checkout_is_in_one_currency(seller: SellerMaker, buyer: BuyerMaker) -> None:
    usd = await seller()
    eur = await seller("hans", "berlin", currency="EUR", country="DE", title="Brezel")
    jane = await buyer("jane")
    response = await jane.client.post(
        f"{API}/checkout/quote",
        json={
            "items": [
                {"variant_id": str(usd.variant_id), "quantity": 1},
                {"variant_id": str(eur.variant_id), "quantity": 1},
            ]
        },
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0] == {
        "field": "items",
        "message": "Check out products priced in one currency at a time.",
    }


@pytest.mark.postgres
async def test_concurrent_checkouts_of_two_skus_in_any_order_never_deadlock_or_oversell(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    """Buyers asking for A+B and B+A at once: locks are taken in variant-id order, so every
    answer is a 201 or a sold-out 409, and exactly the stock is sold."""
    import asyncio

    from tests.services import require_postgres

    require_postgres()
    acme = await seller(stock=5)
    bolt = await seller("sam", "bolt", stock=5, title="Bolt Cutter")
    buyers = [await buyer(f"buyer{index}") for index in range(10)]
    first, second = (acme.variant_id, 1), (bolt.variant_id, 1)
    expected = (await quote(buyers[0].client, first, second))["grand_total"]["amount"]

    async def attempt(index: int, one: Buyer) -> int:
        lines = (first, second) if index % 2 else (second, first)
        response = await place(one.client, *lines, expected_total=expected)
        if response.status_code == 409:
            assert response.json()["code"] == "sold_out"
        return response.status_code

    statuses = await asyncio.gather(*(attempt(i, one) for i, one in enumerate(buyers)))
    assert sorted(statuses) == [201] * 5 + [409] * 5
    assert await stock_of(acme.variant_id) == 0
    assert await stock_of(bolt.variant_id) == 0
    assert await count(Order) == 10  # five checkouts, two shops each
    assert await count(StockReservation, StockReservation.status == domain.HELD) == 10


async def test_flash_deal_units_are_claimed_at_the_deal_price_and_released_on_failure(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    from clipcart.commerce.promotion_models import FlashDeal

    shop = await seller(price=2500, stock=10, shipping_flat_rate=0, free_shipping_threshold=None)
    async with unit_of_work() as session:
        deal = FlashDeal(
            shop_id=shop.shop_id,
            variant_id=shop.variant_id,
            deal_price=1500,
            quantity=3,
            sold=0,
            per_buyer_limit=2,
            starts_at=clock.now() - timedelta(minutes=1),
            ends_at=clock.now() + timedelta(hours=1),
        )
        session.add(deal)
        await session.flush()
        deal_id = deal.id

    async def sold() -> int:
        async with get_sessionmaker()() as session:
            row = await session.get(FlashDeal, deal_id)
            assert row is not None
            return row.sold

    jane = await buyer("jane", card=CARD_DECLINED)
    quoted = await quote(jane.client, (shop.variant_id, 2))
    assert quoted["shops"][0]["lines"][0]["unit_price"]["amount"] == 1500
    assert quoted["shops"][0]["lines"][0]["flash_deal_id"] == str(deal_id)
    placed = (await place(jane.client, (shop.variant_id, 2))).json()
    assert placed["total"]["amount"] == 3000
    assert await sold() == 2
    [line] = await lines_of_order(placed["orders"][0]["id"])
    assert (line.flash_deal_id, line.unit_price) == (deal_id, 1500)
    paid = (await pay(jane.client, placed["checkout_id"])).json()
    assert paid["orders"][0]["status"] == "cancelled"
    assert await sold() == 0  # the declined order gave its deal units back
    # past the buyer's limit: a clear refusal, nothing kept
    sam = await buyer("sam")
    await place_and_pay(sam, (shop.variant_id, 2))
    refused = await place(sam.client, (shop.variant_id, 1))
    assert_problem(refused, 409, "deal_limit_reached")
    assert await sold() == 2


async def lines_of_order(order_id: str) -> list[OrderLine]:
    async with get_sessionmaker()() as session:
        rows = await session.scalars(
            select(OrderLine).where(OrderLine.order_id == uuid.UUID(order_id))
        )
        return list(rows)
