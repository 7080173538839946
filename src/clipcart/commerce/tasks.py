"""Commerce periodic jobs, every minute: expire unpaid reservations, deliver orders shipped long
ago, complete orders whose return window is over (releasing the escrow), approve returns the
shop did not answer, finish refunds a crash interrupted; and every hour, each shop's fulfilment
score. Each order or return moves in its own
unit of work, so one failure stops nothing else and a rerun (or a second worker) changes
nothing already done. The plain async functions are what the tests call."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from huey import crontab

import clipcart.commerce.payment_tasks  # noqa: F401  (the capture and late-refund jobs)
from clipcart.commerce import cancelling, fulfilment, reservations, returns, shop_scores
from clipcart.core.db import unit_of_work
from clipcart.core.jobs import huey, run_async

log = logging.getLogger(__name__)

BATCH = 200
MAX_BATCHES = 50  # a run does at most this much; the next minute's run goes on


async def _each(
    name: str,
    find: Callable[..., Awaitable[list[uuid.UUID]]],
    step: Callable[[uuid.UUID], Awaitable[bool | int]],
) -> int:
    """Run `step` for every id `find` gives, a batch at a time; how many did something."""
    done = 0
    skipped: set[uuid.UUID] = set()
    for _ in range(MAX_BATCHES):
        async with unit_of_work() as session:
            found = await find(session=session, limit=BATCH + len(skipped))
        ids = [item_id for item_id in found if item_id not in skipped]
        if not ids:
            break
        for item_id in ids:
            try:
                if await step(item_id):
                    done += 1
                else:
                    skipped.add(item_id)  # no longer due: do not look at it again this run
            except Exception:
                log.exception("%s failed", name, extra={"id": str(item_id)})
                skipped.add(item_id)
    return done


def _in_unit_of_work(
    step: Callable[..., Awaitable[bool]],
) -> Callable[[uuid.UUID], Awaitable[bool]]:
    async def run(item_id: uuid.UUID) -> bool:
        async with unit_of_work() as session:
            return await step(item_id, session=session)

    return run


async def expire_reservations(limit: int = 500) -> int:
    """Cancel unpaid orders whose reservation ran out (stock, deal units, coupons back)."""
    expired = 0
    for _ in range(MAX_BATCHES):
        async with unit_of_work() as session:
            count = await reservations.expire_overdue_reservations(session=session, limit=limit)
        expired += count
        if count < limit:
            break
    return expired


async def deliver_shipped_orders() -> int:
    """Count orders shipped `delivery_auto_confirm_days` ago as delivered."""
    return await _each(
        "auto-delivery",
        fulfilment.orders_due_for_delivery,
        _in_unit_of_work(fulfilment.auto_deliver),
    )


async def complete_orders() -> int:
    """Complete delivered orders past their return window and release their escrow."""
    return await _each(
        "completion",
        fulfilment.orders_due_for_completion,
        _in_unit_of_work(fulfilment.complete_order),
    )


async def approve_unanswered_returns() -> int:
    """Approve return requests the shop did not answer by their deadline."""
    return await _each(
        "return auto-approval",
        returns.returns_due_for_approval,
        _in_unit_of_work(returns.auto_approve),
    )


async def finish_refunds() -> int:
    """Refund cancelled paid orders and received returns whose refund did not complete."""

    async def refund_order(order_id: uuid.UUID) -> bool:
        return await cancelling.refund_cancelled_order(order_id) > 0

    async def refund_return(return_id: uuid.UUID) -> bool:
        return await returns.refund_return(return_id) > 0

    orders_done = await _each("cancel refund", cancelling.orders_with_refund_due, refund_order)
    returns_done = await _each("return refund", returns.returns_with_refund_due, refund_return)
    return orders_done + returns_done


async def score_shops() -> int:
    """Refresh every shop's fulfilment score from its recent orders; how many changed."""
    async with unit_of_work() as session:
        return await shop_scores.refresh_shop_scores(session=session)


async def run_all() -> dict[str, int]:
    """Every commerce job once (the demo, tests and an operator's manual run)."""
    return {
        "expired": await expire_reservations(),
        "delivered": await deliver_shipped_orders(),
        "returns_approved": await approve_unanswered_returns(),
        "completed": await complete_orders(),
        "refunds_finished": await finish_refunds(),
        "shops_scored": await score_shops(),
    }


_every_minute = crontab(minute="*")
expire_reservations_job = huey.periodic_task(_every_minute, name="commerce.expire_reservations")(
    run_async(expire_reservations)
)
deliver_orders_job = huey.periodic_task(_every_minute, name="commerce.deliver_orders")(
    run_async(deliver_shipped_orders)
)
complete_orders_job = huey.periodic_task(_every_minute, name="commerce.complete_orders")(
    run_async(complete_orders)
)
approve_returns_job = huey.periodic_task(_every_minute, name="commerce.approve_returns")(
    run_async(approve_unanswered_returns)
)
finish_refunds_job = huey.periodic_task(_every_minute, name="commerce.finish_refunds")(
    run_async(finish_refunds)
)
score_shops_job = huey.periodic_task(crontab(minute="17"), name="commerce.score_shops")(
    run_async(score_shops)
)
