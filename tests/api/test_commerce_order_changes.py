"""Orders after payment through the API: cancels by the buyer and the seller and their refunds,
the shop's order list and CSV, the notifications and emails, and concurrent cancels and
shipments on PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from clipcart.commerce import exporting, payment, tasks
from clipcart.commerce.models import StockReservation
from clipcart.core import clock
from clipcart.core.db import get_sessionmaker
from clipcart.core.money import Money
from clipcart.payments.provider import ProviderError
from tests.api.test_accounts_auth import API, assert_problem
from tests.api.test_commerce_fulfilment import (
    TRACKING,
    frozen,
    intent_of,
    ledger_refunds,
    notifications_of,
    order_lines,
    order_row,
    ship,
    stock_of,
)
from tests.api.test_notifications import Inbox, smtp_server
from tests.commerce_factories import (
    CARD_DECLINED,
    BuyerMaker,
    SellerMaker,
    buyer,
    commerce_sandbox,
    pay,
    place,
    place_paid_order,
    seller,
)
from tests.services import require_postgres

__all__ = ["buyer", "commerce_sandbox", "frozen", "seller", "smtp_server"]  # fixtures used here


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
    shipped_payload = mails[1].get_payload(decode=True)
    assert isinstance(shipped_payload, bytes)  # a single-part message
    shipped_text = shipped_payload.decode()
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
    payload = mails[1].get_payload(decode=True)
    assert isinstance(payload, bytes)  # a single-part message
    text = payload.decode()
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
