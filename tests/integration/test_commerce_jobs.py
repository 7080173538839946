"""The commerce periodic jobs with a moved clock: reservations expire, shipped orders are
delivered, delivered ones completed (escrow released), unanswered returns approved; each order
in its own unit of work, idempotent, and the Huey jobs registered for the consumer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import pytest

from clipcart.commerce import fulfilment, tasks
from clipcart.commerce.config import get_commerce_settings
from clipcart.commerce.models import ReturnRequest
from clipcart.core import jobs
from clipcart.core.clock import FrozenClock
from clipcart.core.db import get_sessionmaker
from tests.api.test_accounts_auth import API
from tests.api.test_commerce_fulfilment import (
    delivered_order,
    frozen,
    is_released,
    later,
    order_row,
    place_paid_order,
    ship,
    stock_of,
)
from tests.api.test_commerce_returns import ask_return
from tests.commerce_factories import BuyerMaker, SellerMaker, buyer, commerce_sandbox, place, seller

__all__ = ["buyer", "commerce_sandbox", "frozen", "seller"]  # fixtures used here


async def test_unpaid_orders_expire_and_give_their_stock_back(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(price=1000, stock=5)
    jane = await buyer("jane")
    placed = await place(jane.client, (shop.variant_id, 2))
    order_id = placed.json()["orders"][0]["id"]
    assert await stock_of(shop.variant_id) == 3
    later(frozen, minutes=get_commerce_settings().reservation_minutes - 1)
    assert await tasks.expire_reservations() == 0
    later(frozen, minutes=1, seconds=1)
    assert await tasks.expire_reservations() == 1
    stored = await order_row(order_id)
    assert stored.status == "cancelled" and "reservation expired" in stored.cancel_reason
    assert await stock_of(shop.variant_id) == 5
    assert await tasks.expire_reservations() == 0


async def test_every_due_order_moves_in_batches_and_once(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = await seller(price=1000, stock=50)
    jane = await buyer("jane")
    orders = [await place_paid_order(shop, jane) for _ in range(5)]
    for order in orders:
        assert (await ship(shop, order["id"])).status_code == 200
    monkeypatch.setattr(tasks, "BATCH", 2)  # several batches
    later(frozen, days=get_commerce_settings().delivery_auto_confirm_days, seconds=1)
    assert await tasks.deliver_shipped_orders() == 5
    assert await tasks.deliver_shipped_orders() == 0
    assert {(await order_row(order["id"])).status for order in orders} == {"delivered"}

    # one order failing does not stop the others; it is tried again on the next run
    broken = uuid.UUID(orders[2]["id"])
    real_complete = fulfilment.complete_order

    async def flaky(order_id: uuid.UUID, *, session: Any) -> bool:
        if order_id == broken:
            raise RuntimeError("the database went away")
        return await real_complete(order_id, session=session)

    monkeypatch.setattr(fulfilment, "complete_order", flaky)
    later(frozen, days=get_commerce_settings().return_window_days, seconds=1)
    assert await tasks.complete_orders() == 4
    assert (await order_row(broken)).status == "delivered"
    assert not await is_released(broken)
    monkeypatch.setattr(fulfilment, "complete_order", real_complete)
    assert await tasks.complete_orders() == 1
    for order in orders:
        assert (await order_row(order["id"])).status == "completed"
        assert await is_released(order["id"])


async def test_run_all_moves_each_kind_of_work(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(price=1000, stock=50)
    jane = await buyer("jane")
    unpaid = (await place(jane.client, (shop.variant_id, 1))).json()["orders"][0]["id"]
    shipped = await place_paid_order(shop, jane)
    await ship(shop, shipped["id"])
    returning = await delivered_order(shop, jane, 1)
    request = (await ask_return(jane, returning["id"], [(returning["lines"][0]["id"], 1)])).json()
    later(frozen, days=get_commerce_settings().delivery_auto_confirm_days, seconds=1)
    done = await tasks.run_all()
    assert done == {
        "expired": 1,
        "delivered": 1,
        "returns_approved": 1,
        "completed": 0,  # the shipped one was delivered just now; the other has a return open
        "refunds_finished": 0,
        "shops_scored": 1,  # two orders due now: too few for a score, but counted
    }
    assert (await order_row(unpaid)).status == "cancelled"
    assert (await order_row(shipped["id"])).status == "delivered"
    async with get_sessionmaker()() as session:
        stored = await session.get(ReturnRequest, uuid.UUID(request["id"]))
        assert stored is not None and stored.status == "approved"
    assert await tasks.run_all() == dict.fromkeys(done, 0)


async def test_the_huey_jobs_run_their_functions_off_the_event_loop(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(price=1000, stock=5)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    await ship(shop, order["id"])
    later(frozen, days=get_commerce_settings().delivery_auto_confirm_days, seconds=1)
    moved = await asyncio.to_thread(tasks.deliver_orders_job.call_local)
    assert moved == 1
    assert (await order_row(order["id"])).status == "delivered"


def test_the_consumer_knows_the_commerce_and_notification_jobs() -> None:
    jobs.load_task_modules()
    registered = set(jobs.huey._registry._registry)
    periodic = {
        "clipcart.commerce.tasks.commerce.expire_reservations",
        "clipcart.commerce.tasks.commerce.deliver_orders",
        "clipcart.commerce.tasks.commerce.complete_orders",
        "clipcart.commerce.tasks.commerce.approve_returns",
        "clipcart.commerce.tasks.commerce.finish_refunds",
        "clipcart.commerce.tasks.commerce.score_shops",
    }
    assert (
        periodic
        | {
            "clipcart.commerce.payment_tasks.commerce.capture_order",
            "clipcart.notifications.tasks.notifications.send_email",
        }
        <= registered
    )
    scheduled = {
        task.name: task
        for task in jobs.huey._registry.periodic_tasks
        if task.name.startswith("commerce.")
    }
    assert set(scheduled) == {
        name.rsplit(".", 2)[-2] + "." + name.rsplit(".", 1)[-1] for name in periodic
    }
    any_minute = datetime(2026, 11, 24, 10, 7)  # huey compares naive times
    hourly = {"commerce.score_shops"}
    assert all(
        task.validate_datetime(any_minute) for name, task in scheduled.items() if name not in hourly
    )
    score_shops = scheduled["commerce.score_shops"]
    runs = [datetime(2026, 11, 24, 10, minute) for minute in range(60)]
    assert [run.minute for run in runs if score_shops.validate_datetime(run)] == [17]


async def test_a_buyer_confirmation_is_not_moved_again_by_the_job(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(price=1000, stock=5)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    await ship(shop, order["id"])
    confirmed = await jane.client.post(f"{API}/orders/{order['id']}/confirm-delivery")
    assert confirmed.status_code == 200
    later(frozen, days=get_commerce_settings().delivery_auto_confirm_days, seconds=1)
    assert await tasks.deliver_shipped_orders() == 0
    assert (await order_row(order["id"])).status == "delivered"
