"""The sandbox's webhook delivery: a job per event after commit, retried with backoff, plus a
sweeper for anything left undelivered."""

from __future__ import annotations

import json
import logging

import httpx
from huey import crontab
from sqlalchemy import select

from clipcart.core import clock
from clipcart.core.config import get_settings
from clipcart.core.db import unit_of_work
from clipcart.core.jobs import huey, run_async
from clipcart.payments import signatures
from clipcart.payments.config import webhook_secret, webhook_url
from clipcart.payments.sandbox.models import SandboxEvent

log = logging.getLogger(__name__)

_transport: httpx.AsyncBaseTransport | None = None


def set_delivery_transport(transport: httpx.AsyncBaseTransport | None) -> None:
    """Send webhooks through `transport` (tests: the app in-process); None for real HTTP."""
    global _transport
    _transport = transport


class DeliveryFailed(Exception):
    """The merchant did not accept the webhook; the job retries."""


async def deliver_event(event_id: str) -> bool:
    """POST one signed event to the merchant's webhook URL; True once it was accepted."""
    async with unit_of_work() as session:
        event = await session.get(SandboxEvent, event_id)
        if event is None or event.delivered_at is not None:
            return True
        body = json.dumps(event.payload, separators=(",", ":")).encode()
    timestamp = int(clock.now().timestamp())
    headers = {
        "Content-Type": "application/json",
        signatures.SIGNATURE_HEADER: signatures.sign(webhook_secret(), timestamp, body),
    }
    error: str | None = None
    try:
        async with httpx.AsyncClient(transport=_transport, timeout=10.0) as client:
            response = await client.post(webhook_url(), content=body, headers=headers)
        if response.status_code >= 300:
            error = f"HTTP {response.status_code}: {response.text[:200]}"
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"[:300]
    async with unit_of_work() as session:
        event = await session.get(SandboxEvent, event_id)
        assert event is not None
        event.attempts += 1
        event.last_error = error
        if error is None:
            event.delivered_at = clock.now()
    if error is not None:
        log.warning("sandbox webhook not delivered", extra={"event": event_id, "error": error})
    return error is None


async def deliver_pending_events() -> int:
    """Deliver every undelivered event, oldest first; how many were accepted."""
    async with unit_of_work() as session:
        pending = list(
            await session.scalars(
                select(SandboxEvent.id)
                .where(SandboxEvent.delivered_at.is_(None))
                .order_by(SandboxEvent.created_at, SandboxEvent.id)
            )
        )
    return sum([await deliver_event(event_id) for event_id in pending])


async def _deliver_or_retry(event_id: str) -> None:
    if not await deliver_event(event_id):
        raise DeliveryFailed(event_id)


deliver_event_job = huey.task(retries=8, retry_delay=30, name="payments.sandbox.deliver_event")(
    run_async(_deliver_or_retry)
)

deliver_pending_job = huey.periodic_task(
    crontab(minute="*/5"), name="payments.sandbox.deliver_pending"
)(run_async(deliver_pending_events))


def schedule_delivery(event_id: str) -> None:
    """Queue the delivery of `event_id` a moment from now (a webhook is asynchronous)."""
    delay = get_settings().payments_sandbox_webhook_delay_seconds
    deliver_event_job.schedule(args=(event_id,), delay=delay)
