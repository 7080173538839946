"""Payment jobs for orders: capture an authorisation that arrived by webhook; call off the
payment of an order cancelled before it was paid (void it, or refund a late capture)."""

from __future__ import annotations

import uuid

import clipcart.commerce.payment  # noqa: F401  (registers the payments listener)
from clipcart.core.jobs import huey, run_async


async def _capture(order_id: str) -> bool:
    from clipcart.commerce.payment import capture_authorised_order

    return await capture_authorised_order(uuid.UUID(order_id))


async def _release_cancelled(order_id: str) -> bool:
    from clipcart.commerce.payment import release_cancelled_payment

    return await release_cancelled_payment(uuid.UUID(order_id))


capture_order_job = huey.task(retries=5, retry_delay=10, name="commerce.capture_order")(
    run_async(_capture)
)
release_cancelled_payment_job = huey.task(
    retries=5, retry_delay=30, name="commerce.release_cancelled_payment"
)(run_async(_release_cancelled))


async def enqueue_capture(order_id: uuid.UUID) -> None:
    """Queue the capture of a pending order's authorised payment (immediate mode: now)."""
    if huey.immediate:
        await _capture(str(order_id))
    else:
        capture_order_job(str(order_id))


async def enqueue_release_of_cancelled(order_id: uuid.UUID) -> None:
    """Queue calling off a cancelled order's payment (immediate mode: now)."""
    if huey.immediate:
        await _release_cancelled(str(order_id))
    else:
        release_cancelled_payment_job(str(order_id))
