"""Settling payments from the provider's side: signed webhooks and the reconciliation job."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import clock
from clipcart.core.db import dialect_insert, unit_of_work
from clipcart.core.errors import BadRequest, NotFound
from clipcart.payments import domain
from clipcart.payments.models import PaymentIntent, PaymentRefund, ProcessedProviderEvent
from clipcart.payments.provider import (
    ChargeSnapshot,
    ProviderError,
    ProviderTimeout,
    WebhookRejected,
)
from clipcart.payments.service import (
    apply_charge,
    get_provider,
    lock_intent,
    refund_key,
    settle_from_charge,
)

log = logging.getLogger(__name__)

# A provider call from these states may have acted without our hearing the answer.
_ANSWER_MAY_BE_LOST = (domain.PROCESSING, domain.REQUIRES_ACTION, domain.AUTHORISED)

KNOWN_EVENTS = frozenset(
    {
        "charge.requires_action",
        "charge.authorised",
        "charge.captured",
        "charge.failed",
        "charge.voided",
        "charge.refunded",
    }
)


async def reconcile_processing_intents(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Ask the provider about payments whose answer may have been lost: intents left
    `processing` (authorisation), `authorised` (a capture may have happened) and refunds left
    pending. How many intents changed."""
    cutoff = clock.now() - older_than
    async with unit_of_work() as session:
        refunding = select(PaymentRefund.intent_id).where(
            PaymentRefund.status == "pending", PaymentRefund.created_at <= cutoff
        )
        rows = await session.execute(
            select(PaymentIntent.id, PaymentIntent.provider_key)
            .where(
                or_(
                    and_(
                        PaymentIntent.status.in_(_ANSWER_MAY_BE_LOST),
                        PaymentIntent.updated_at <= cutoff,
                    ),
                    PaymentIntent.id.in_(refunding),
                )
            )
            .order_by(PaymentIntent.updated_at, PaymentIntent.id)
        )
        waiting = [(row[0], row[1]) for row in rows]
    settled = 0
    provider = get_provider()
    for intent_id, key in waiting:
        try:
            charge = await provider.find_charge(idempotency_key=key)
        except (ProviderTimeout, ProviderError):
            log.warning("reconciliation could not reach the provider", extra={"key": key})
            continue
        if charge is None:
            continue  # not at the provider (yet): a later run or the payer's retry settles it
        changed = await settle_from_charge(intent_id, charge, "reconciled with the provider")
        changed = await fail_refunds_the_provider_never_made(intent_id, charge, cutoff) or changed
        settled += changed
    return settled


async def fail_refunds_the_provider_never_made(
    intent_id: uuid.UUID, charge: ChargeSnapshot, cutoff: datetime
) -> bool:
    """Refunds still pending that the provider does not know (the call never reached it) are
    failed, so their amount may be refunded again; whether any was."""
    known = {item.idempotency_key for item in charge.refunds}
    if None in known:
        return False  # the provider does not say which refund is whose: leave it to a person
    async with unit_of_work() as session:
        intent = await lock_intent(intent_id, session)
        pending = await session.scalars(
            select(PaymentRefund).where(
                PaymentRefund.intent_id == intent_id,
                PaymentRefund.status == "pending",
                PaymentRefund.created_at <= cutoff,
            )
        )
        failed = False
        for refund in pending:
            if refund_key(intent.provider_key, refund.id) not in known:
                refund.status = "failed"
                failed = True
        return failed


async def handle_webhook(
    provider_name: str, body: bytes, headers: Mapping[str, str], *, session: AsyncSession
) -> str:
    """Verify, de-duplicate and apply a provider webhook; what happened ("applied",
    "duplicate", "ignored"). A bad signature or stale timestamp is a 400 and changes nothing."""
    provider = get_provider()
    if provider.name != provider_name:
        raise NotFound("No such payment provider.")
    try:
        event = provider.parse_webhook(body, headers)
    except WebhookRejected as error:
        raise BadRequest(f"Webhook rejected: {error}.", code="invalid_webhook") from error
    known = event.type in KNOWN_EVENTS and event.charge is not None
    outcome = "applied" if known else "ignored"
    inserted = await session.execute(
        dialect_insert(session, ProcessedProviderEvent)
        .values(
            provider=provider_name,
            event_id=event.id,
            type=event.type[:64],
            outcome=outcome,
            received_at=clock.now(),
        )
        .on_conflict_do_nothing()
        .returning(ProcessedProviderEvent.event_id)
    )
    if inserted.first() is None:
        return "duplicate"
    if not known or event.charge is None:
        log.info("ignored provider event", extra={"event": event.id, "type": event.type})
        return outcome
    intent = await session.scalar(
        select(PaymentIntent)
        .where(PaymentIntent.provider_key == event.charge.reference)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if intent is None:
        log.warning("provider event for no intent", extra={"event": event.id})
        return "ignored"
    await apply_charge(
        intent,
        event.charge,
        reason=f"webhook {event.type}",
        provider_event_id=event.id,
        session=session,
    )
    return outcome
