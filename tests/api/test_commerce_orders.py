"""Orders through the API: the buyer's list and detail, who may read an order, the lifecycle
choke point (record_transition) and each line's attribution."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from clipcart.commerce import domain, orders
from clipcart.commerce.models import Order, OrderLine
from clipcart.core import clock
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.core.errors import Conflict, ValidationFailed
from clipcart.media.models import Video
from tests.api.test_accounts_auth import API, assert_problem
from tests.api.test_events import event
from tests.commerce_factories import (
    BuyerMaker,
    SellerMaker,
    add_to_cart,
    buyer,
    commerce_sandbox,
    place,
    place_and_pay,
    place_paid_order,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "seller"]  # fixtures used here


async def make_video(owner_id: uuid.UUID) -> uuid.UUID:
    async with unit_of_work() as session:
        video = Video(
            owner_id=owner_id,
            status="ready",
            visibility="public",
            caption="look",
            duration_seconds=2.0,
            ready_at=clock.now(),
        )
        session.add(video)
        await session.flush()
        return video.id


async def lines_of(order_id: str) -> list[OrderLine]:
    async with get_sessionmaker()() as session:
        return list(
            await session.scalars(
                select(OrderLine).where(OrderLine.order_id == uuid.UUID(order_id))
            )
        )


async def test_the_buyer_lists_orders_newest_first_a_page_at_a_time(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=20)
    jane = await buyer("jane")
    numbers = []
    for _ in range(3):
        [order] = await place_and_pay(jane, (shop.variant_id, 1))
        numbers.append(order["number"])
    first = (await jane.client.get(f"{API}/orders", params={"limit": 2})).json()
    assert [order["number"] for order in first["items"]] == numbers[::-1][:2]
    assert first["items"][0]["status_label"] == "Paid"
    assert first["items"][0]["item_count"] == 1
    assert first["items"][0]["first_item_title"] == "Glow Serum"
    rest = (
        await jane.client.get(f"{API}/orders", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [order["number"] for order in rest["items"]] == numbers[:1]
    assert rest["next_cursor"] is None


async def test_order_detail_shows_lines_totals_ship_to_timeline_and_payment(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=1999, stock=5, shipping_flat_rate=450)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane, 2)
    assert order["subtotal"]["amount"] == 3998
    assert order["shipping"]["amount"] == 450
    assert order["total"]["amount"] == 4448
    assert order["ship_to"]["line1"] == "1 Market St"
    assert order["lines"][0]["unit_price"]["formatted"] == "$19.99"
    assert order["lines"][0]["variant_title"] == "Size 1"
    assert order["lines"][0]["sku"] == "ACME-1"
    assert [(step["from_status"], step["to_status"]) for step in order["timeline"]] == [
        (None, "pending_payment"),
        ("pending_payment", "paid"),
    ]
    assert order["payment"]["status"] == "captured"
    assert order["tracking"] is None
    assert order["paid_at"] is not None


async def test_only_the_buyer_the_shop_and_admins_can_read_an_order(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=5)
    jane = await buyer("jane")
    sam = await buyer("sam")
    order = await place_paid_order(shop, jane)
    response = await sam.client.get(f"{API}/orders/{order['id']}")
    assert_problem(response, 404, "order_not_found")
    assert (await sam.client.get(f"{API}/orders")).json()["items"] == []
    assert (await shop.client.get(f"{API}/orders/{order['id']}")).status_code == 200
    missing = await jane.client.get(f"{API}/orders/{uuid.uuid4()}")
    assert_problem(missing, 404, "order_not_found")
    other_checkout = await sam.client.post(
        f"{API}/checkout/{order['checkout_id']}/pay", json={}, headers={"Idempotency-Key": "k1"}
    )
    assert_problem(other_checkout, 404, "checkout_not_found")


async def test_record_transition_is_the_only_way_and_refuses_illegal_moves(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=5)
    jane = await buyer("jane")
    placed = await place_paid_order(shop, jane)
    seen: list[tuple[str, str]] = []

    async def listener(order: Order, from_status: str, to_status: str, *, session: Any) -> None:
        seen.append((from_status, to_status))

    orders.on_transition(listener)
    orders.on_transition(listener)  # once only
    try:
        async with unit_of_work() as session:
            order = await orders.get_order(uuid.UUID(placed["id"]), session=session, lock=True)
            with pytest.raises(Conflict) as refused:
                await orders.record_transition(
                    order, domain.DELIVERED, actor_id=None, note="", session=session
                )
            assert refused.value.code == "order_wrong_state"
            await orders.record_transition(
                order, domain.SHIPPED, actor_id=shop.id, note="UPS 1Z999", session=session
            )
            assert order.shipped_at is not None and order.shipped_at == order.updated_at
    finally:
        orders._transition_listeners.remove(listener)
    assert seen == [(domain.PAID, domain.SHIPPED)]
    detail = (await jane.client.get(f"{API}/orders/{placed['id']}")).json()
    assert detail["status"] == "shipped"
    assert detail["timeline"][-1]["note"] == "UPS 1Z999"
    assert detail["timeline"][-1]["actor_id"] == str(shop.id)


async def test_a_line_remembers_the_video_it_was_bought_from(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=5)
    creator = await buyer("creator", card=None, with_address=False)
    jane = await buyer("jane")
    video_id = await make_video(creator.id)
    await add_to_cart(jane.client, shop.variant_id, 1, video_id=str(video_id))
    placed = await place(jane.client)
    assert placed.status_code == 201, placed.text
    [line] = await lines_of(placed.json()["orders"][0]["id"])
    assert line.source_kind == "video"
    assert line.source_video_id == video_id
    assert line.source_creator_id == creator.id


async def test_without_a_source_the_last_touch_in_the_events_counts(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=5)
    creator = await buyer("creator", card=None, with_address=False)
    jane = await buyer("jane")
    video_id = await make_video(creator.id)
    sent = await jane.client.post(
        f"{API}/events",
        json={
            "events": [
                event("chip_tap", product_id=str(shop.product_id), video_id=str(video_id)),
            ]
        },
    )
    assert sent.status_code == 200, sent.text
    [order] = await place_and_pay(jane, (shop.variant_id, 1))
    assert order["lines"][0]["source_kind"] == "video"
    assert order["lines"][0]["source_video_id"] == str(video_id)
    assert order["lines"][0]["source_creator_id"] == str(creator.id)
    [line] = await lines_of(order["id"])
    assert line.source_event_id is not None
    # another buyer with no touch buys "direct"; an unknown video claimed is not credited
    sam = await buyer("sam")
    body = {
        "items": [
            {
                "variant_id": str(shop.variant_id),
                "quantity": 1,
                "source": {"video_id": str(uuid.uuid4())},
            }
        ],
    }
    quoted = await sam.client.post(f"{API}/checkout/quote", json=body)
    body["expected_total"] = quoted.json()["grand_total"]["amount"]
    placed = await sam.client.post(
        f"{API}/checkout", json=body, headers={"Idempotency-Key": "sam-1"}
    )
    assert placed.status_code == 201, placed.text
    [line] = await lines_of(placed.json()["orders"][0]["id"])
    assert line.source_kind == "direct" and line.source_creator_id is None


async def test_a_share_link_credits_the_person_who_shared_it(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=5)
    creator = await buyer("creator", card=None, with_address=False)
    fan = await buyer("fan", card=None, with_address=False)
    jane = await buyer("jane")
    video_id = await make_video(creator.id)
    shared = await fan.client.post(f"{API}/videos/{video_id}/shares", json={"channel": "link"})
    assert shared.status_code == 201, shared.text
    code = shared.json()["code"]
    await add_to_cart(jane.client, shop.variant_id, 1, share_code=code, video_id=str(video_id))
    [order] = await place_and_pay(jane)
    line = order["lines"][0]
    assert line["source_kind"] == "share"
    assert line["source_creator_id"] == str(fan.id)
    assert line["source_video_id"] == str(video_id)
    # an unknown code credits nobody
    await add_to_cart(jane.client, shop.variant_id, 1, share_code="nosuchcode")
    [order] = await place_and_pay(jane)
    assert order["lines"][0]["source_kind"] == "direct"


async def test_refund_order_amount_refunds_once_per_key(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    from clipcart.commerce import payment
    from clipcart.core.money import Money
    from clipcart.payments.models import PaymentIntent, PaymentRefund

    shop = await seller(price=2000, stock=5, shipping_flat_rate=0, free_shipping_threshold=None)
    jane = await buyer("jane")
    placed = await place_paid_order(shop, jane, 2)
    async with get_sessionmaker()() as session:
        order = await orders.get_order(uuid.UUID(placed["id"]), session=session)
    first = await payment.refund_order_amount(
        order, Money(1500, "USD"), key=f"return:{uuid.uuid4()}", actor=None
    )
    key = "return:fixed"
    again = [
        await payment.refund_order_amount(order, Money(1000, "USD"), key=key, actor=None)
        for _ in range(2)
    ]
    assert again[0] == again[1] != first
    async with get_sessionmaker()() as session:
        intent = await session.get(PaymentIntent, order.payment_intent_id)
        assert intent is not None
        assert (intent.status, intent.amount_refunded) == ("partially_refunded", 2500)
        refunds = list(await session.scalars(select(PaymentRefund)))
        assert len(refunds) == 2
    with pytest.raises(ValidationFailed) as too_much:
        await payment.refund_order_amount(order, Money(2000, "USD"), key="more", actor=None)
    assert too_much.value.message.startswith("Refund between")
