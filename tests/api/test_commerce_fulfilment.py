"""After payment, through the API: shipping (one and in bulk), delivery, completion with the
escrow released, cancellation (with its refund), the shop's order list and CSV, notifications.

The helpers at the top are shared by test_commerce_returns and test_commerce_jobs."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from clipcart.catalog.models import Variant
from clipcart.commerce import exporting, payment, tasks
from clipcart.commerce.config import get_commerce_settings
from clipcart.commerce.models import Order, OrderLine, StockReservation
from clipcart.core import clock
from clipcart.core.clock import FrozenClock, set_clock
from clipcart.core.db import get_sessionmaker
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.ledger.models import LedgerTransfer
from clipcart.notifications.models import Notification
from clipcart.payments.models import PaymentIntent
from clipcart.payments.provider import ProviderError
from tests.api.test_accounts_auth import API, assert_problem, new_client
from tests.api.test_accounts_tokens import bearer, create_token
from tests.api.test_notifications import Inbox, smtp_server
from tests.commerce_factories import (
    CARD_DECLINED,
    Buyer,
    BuyerMaker,
    Seller,
    SellerMaker,
    buyer,
    commerce_sandbox,
    pay,
    place,
    place_paid_order,
    seller,
)
from tests.services import require_postgres

__all__ = ["buyer", "commerce_sandbox", "seller", "smtp_server"]  # fixtures used here

TRACKING = "1Z999AA10123456784"


# --- shared helpers ----------------------------------------------------------------------


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    """A clock the test moves (move it back before using a login again: sessions expire)."""
    moved = FrozenClock(clock.now())
    previous = set_clock(moved)
    yield moved
    set_clock(previous)


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


async def test_buyer_cancels_an_unpaid_order_and_the_stock_comes_back(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=1000, stock=5)
    jane = await buyer("jane")
    placed = await place(jane.client, (shop.variant_id, 2))
    order_id = placed.json()["orders"][0]["id"]
    assert await stock_of(shop.variant_id) == 3
    cancelled = await jane.client.post(
        f"{API}/orders/{order_id}/cancel", json={"reason": "Ordered the wrong size"}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Cancelled by the buyer: Ordered the wrong size"
    assert await stock_of(shop.variant_id) == 5
    assert (await intent_of(order_id)).status == "cancelled"
    # paying the cancelled checkout later takes nothing
    assert (await order_row(order_id)).refunded == 0


async def test_buyer_cancels_a_paid_order_refunded_once_even_when_retried(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500, stock=5)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane, 2)
    total = order["total"]["amount"]
    assert await stock_of(shop.variant_id) == 3

    cancelled = await jane.client.post(f"{API}/orders/{order['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["refunded"]["amount"] == total
    assert await stock_of(shop.variant_id) == 5
    intent = await intent_of(order["id"])
    assert intent.status == "refunded" and intent.amount_refunded == total
    [refund] = await ledger_refunds(order["id"])
    assert refund.total >= total
    assert all(line.refunded == line.total for line in await order_lines(order["id"]))

    retried = await jane.client.post(f"{API}/orders/{order['id']}/cancel")
    assert retried.status_code == 200 and retried.json()["status"] == "cancelled"
    assert len(await ledger_refunds(order["id"])) == 1
    assert (await intent_of(order["id"])).amount_refunded == total
    kinds = [n.kind for n in await notifications_of(jane.id)]
    assert kinds.count("order_refunded") == 1 and "order_cancelled" in kinds


async def test_a_refund_interrupted_after_the_cancel_is_finished_by_the_job(
    seller: SellerMaker, buyer: BuyerMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = await seller(price=2500, stock=5)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    real_refund = payment.refund_order_amount

    async def provider_down(*args: Any, **kwargs: Any) -> uuid.UUID:
        raise ProviderError("The payment provider failed.")

    monkeypatch.setattr(payment, "refund_order_amount", provider_down)
    cancelled = await shop.client.post(
        f"{API}/shops/{shop.shop_handle}/orders/{order['id']}/cancel",
        json={"reason": "Out of stock in the warehouse"},
    )
    assert cancelled.status_code == 200, cancelled.text
    stored = await order_row(order["id"])
    assert stored.status == "cancelled" and stored.refunded == 0  # never paid and cancelled
    assert stored.cancel_reason == "Cancelled by the shop: Out of stock in the warehouse"

    monkeypatch.setattr(payment, "refund_order_amount", real_refund)
    assert await tasks.finish_refunds() == 1
    assert (await order_row(order["id"])).refunded == stored.total
    assert (await intent_of(order["id"])).amount_refunded == stored.total
    assert await tasks.finish_refunds() == 0
    assert len(await ledger_refunds(order["id"])) == 1


async def test_seller_cancel_needs_a_reason_and_nothing_ships_twice(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500, stock=5)
    other = await seller("oscar", "other")
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    url = f"{API}/shops/{shop.shop_handle}/orders/{order['id']}/cancel"
    missing = await shop.client.post(url, json={})
    assert_problem(missing, 422, "validation_failed")
    assert missing.json()["errors"][0]["field"] == "reason"
    assert_problem(
        await other.client.post(
            f"{API}/shops/{other.shop_handle}/orders/{order['id']}/cancel",
            json={"reason": "Not mine"},
        ),
        404,
        "order_not_found",
    )
    await ship(shop, order["id"])
    assert_problem(
        await shop.client.post(url, json={"reason": "Too late"}), 409, "order_wrong_state"
    )
    assert_problem(
        await jane.client.post(f"{API}/orders/{order['id']}/cancel"), 409, "order_wrong_state"
    )
    assert (await order_row(order["id"])).status == "shipped"


# --- the shop's list and export ----------------------------------------------------------


async def test_shop_order_list_filters_and_csv(
    seller: SellerMaker, buyer: BuyerMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = await seller(price=1500, stock=20)
    jane, john = await buyer("jane"), await buyer("john")
    first = await place_paid_order(shop, jane, 2)
    second = await place_paid_order(shop, john)
    await ship(shop, second["id"])
    url = f"{API}/shops/{shop.shop_handle}/orders"

    everything = (await shop.client.get(url)).json()
    assert [item["id"] for item in everything["items"]] == [second["id"], first["id"]]
    assert everything["items"][1]["buyer_handle"] == "jane"
    assert everything["items"][1]["item_count"] == 2
    shipped = (await shop.client.get(url, params={"status": "shipped"})).json()["items"]
    assert [item["id"] for item in shipped] == [second["id"]]
    assert shipped[0]["tracking_number"] == TRACKING
    by_buyer = (await shop.client.get(url, params={"q": "@JANE"})).json()["items"]
    assert [item["id"] for item in by_buyer] == [first["id"]]
    by_number = (await shop.client.get(url, params={"q": first["number"].lower()})).json()
    assert [item["id"] for item in by_number["items"]] == [first["id"]]
    today = clock.now().date()
    dated = await shop.client.get(url, params={"from": str(today), "to": str(today)})
    assert len(dated.json()["items"]) == 2
    tomorrow = today + timedelta(days=1)
    assert (await shop.client.get(url, params={"from": str(tomorrow)})).json()["items"] == []
    page = (await shop.client.get(url, params={"limit": 1})).json()
    rest = (await shop.client.get(url, params={"cursor": page["next_cursor"]})).json()
    assert [item["id"] for item in page["items"] + rest["items"]] == [second["id"], first["id"]]
    assert_problem(await shop.client.get(url, params={"status": "lost"}), 422, "validation_failed")
    assert_problem(await jane.client.get(url), 404, "shop_not_found")

    exported = await shop.client.get(f"{url}.csv", params={"status": "paid"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "acme-orders.csv" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["number"] == first["number"] and row["buyer"] == "jane"
    assert row["lines"] == "2 x Glow Serum (Size 1) [ACME-1]"
    total = Money(first["total"]["amount"], "USD").to_decimal()
    assert row["subtotal"] == "30.00" and row["total"] == str(total)
    assert "San Francisco" in row["ship_to"]
    monkeypatch.setattr(exporting, "BATCH", 1)  # one order per batch: the stream goes on
    everything_csv = await shop.client.get(f"{url}.csv")
    numbers = [row["number"] for row in csv.DictReader(io.StringIO(everything_csv.text))]
    assert numbers == [first["number"], second["number"]]  # oldest first
    assert (await jane.client.get(f"{url}.csv")).status_code == 404


# --- notifications -----------------------------------------------------------------------


async def test_order_notifications_and_the_shipped_email(
    seller: SellerMaker, buyer: BuyerMaker, smtp_server: Inbox
) -> None:
    shop = await seller(price=2500, stock=5)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    await ship(shop, order["id"])
    await jane.client.post(f"{API}/orders/{order['id']}/confirm-delivery")

    mails = smtp_server.to("jane@example.com")
    subjects = [mail["Subject"] for mail in mails]
    number = order["number"]
    assert subjects == [
        f"Order {number} confirmed", f"Order {number} shipped", f"Order {number} delivered",
    ]  # fmt: skip
    shipped_text = mails[1].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert TRACKING in shipped_text and "UPS" in shipped_text
    assert f"/orders/{order['id']}" in shipped_text

    inbox = (await jane.client.get(f"{API}/notifications")).json()
    assert [item["kind"] for item in inbox["items"]] == [
        "order_delivered", "order_shipped", "order_confirmed",
    ]  # fmt: skip
    assert all(item["email_status"] == "sent" for item in inbox["items"])
    seller_inbox = (await shop.client.get(f"{API}/notifications")).json()["items"]
    assert [item["kind"] for item in seller_inbox] == ["order_new"]
    assert seller_inbox[0]["link"] == f"/seller/acme/orders/{order['id']}"
    assert smtp_server.to("olivia@example.com") == []  # the shop is told in the app only


async def test_the_refund_email_after_a_cancel(
    seller: SellerMaker, buyer: BuyerMaker, smtp_server: Inbox
) -> None:
    shop = await seller(price=2500, stock=5)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    await jane.client.post(f"{API}/orders/{order['id']}/cancel")
    mails = smtp_server.to("jane@example.com")
    assert [mail["Subject"] for mail in mails] == [
        f"Order {order['number']} confirmed",
        f"Refund for order {order['number']}",
    ]
    text = mails[1].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"We refunded {order['total']['formatted']} to your card." in text


async def test_a_declined_payment_tells_the_buyer_and_not_the_shop(
    seller: SellerMaker, buyer: BuyerMaker, smtp_server: Inbox
) -> None:
    shop = await seller(price=2500, stock=5)
    jane = await buyer("jane", card=CARD_DECLINED)
    placed = await place(jane.client, (shop.variant_id, 1))
    paid = await pay(jane.client, placed.json()["checkout_id"])
    assert paid.json()["orders"][0]["status"] == "cancelled"
    [notice] = await notifications_of(jane.id)
    assert notice.kind == "order_cancelled" and "declined" in notice.body
    assert await notifications_of(shop.id) == []
    assert smtp_server.messages == []


async def test_reservations_and_stock_add_up_after_a_cancel(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=1000, stock=4)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane, 3)
    await jane.client.post(f"{API}/orders/{order['id']}/cancel")
    async with get_sessionmaker()() as session:
        statuses = dict(
            (
                await session.execute(
                    select(StockReservation.status, func.sum(StockReservation.quantity))
                    .where(StockReservation.order_id == uuid.UUID(order["id"]))
                    .group_by(StockReservation.status)
                )
            ).all()
        )
    assert statuses == {"released": 3}
    assert await stock_of(shop.variant_id) == 4


# --- PostgreSQL races --------------------------------------------------------------------


@pytest.mark.postgres
async def test_concurrent_cancels_refund_once(seller: SellerMaker, buyer: BuyerMaker) -> None:
    require_postgres()
    shop = await seller(price=2500, stock=5)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane, 2)
    url = f"{API}/orders/{order['id']}/cancel"
    answers = await asyncio.gather(
        *(jane.client.post(url) for _ in range(4)),
        shop.client.post(
            f"{API}/shops/{shop.shop_handle}/orders/{order['id']}/cancel",
            json={"reason": "Damaged in the warehouse"},
        ),
    )
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    stored = await order_row(order["id"])
    assert stored.status == "cancelled" and stored.refunded == stored.total
    assert (await intent_of(order["id"])).amount_refunded == stored.total
    assert len(await ledger_refunds(order["id"])) == 1
    assert await stock_of(shop.variant_id) == 5


@pytest.mark.postgres
async def test_ship_and_cancel_at_once_one_wins(seller: SellerMaker, buyer: BuyerMaker) -> None:
    require_postgres()
    shop = await seller(price=2500, stock=5)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    shipped, cancelled = await asyncio.gather(
        ship(shop, order["id"]), jane.client.post(f"{API}/orders/{order['id']}/cancel")
    )
    assert sorted([shipped.status_code, cancelled.status_code]) == [200, 409]
    stored = await order_row(order["id"])
    if shipped.status_code == 200:
        assert stored.status == "shipped" and stored.refunded == 0
        assert await ledger_refunds(order["id"]) == []
    else:
        assert stored.status == "cancelled" and stored.refunded == stored.total
