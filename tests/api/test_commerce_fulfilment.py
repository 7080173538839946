"""After payment, through the API: shipping (one and in bulk), delivery, completion with the
escrow released, cancellation (with its refund), the shop's order list and CSV, notifications.

The helpers at the top are shared by test_commerce_returns and test_commerce_jobs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clipcart.catalog.models import Variant
from clipcart.commerce import tasks
from clipcart.commerce.config import get_commerce_settings
from clipcart.commerce.models import Order, OrderLine
from clipcart.core import clock
from clipcart.core.clock import FrozenClock
from clipcart.core.db import get_sessionmaker
from clipcart.ledger import service as ledger
from clipcart.ledger.models import LedgerTransfer
from clipcart.notifications.models import Notification
from clipcart.payments.models import PaymentIntent
from tests.api.test_accounts_auth import API, assert_problem, new_client
from tests.api.test_accounts_tokens import bearer, create_token
from tests.api.test_notifications import smtp_server
from tests.commerce_factories import (
    Buyer,
    BuyerMaker,
    Seller,
    SellerMaker,
    buyer,
    commerce_sandbox,
    place,
    place_paid_order,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "seller", "smtp_server"]  # fixtures used here

TRACKING = "1Z999AA10123456784"


# --- shared helpers ----------------------------------------------------------------------


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    """A clock the test moves (move it back before using a login again: sessions expire)."""
    with clock.frozen_at(clock.now()) as moved:
        yield moved


async def order_row(order_id: str | uuid.UUID) -> Order:
    """The order as stored."""
    async with get_sessionmaker()() as session:
        order = await session.get(Order, uuid.UUID(str(order_id)))
        assert order is not None
        return order


async def order_lines(order_id: str | uuid.UUID) -> list[OrderLine]:
    """The order's lines as stored."""
    async with get_sessionmaker()() as session:
        rows = await session.scalars(
            select(OrderLine).where(OrderLine.order_id == uuid.UUID(str(order_id)))
        )
        return list(rows)


async def stock_of(variant_id: uuid.UUID) -> int:
    """What is left to sell of a variant."""
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(Variant.stock).where(Variant.id == variant_id)) or 0)


async def intent_of(order_id: str | uuid.UUID) -> PaymentIntent:
    """The order's payment intent."""
    order = await order_row(order_id)
    async with get_sessionmaker()() as session:
        intent = await session.get(PaymentIntent, order.payment_intent_id)
        assert intent is not None
        return intent


async def ledger_refunds(order_id: str | uuid.UUID) -> list[LedgerTransfer]:
    """The ledger's refund transfers for the order."""
    async with get_sessionmaker()() as session:
        rows = await session.scalars(
            select(LedgerTransfer).where(
                LedgerTransfer.reference == f"order:{order_id}",
                LedgerTransfer.kind == "order_refund",
            )
        )
        return list(rows)


async def is_released(order_id: str | uuid.UUID) -> bool:
    """Whether the order's escrow went to the seller."""
    async with get_sessionmaker()() as session:
        return await ledger.is_released(f"order:{order_id}", session=session)


async def notifications_of(user_id: uuid.UUID) -> list[Notification]:
    """The user's notifications, oldest first."""
    async with get_sessionmaker()() as session:
        rows = await session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at, Notification.id)
        )
        return list(rows)


async def ship(
    shop: Seller, order_id: str, *, carrier: str = "ups", tracking: str = TRACKING
) -> httpx.Response:
    """The seller ships the order."""
    return await shop.client.post(
        f"{API}/shops/{shop.shop_handle}/orders/{order_id}/ship",
        json={"carrier": carrier, "tracking_number": tracking},
    )


async def delivered_order(shop: Seller, jane: Buyer, quantity: int = 1) -> dict[str, Any]:
    """A paid order the seller shipped and the buyer confirmed (GET /orders/{id} shape)."""
    order = await place_paid_order(shop, jane, quantity)
    assert (await ship(shop, order["id"])).status_code == 200
    confirmed = await jane.client.post(f"{API}/orders/{order['id']}/confirm-delivery")
    assert confirmed.status_code == 200, confirmed.text
    data: dict[str, Any] = confirmed.json()
    return data


def later(frozen: FrozenClock, **delta: float) -> None:
    """Move the clock forward."""
    frozen.advance(timedelta(**delta))


# --- shipping ----------------------------------------------------------------------------


async def test_paid_shipped_delivered_completed_releases_the_escrow(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(price=2500, stock=5)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane, 2)
    assert not await is_released(order["id"])

    shipped = await ship(shop, order["id"], carrier="ups", tracking="1z 999aa1-0123456784")
    assert shipped.status_code == 200, shipped.text
    body = shipped.json()
    assert body["status"] == "shipped"
    assert body["tracking"] == {"carrier": "ups", "tracking_number": TRACKING}
    assert body["timeline"][-1]["note"] == f"UPS {TRACKING}"

    confirmed = await jane.client.post(f"{API}/orders/{order['id']}/confirm-delivery")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "delivered"
    assert [event["to_status"] for event in confirmed.json()["timeline"]] == [
        "pending_payment", "paid", "shipped", "delivered",
    ]  # fmt: skip

    window = get_commerce_settings().return_window_days
    later(frozen, days=window - 1)
    assert await tasks.complete_orders() == 0  # the return window is still open
    later(frozen, days=1, seconds=1)
    assert await tasks.complete_orders() == 1
    stored = await order_row(order["id"])
    assert stored.status == "completed" and stored.completed_at is not None
    assert await is_released(order["id"])
    assert await tasks.complete_orders() == 0  # done once
    async with get_sessionmaker()() as session:
        assert await ledger.verify_ledger(session=session) == []


async def test_shipping_failures(seller: SellerMaker, buyer: BuyerMaker) -> None:
    shop = await seller(price=2500, stock=5)
    other = await seller("oscar", "other")
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)

    bad = await ship(shop, order["id"], tracking="12-3")
    assert_problem(bad, 422, "validation_failed")
    assert bad.json()["errors"][0]["field"] == "tracking_number"
    bad = await ship(shop, order["id"], carrier="pigeon")
    assert bad.json()["errors"][0]["field"] == "carrier"
    # another shop's staff: not found, through their shop or this one
    other_shop = await other.client.post(
        f"{API}/shops/{other.shop_handle}/orders/{order['id']}/ship",
        json={"carrier": "ups", "tracking_number": TRACKING},
    )
    assert_problem(other_shop, 404, "order_not_found")
    assert_problem(
        await other.client.post(
            f"{API}/shops/{shop.shop_handle}/orders/{order['id']}/ship",
            json={"carrier": "ups", "tracking_number": TRACKING},
        ),
        404,
        "shop_not_found",
    )
    assert_problem(
        await jane.client.post(
            f"{API}/shops/{shop.shop_handle}/orders/{order['id']}/ship",
            json={"carrier": "ups", "tracking_number": TRACKING},
        ),
        404,
        "shop_not_found",
    )
    assert (await order_row(order["id"])).status == "paid"

    assert (await ship(shop, order["id"])).status_code == 200
    assert_problem(await ship(shop, order["id"]), 409, "order_wrong_state")
    # an unpaid order cannot ship
    placed = await place(jane.client, (shop.variant_id, 1))
    unpaid = placed.json()["orders"][0]["id"]
    assert_problem(await ship(shop, unpaid), 409, "order_wrong_state")


async def test_a_program_ships_with_an_orders_write_token(
    seller: SellerMaker, buyer: BuyerMaker, app: Any
) -> None:
    shop = await seller(price=1000, stock=5)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    reader = await create_token(shop.client, ["orders:read"])
    writer = await create_token(shop.client, ["orders:write"])
    body = {"carrier": "ups", "tracking_number": TRACKING}
    async with new_client(app) as program:
        listed = await program.get(
            f"{API}/shops/{shop.shop_handle}/orders", headers=bearer(reader["token"])
        )
        assert [item["id"] for item in listed.json()["items"]] == [order["id"]]
        url = f"{API}/shops/{shop.shop_handle}/orders/{order['id']}/ship"
        refused = await program.post(url, json=body, headers=bearer(reader["token"]))
        assert_problem(refused, 403, "insufficient_scope")
        shipped = await program.post(url, json=body, headers=bearer(writer["token"]))
        assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
        carriers = (await program.get(f"{API}/carriers")).json()
        assert {"code": "ups", "name": "UPS"} in carriers and carriers[-1]["code"] == "other"
        reasons = (await program.get(f"{API}/return-reasons")).json()
        assert {"code": "damaged", "label": "It arrived damaged"} in reasons


async def test_bulk_shipping_answers_each_order(seller: SellerMaker, buyer: BuyerMaker) -> None:
    shop = await seller(price=1000, stock=10)
    jane = await buyer("jane")
    first = await place_paid_order(shop, jane)
    second = await place_paid_order(shop, jane)
    third = await place_paid_order(shop, jane)
    unknown = uuid.uuid4()
    response = await shop.client.post(
        f"{API}/shops/{shop.shop_handle}/orders/ship",
        json={
            "shipments": [
                {"order_id": first["id"], "carrier": "dhl", "tracking_number": "JD0146000012"},
                {"order_id": second["id"], "carrier": "dhl", "tracking_number": "x"},
                {"order_id": str(unknown), "carrier": "dhl", "tracking_number": "JD0146000099"},
                {"order_id": third["id"], "carrier": "other", "tracking_number": "ABC123456"},
                {"order_id": first["id"], "carrier": "dhl", "tracking_number": "JD0146000012"},
            ]
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["shipped"], body["failed"]) == (2, 3)
    results = body["results"]
    assert results[0] == {
        "order_id": first["id"], "ok": True, "status": "shipped", "code": None, "message": None,
    }  # fmt: skip
    assert results[1]["ok"] is False and results[1]["code"] == "validation_failed"
    assert "6 to 40 letters and digits" in results[1]["message"]
    assert results[2]["code"] == "order_not_found"
    assert results[3]["ok"] is True
    assert results[4]["code"] == "duplicate"
    assert (await order_row(first["id"])).tracking_number == "JD0146000012"
    assert (await order_row(second["id"])).status == "paid"
    assert (await order_row(third["id"])).status == "shipped"


async def test_confirm_delivery_failures_and_automatic_delivery(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(price=1000, stock=10)
    jane, john = await buyer("jane"), await buyer("john")
    order = await place_paid_order(shop, jane)
    url = f"{API}/orders/{order['id']}/confirm-delivery"
    assert_problem(await jane.client.post(url), 409, "order_wrong_state")  # not shipped yet
    await ship(shop, order["id"])
    assert_problem(await john.client.post(url), 404, "order_not_found")
    assert_problem(await shop.client.post(url), 403, "buyer_only")

    days = get_commerce_settings().delivery_auto_confirm_days
    later(frozen, days=days - 1)
    assert await tasks.deliver_shipped_orders() == 0
    later(frozen, days=1)
    assert await tasks.deliver_shipped_orders() == 1
    stored = await order_row(order["id"])
    assert stored.status == "delivered"
    assert await tasks.deliver_shipped_orders() == 0


# --- cancelling --------------------------------------------------------------------------
