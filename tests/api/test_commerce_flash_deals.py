"""Flash deals: the seller's API, the public deal view, claiming units without ever selling
more than the deal's quantity (a PostgreSQL race included), per-buyer limits, release."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from clipcart.accounts.models import User
from clipcart.commerce import domain, flash_deals
from clipcart.commerce.models import Order, OrderLine
from clipcart.commerce.promotion_models import FlashDeal
from clipcart.core import clock
from clipcart.core.clock import FrozenClock
from clipcart.core.db import unit_of_work
from clipcart.core.errors import AppError, Conflict
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup
from tests.commerce_factories import (
    CARD_DECLINED,
    BuyerMaker,
    Seller,
    SellerMaker,
    buyer,
    commerce_sandbox,
    items_body,
    pay,
    place,
    place_and_pay,
    seller,
)
from tests.services import require_postgres

__all__ = ["buyer", "commerce_sandbox", "seller"]


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    with clock.frozen_at(datetime(2026, 11, 1, 12, tzinfo=UTC)) as moving:
        yield moving


async def create_deal(shop: Seller, **fields: Any) -> httpx.Response:
    now = clock.now()
    body: dict[str, Any] = {
        "variant_id": str(shop.variant_id),
        "deal_price": 1500,
        "quantity": 5,
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        **fields,
    }
    for key in ("starts_at", "ends_at"):
        if isinstance(body.get(key), datetime):
            body[key] = body[key].isoformat()
    return await shop.client.post(f"{API}/shops/{shop.shop_handle}/flash-deals", json=body)


async def deal_of(shop: Seller, **fields: Any) -> dict[str, Any]:
    response = await create_deal(shop, **fields)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def users(*handles: str) -> list[uuid.UUID]:
    async with unit_of_work() as session:
        made = [
            User(handle=h, email=f"{h}@example.com", display_name=h, password_hash="x")
            for h in handles
        ]
        session.add_all(made)
        await session.flush()
        return [user.id for user in made]


async def order_at_deal(
    deal: dict[str, Any], shop: Seller, buyer_id: uuid.UUID, quantity: int
) -> uuid.UUID:
    """What checkout does for a deal line: an order with a line at the deal price, then the
    units claimed, in one transaction."""
    async with unit_of_work() as session:
        order = Order(
            number=domain.new_order_number(),
            checkout_id=uuid.uuid4(),
            buyer_id=buyer_id,
            shop_id=shop.shop_id,
            status=domain.PENDING_PAYMENT,
            currency="USD",
            subtotal=deal["deal_price"] * quantity,
            total=deal["deal_price"] * quantity,
            ship_to={},
        )
        session.add(order)
        await session.flush()
        session.add(
            OrderLine(
                order_id=order.id,
                variant_id=shop.variant_id,
                product_id=shop.product_id,
                title="Glow Serum",
                unit_price=deal["deal_price"],
                quantity=quantity,
                total=deal["deal_price"] * quantity,
                flash_deal_id=uuid.UUID(deal["id"]),
            )
        )
        await session.flush()
        await flash_deals.claim_deal_units(
            uuid.UUID(deal["id"]),
            buyer_id=buyer_id,
            quantity=quantity,
            session=session,
            exclude_order_id=order.id,
        )
        return order.id


async def sold(deal_id: str) -> int:
    async with unit_of_work() as session:
        deal = await session.get(FlashDeal, uuid.UUID(deal_id))
        assert deal is not None
        return deal.sold


# --- the seller's API and the public view ---------------------------------------------------


async def test_seller_creates_a_deal_and_the_sheet_shows_it(seller: SellerMaker, app: Any) -> None:
    shop = await seller(price=2500, stock=10)
    deal = await deal_of(shop, per_buyer_limit=2)
    assert deal["status"] == "live" and deal["remaining"] == 5 and deal["sold"] == 0
    listed = (await shop.client.get(f"{API}/shops/{shop.shop_handle}/flash-deals")).json()
    assert [d["id"] for d in listed] == [deal["id"]]
    async with new_client(app) as visitor:  # public, no login
        view = await visitor.get(f"{API}/variants/{shop.variant_id}/deal")
        assert view.status_code == 200, view.text
        shown = view.json()
        assert shown["deal_price"] == 1500 and shown["deal_price_formatted"] == "$15.00"
        assert shown["remaining"] == 5 and shown["quantity"] == 5
        assert 7190 <= shown["seconds_left"] <= 7200
        other_variant = shop.variant_ids[1]
        assert_problem(await visitor.get(f"{API}/variants/{other_variant}/deal"), 404, "no_deal")
    cancelled = await shop.client.post(
        f"{API}/shops/{shop.shop_handle}/flash-deals/{deal['id']}/cancel"
    )
    assert cancelled.json()["status"] == "cancelled"
    assert_problem(await shop.client.get(f"{API}/variants/{shop.variant_id}/deal"), 404, "no_deal")


async def test_deal_rules_are_checked_per_field(seller: SellerMaker) -> None:
    shop = await seller(price=2500, stock=10)
    now = clock.now()
    response = await create_deal(
        shop, deal_price=2500, quantity=11, starts_at=now - timedelta(days=1), per_buyer_limit=0
    )
    body = assert_problem(response, 422, "validation_failed")
    assert {e["field"] for e in body["errors"]} == {
        "deal_price",
        "quantity",
        "starts_at",
        "per_buyer_limit",
    }
    response = await create_deal(shop, ends_at=now - timedelta(minutes=1))
    assert {e["field"] for e in assert_problem(response, 422, "validation_failed")["errors"]} == {
        "ends_at"
    }
    other = await seller("oscar", "other")
    response = await create_deal(other, variant_id=str(shop.variant_id))
    assert assert_problem(response, 422, "validation_failed")["errors"][0]["field"] == "variant_id"
    await deal_of(shop)
    later = await create_deal(shop, starts_at=now + timedelta(hours=1))
    assert_problem(later, 409, "deal_overlaps")


async def test_strangers_cannot_manage_a_shops_deals(seller: SellerMaker, app: Any) -> None:
    shop = await seller()
    deal = await deal_of(shop)
    async with new_client(app) as stranger:
        await signup(stranger, "mallory")
        response = await stranger.post(
            f"{API}/shops/{shop.shop_handle}/flash-deals/{deal['id']}/cancel"
        )
        assert_problem(response, 404, "shop_not_found")
    other = await seller("oscar", "other")
    response = await other.client.post(
        f"{API}/shops/{other.shop_handle}/flash-deals/{deal['id']}/cancel"
    )
    assert_problem(response, 404, "deal_not_found")


async def test_a_scheduled_deal_goes_live_and_ends_with_the_clock(
    seller: SellerMaker, frozen: FrozenClock
) -> None:
    shop = await seller()
    deal = await deal_of(
        shop,
        starts_at=clock.now() + timedelta(hours=1),
        ends_at=clock.now() + timedelta(hours=2),
    )
    assert deal["status"] == "scheduled"
    async with unit_of_work() as session:
        assert await flash_deals.active_deals_for_variants([shop.variant_id], session=session) == {}
    (buyer,) = await users("jane")
    with pytest.raises(Conflict) as early:
        await order_at_deal(deal, shop, buyer, 1)
    assert early.value.message == "This flash deal has not started yet."
    frozen.advance(timedelta(hours=1))
    async with unit_of_work() as session:
        live = await flash_deals.active_deals_for_variants([shop.variant_id], session=session)
        assert [str(d.id) for d in live.values()] == [deal["id"]]
    await order_at_deal(deal, shop, buyer, 1)
    frozen.advance(timedelta(hours=1))
    with pytest.raises(Conflict) as ended:
        await order_at_deal(deal, shop, buyer, 1)
    assert (
        ended.value.code == "deal_sold_out" and ended.value.message == "This flash deal has ended."
    )
    assert await sold(deal["id"]) == 1


# --- claiming units ------------------------------------------------------------------------


async def test_units_run_out_and_come_back_when_released(seller: SellerMaker) -> None:
    shop = await seller(stock=10)
    deal = await deal_of(shop, quantity=3)
    jane, john = await users("jane", "john")
    await order_at_deal(deal, shop, jane, 2)
    with pytest.raises(Conflict) as too_many:
        await order_at_deal(deal, shop, john, 2)
    assert too_many.value.code == "deal_sold_out"
    assert (
        too_many.value.message == "Only 1 left at the deal price: lower the quantity to 1 or fewer."
    )
    await order_at_deal(deal, shop, john, 1)
    with pytest.raises(Conflict) as gone:
        await order_at_deal(deal, shop, john, 1)
    assert gone.value.message == "This flash deal is sold out."
    assert await sold(deal["id"]) == 3
    async with unit_of_work() as session:
        assert await flash_deals.active_deals_for_variants([shop.variant_id], session=session) == {}
        await flash_deals.release_deal_units(uuid.UUID(deal["id"]), 2, session=session)
    assert await sold(deal["id"]) == 1
    async with unit_of_work() as session:
        await flash_deals.release_deal_units(uuid.UUID(deal["id"]), 5, session=session)
    assert await sold(deal["id"]) == 0  # never below zero


async def test_per_buyer_limit_counts_the_buyers_orders_except_cancelled(
    seller: SellerMaker,
) -> None:
    shop = await seller(stock=10)
    deal = await deal_of(shop, quantity=10, per_buyer_limit=3)
    jane, john = await users("jane", "john")
    first = await order_at_deal(deal, shop, jane, 2)
    with pytest.raises(Conflict) as limited:
        await order_at_deal(deal, shop, jane, 2)
    assert limited.value.code == "deal_limit_reached"
    assert (
        limited.value.message
        == "This deal is limited to 3 per buyer. You may buy 1 more at the deal price."
    )
    assert limited.value.data["may_buy"] == 1
    await order_at_deal(deal, shop, jane, 1)
    with pytest.raises(Conflict) as none_left:
        await order_at_deal(deal, shop, jane, 1)
    assert "already bought all you may" in none_left.value.message
    await order_at_deal(deal, shop, john, 3)  # limits are per buyer
    async with unit_of_work() as session:
        order = await session.get(Order, first)
        assert order is not None
        order.status = domain.CANCELLED
        await flash_deals.release_deal_units(uuid.UUID(deal["id"]), 2, session=session)
    await order_at_deal(deal, shop, jane, 2)  # the cancelled order no longer counts
    assert await sold(deal["id"]) == 2 + 1 + 3 + 2 - 2


async def test_deal_price_view_and_the_cheapest_overlapping_deal() -> None:
    deal = FlashDeal(
        id=uuid.uuid4(),
        shop_id=uuid.uuid4(),
        variant_id=uuid.uuid4(),
        deal_price=999,
        quantity=10,
        sold=4,
        per_buyer_limit=None,
        starts_at=clock.now() - timedelta(minutes=1),
        ends_at=clock.now() + timedelta(seconds=90),
        cancelled=False,
    )
    view = flash_deals.deal_view(deal)
    assert view["remaining"] == 6 and view["status"] == "live"
    assert 85 <= view["seconds_left"] <= 90


# --- PostgreSQL race ---------------------------------------------------------------------------


@pytest.mark.postgres
async def test_fifty_concurrent_claims_on_ten_units_sell_exactly_ten(seller: SellerMaker) -> None:
    require_postgres()
    shop = await seller(stock=20)
    deal = await deal_of(shop, quantity=10)
    buyers = await users(*(f"buyer{i}" for i in range(50)))
    results = await asyncio.gather(
        *(order_at_deal(deal, shop, buyer, 1) for buyer in buyers), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, uuid.UUID)]
    lost = [r for r in results if not isinstance(r, uuid.UUID)]
    assert len(won) == 10
    assert all(isinstance(r, AppError) and r.code == "deal_sold_out" for r in lost), lost
    assert await sold(deal["id"]) == 10


@pytest.mark.postgres
async def test_one_buyers_concurrent_claims_respect_the_limit(seller: SellerMaker) -> None:
    require_postgres()
    shop = await seller(stock=20)
    deal = await deal_of(shop, quantity=20, per_buyer_limit=2)
    (jane,) = await users("jane")
    results = await asyncio.gather(
        *(order_at_deal(deal, shop, jane, 1) for _ in range(10)), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, uuid.UUID)]
    assert len(won) == 2
    assert all(
        isinstance(r, AppError) and r.code == "deal_limit_reached"
        for r in results
        if not isinstance(r, uuid.UUID)
    )
    assert await sold(deal["id"]) == 2


# --- through checkout (CORE's place and pay claim and release the units) ----------------------


async def test_buying_at_the_deal_price_through_checkout(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500, stock=10, free_shipping_threshold=None)
    deal = await deal_of(shop, deal_price=1500, quantity=4, per_buyer_limit=2)
    jane = await buyer("jane")
    quoted = await jane.client.post(
        f"{API}/checkout/quote", json={"items": items_body((shop.variant_id, 2))}
    )
    assert quoted.status_code == 200, quoted.text
    (line,) = quoted.json()["shops"][0]["lines"]
    assert line["unit_price"]["amount"] == 1500 and line["flash_deal_id"] == deal["id"]
    orders = await place_and_pay(jane, (shop.variant_id, 2))
    assert orders[0]["status"] == "paid"
    assert await sold(deal["id"]) == 2
    response = await place(jane.client, (shop.variant_id, 1))
    body = assert_problem(response, 409, "deal_limit_reached")
    assert body["detail"] == (
        "This deal is limited to 2 per buyer. "
        "You have already bought all you may at the deal price."
    )
    assert await sold(deal["id"]) == 2  # nothing kept from the refused checkout


async def test_a_declined_payment_gives_the_deal_units_back(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500, stock=10)
    deal = await deal_of(shop, quantity=3)
    john = await buyer("john", card=CARD_DECLINED)
    placed = await place(john.client, (shop.variant_id, 3))
    assert placed.status_code == 201, placed.text
    assert await sold(deal["id"]) == 3
    await pay(john.client, placed.json()["checkout_id"])
    assert await sold(deal["id"]) == 0
