"""Checkout through the API: quote, place with Idempotency-Key, pay with the sandbox cards,
prices changed, sold out with nothing kept, multi-shop carts, reservation expiry."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from clipcart.catalog.models import StockMovement, Variant
from clipcart.commerce import domain, reservations
from clipcart.commerce.models import Order, OrderEvent, OrderLine, StockReservation
from clipcart.core import clock
from clipcart.core.clock import FrozenClock
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.ledger import service as ledger
from clipcart.payments.models import PaymentIntent
from tests.api.test_accounts_auth import API, assert_problem
from tests.commerce_factories import (
    CARD_3DS,
    CARD_DECLINED,
    Buyer,
    BuyerMaker,
    SellerMaker,
    add_to_cart,
    buyer,
    commerce_sandbox,
    pay,
    place,
    quote,
    save_card,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "seller"]  # fixtures used here


async def stock_of(variant_id: uuid.UUID) -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(Variant.stock).where(Variant.id == variant_id)) or 0)


async def count(model: Any, *where: Any) -> int:
    async with get_sessionmaker()() as session:
        statement = select(func.count()).select_from(model)
        for condition in where:
            statement = statement.where(condition)
        return int(await session.scalar(statement) or 0)


async def order_row(order_id: str) -> Order:
    async with get_sessionmaker()() as session:
        order = await session.get(Order, uuid.UUID(order_id))
        assert order is not None
        return order


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    """A clock the test moves."""
    with clock.frozen_at(clock.now()) as moved:
        yield moved


async def test_quote_prices_each_shop_with_shipping_and_says_what_is_missing(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500, shipping_flat_rate=500, free_shipping_threshold=10000)
    jane = await buyer("jane", card=None, with_address=False)
    quoted = await quote(jane.client, (shop.variant_id, 2))
    assert quoted["missing"] == ["address", "payment_method"]
    [order] = quoted["shops"]
    assert order["shop"]["handle"] == "acme"
    assert order["subtotal"]["amount"] == 5000
    assert order["shipping"]["amount"] == 500
    assert order["total"]["amount"] == 5500
    assert quoted["grand_total"] == {"amount": 5500, "currency": "USD", "formatted": "$55.00"}
    assert order["lines"][0]["title"] == "Glow Serum"
    # free shipping above the threshold
    quoted = await quote(jane.client, (shop.variant_id, 4))
    assert quoted["shops"][0]["shipping"]["amount"] == 0


async def test_place_and_pay_with_4242_reserves_commits_and_holds_the_money(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500, stock=10)
    jane = await buyer("jane")
    quoted = await quote(jane.client, (shop.variant_id, 2))
    assert quoted["missing"] == []
    assert quoted["ship_to"]["city"] == "San Francisco"
    placed = await place(jane.client, (shop.variant_id, 2))
    assert placed.status_code == 201, placed.text
    body = placed.json()
    [order] = body["orders"]
    assert order["status"] == "pending_payment"
    assert order["number"].startswith("CC-") and len(order["number"]) == 13
    assert body["total"]["amount"] == quoted["grand_total"]["amount"] == 5500
    assert await stock_of(shop.variant_id) == 8
    row = await order_row(order["id"])
    assert row.ship_to["postal_code"] == "94103"
    assert row.reservation_expires_at is not None
    assert await count(StockReservation, StockReservation.status == domain.HELD) == 1

    paid = await pay(jane.client, body["checkout_id"])
    assert paid.status_code == 200, paid.text
    result = paid.json()
    assert result["all_paid"] is True
    assert result["orders"][0]["status"] == "paid"
    assert result["orders"][0]["payment_status"] == "captured"
    assert await count(StockReservation, StockReservation.status == domain.COMMITTED) == 1
    assert await stock_of(shop.variant_id) == 8

    detail = (await jane.client.get(f"{API}/orders/{order['id']}")).json()
    assert detail["status"] == "paid" and detail["status_label"] == "Paid"
    assert [event["to_status"] for event in detail["timeline"]] == ["pending_payment", "paid"]
    assert detail["payment"]["status"] == "captured"
    assert detail["lines"][0]["quantity"] == 2
    assert detail["lines"][0]["source_kind"] == "direct"
    async with get_sessionmaker()() as session:
        escrow = await ledger.get_escrow(domain.order_ref(uuid.UUID(order["id"])), session=session)
        assert (escrow.amount, escrow.currency) == (5500, "USD")
        assert escrow.shop_id == shop.shop_id
        assert await ledger.verify_ledger(session=session) == []


async def test_placing_twice_with_one_key_makes_one_order_and_another_body_is_422(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=10)
    jane = await buyer("jane")
    first = await place(jane.client, (shop.variant_id, 1), key="same-key")
    again = await place(jane.client, (shop.variant_id, 1), key="same-key")
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["checkout_id"] == again.json()["checkout_id"]
    assert await count(Order) == 1
    assert await stock_of(shop.variant_id) == 9
    other = await place(jane.client, (shop.variant_id, 2), key="same-key")
    assert_problem(other, 422, "idempotency_key_reused")
    missing = await jane.client.post(
        f"{API}/checkout",
        json={"items": [{"variant_id": str(shop.variant_id), "quantity": 1}], "expected_total": 1},
    )
    assert_problem(missing, 400, "idempotency_key_required")


async def test_paying_twice_charges_once(seller: SellerMaker, buyer: BuyerMaker) -> None:
    shop = await seller(stock=10)
    jane = await buyer("jane")
    placed = (await place(jane.client, (shop.variant_id, 1))).json()
    first = await pay(jane.client, placed["checkout_id"], key="pay-1")
    replay = await pay(jane.client, placed["checkout_id"], key="pay-1")
    fresh = await pay(jane.client, placed["checkout_id"], key="pay-2")
    assert first.json()["all_paid"] and replay.json() == first.json()
    assert fresh.status_code == 200 and fresh.json()["orders"][0]["status"] == "paid"
    from clipcart.payments.sandbox.models import SandboxCharge

    assert await count(SandboxCharge) == 1


async def test_changed_prices_are_a_409_with_the_new_quote(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500)
    jane = await buyer("jane")
    seen = await quote(jane.client, (shop.variant_id, 1))
    async with unit_of_work() as session:
        variant = await session.get(Variant, shop.variant_id)
        assert variant is not None
        variant.price = 2700
    response = await place(
        jane.client, (shop.variant_id, 1), expected_total=seen["grand_total"]["amount"]
    )
    problem = assert_problem(response, 409, "prices_changed")
    assert problem["quote"]["grand_total"]["amount"] == 3200
    assert "$32.00" in problem["detail"]
    assert await count(Order) == 0
    assert await stock_of(shop.variant_id) == 10


async def test_sold_out_is_a_409_naming_the_product_and_nothing_is_kept(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=3)
    other = await seller("sam", "bolt", stock=5, title="Bolt Cutter")
    jane = await buyer("jane")
    seen = await quote(jane.client, (other.variant_id, 1), (shop.variant_id, 3))
    async with unit_of_work() as session:
        variant = await session.get(Variant, shop.variant_id)
        assert variant is not None
        variant.stock = 1  # someone bought two in between
    response = await place(
        jane.client,
        (other.variant_id, 1),
        (shop.variant_id, 3),
        expected_total=seen["grand_total"]["amount"],
    )
    problem = assert_problem(response, 409, "sold_out")
    assert "Glow Serum" in problem["detail"]
    assert await count(Order) == 0
    assert await count(OrderLine) == 0
    assert await count(StockReservation) == 0
    assert await stock_of(other.variant_id) == 5
    assert await stock_of(shop.variant_id) == 1
    assert await count(StockMovement, StockMovement.reason == "reservation") == 0


async def test_sold_out_during_reservation_rolls_back_every_order(
    seller: SellerMaker, buyer: BuyerMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The conditional UPDATE refuses the last line: the first shop's reservation goes too."""
    shop = await seller(stock=3)
    other = await seller("sam", "bolt", stock=5, title="Bolt Cutter")
    jane = await buyer("jane")
    seen = await quote(jane.client, (other.variant_id, 1), (shop.variant_id, 3))
    from clipcart.commerce import checkout

    original = checkout.plan_checkout

    async def stale_plan(*args: Any, **kwargs: Any) -> Any:
        plan = await original(*args, **kwargs)
        async with unit_of_work() as session:  # stock taken between the read and the update
            variant = await session.get(Variant, shop.variant_id)
            assert variant is not None
            variant.stock = 2
        return plan

    monkeypatch.setattr(checkout, "plan_checkout", stale_plan)
    response = await place(
        jane.client,
        (other.variant_id, 1),
        (shop.variant_id, 3),
        expected_total=seen["grand_total"]["amount"],
    )
    problem = assert_problem(response, 409, "sold_out")
    assert "Glow Serum" in problem["detail"] and problem["left"] == 2
    assert await count(Order) == 0
    assert await count(StockReservation) == 0
    assert await stock_of(other.variant_id) == 5


async def test_declined_card_cancels_the_order_and_gives_the_stock_back(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=5)
    jane = await buyer("jane", card=CARD_DECLINED)
    placed = (await place(jane.client, (shop.variant_id, 2))).json()
    assert await stock_of(shop.variant_id) == 3
    paid = await pay(jane.client, placed["checkout_id"])
    assert paid.status_code == 200, paid.text
    [result] = paid.json()["orders"]
    assert result["status"] == "cancelled"
    assert result["payment_status"] == "failed"
    assert result["message"] == "Your card was declined: insufficient funds."
    assert await stock_of(shop.variant_id) == 5
    assert await count(StockReservation, StockReservation.status == domain.RELEASED) == 1
    detail = (await jane.client.get(f"{API}/orders/{result['order_id']}")).json()
    assert detail["cancel_reason"] == "Your card was declined: insufficient funds."
    # the buyer simply tries again with another card: a new checkout
    good = await save_card(jane.client)
    again = await place(jane.client, (shop.variant_id, 2), payment_method=good)
    assert again.status_code == 201, again.text
    paid = await pay(jane.client, again.json()["checkout_id"])
    assert paid.json()["orders"][0]["status"] == "paid"
    assert await stock_of(shop.variant_id) == 3


async def test_a_card_needing_confirmation_says_what_to_do(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=5)
    jane = await buyer("jane", card=CARD_3DS)
    placed = (await place(jane.client, (shop.variant_id, 1))).json()
    [result] = (await pay(jane.client, placed["checkout_id"])).json()["orders"]
    assert result["status"] == "pending_payment"
    assert result["payment_status"] == "requires_action"
    intent_id = result["requires_action"]["intent_id"]
    confirmed = await jane.client.post(f"{API}/payments/intents/{intent_id}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    # the authorisation arrives: the order's capture runs (immediately in tests)
    detail = (await jane.client.get(f"{API}/orders/{result['order_id']}")).json()
    assert detail["status"] == "paid"
    assert detail["payment"]["status"] == "captured"


async def test_an_expired_reservation_cancels_the_order_and_releases_the_stock(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(stock=5)
    jane = await buyer("jane")
    placed = (await place(jane.client, (shop.variant_id, 2))).json()
    assert await stock_of(shop.variant_id) == 3
    async with unit_of_work() as session:
        assert await reservations.expire_overdue_reservations(session=session) == 0
    frozen.advance(timedelta(minutes=16))
    async with unit_of_work() as session:
        assert await reservations.expire_overdue_reservations(session=session) == 1
    assert await stock_of(shop.variant_id) == 5
    order = await order_row(placed["orders"][0]["id"])
    assert order.status == "cancelled" and "expired" in order.cancel_reason
    # its payment is called off: it can no longer be charged, even through the payments API
    assert await count(PaymentIntent, PaymentIntent.status == "cancelled") == 1
    async with unit_of_work() as session:
        assert await reservations.expire_overdue_reservations(session=session) == 0
    assert await stock_of(shop.variant_id) == 5
    # paying now is too late: nothing is charged
    paid = await pay(jane.client, placed["checkout_id"])
    assert paid.json()["orders"][0]["status"] == "cancelled"
    assert await count(PaymentIntent, PaymentIntent.status == "captured") == 0


async def test_a_cart_across_two_shops_becomes_two_orders(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    acme = await seller(price=2500, shipping_flat_rate=500)
    bolt = await seller("sam", "bolt", price=1000, shipping_flat_rate=300, title="Bolt Cutter")
    jane = await buyer("jane")
    assert (await add_to_cart(jane.client, acme.variant_id, 1)).status_code == 201
    assert (await add_to_cart(jane.client, bolt.variant_id, 2)).status_code == 201
    quoted = await quote(jane.client)
    assert sorted(shop["shop"]["handle"] for shop in quoted["shops"]) == ["acme", "bolt"]
    assert quoted["grand_total"]["amount"] == 2500 + 500 + 2000 + 300
    placed = await place(jane.client)
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert len(body["orders"]) == 2
    assert len({order["checkout_id"] for order in body["orders"]}) == 1
    paid = (await pay(jane.client, body["checkout_id"])).json()
    assert paid["all_paid"] is True
    cart = (await jane.client.get(f"{API}/cart")).json()
    assert cart["shops"] == []  # bought items left the cart
    listed = (await jane.client.get(f"{API}/orders")).json()
    assert len(listed["items"]) == 2
    assert {order["shop"]["handle"] for order in listed["items"]} == {"acme", "bolt"}


async def test_checkout_needs_an_address_and_validates_an_inline_one(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller()
    jane: Buyer = await buyer("jane", with_address=False)
    response = await place(jane.client, (shop.variant_id, 1), expected_total=3000)
    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0]["field"] == "address"
    bad = await jane.client.post(
        f"{API}/checkout/quote",
        json={
            "items": [{"variant_id": str(shop.variant_id), "quantity": 1}],
            "address": {
                "name": "Jane",
                "line1": "1 Main St",
                "city": "Austin",
                "region": "XX",
                "postal_code": "123",
                "country": "US",
            },
        },
    )
    problem = assert_problem(bad, 422, "validation_failed")
    fields = {error["field"] for error in problem["errors"]}
    assert {"region", "postal_code"} <= fields
    inline = {
        "name": "Jane",
        "line1": "1 Main St",
        "city": "Austin",
        "region": "TX",
        "postal_code": "73301",
        "country": "US",
    }
    placed = await place(jane.client, (shop.variant_id, 1), address=inline)
    assert placed.status_code == 201, placed.text
    order = await order_row(placed.json()["orders"][0]["id"])
    assert order.ship_to["region"] == "TX"
    assert await count(OrderEvent) == 1


async def test_a_retried_place_replays_even_after_the_last_unit_went(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=1)
    jane = await buyer("jane")
    first = await place(jane.client, (shop.variant_id, 1), key="last-one")
    assert first.status_code == 201, first.text
    assert await stock_of(shop.variant_id) == 0
    again = await place(
        jane.client,
        (shop.variant_id, 1),
        key="last-one",
        expected_total=first.json()["total"]["amount"],
    )
    assert again.status_code == 201 and again.json() == first.json()
    late = await place(jane.client, (shop.variant_id, 1), key="late", expected_total=1)
    problem = assert_problem(late, 409, "sold_out")
    assert problem["detail"] == "Glow Serum is sold out."


async def test_placing_and_paying_takes_a_bounded_number_of_statements(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    """No N+1: three lines from three products cost a few statements more than one line."""
    from sqlalchemy import event

    from clipcart.core.db import get_engine
    from tests.commerce_factories import create_product

    shop = await seller(stock=50)
    second = await create_product(shop, title="Second", sku_prefix="SEC", stock=50)
    third = await create_product(shop, title="Third", sku_prefix="THI", stock=50)
    jane = await buyer("jane")
    statements: list[str] = []

    def count_statement(*args: Any) -> None:
        statements.append(args[2])

    async def measure(*lines: tuple[uuid.UUID, int]) -> tuple[int, int]:
        expected = (await quote(jane.client, *lines))["grand_total"]["amount"]
        statements.clear()
        placed = await place(jane.client, *lines, expected_total=expected)
        assert placed.status_code == 201, placed.text
        placing = len(statements)
        statements.clear()
        paid = await pay(jane.client, placed.json()["checkout_id"])
        assert paid.json()["all_paid"] is True
        return placing, len(statements)

    engine = get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        one = await measure((shop.variant_id, 1))
        three = await measure(
            (shop.variant_id, 1),
            (uuid.UUID(second["variants"][0]["id"]), 1),
            (uuid.UUID(third["variants"][0]["id"]), 1),
        )
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    # per extra line: a reservation UPDATE + movement + reservation row and an attribution read
    assert three[0] - one[0] <= 2 * 5
    assert three[1] == one[1]  # one payment per order, whatever the lines
    # paying includes the sandbox provider's, the ledger's and the notifications' statements
    assert one[0] <= 35 and one[1] <= 70
