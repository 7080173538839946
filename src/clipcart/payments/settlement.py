"""Settling an intent from what the provider says about its charge: captures post the ledger
hold and refunds the ledger refund, in the same transaction; never backwards, never twice."""

import logging
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.db import unit_of_work
from clipcart.core.errors import Conflict
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.payments import domain
from clipcart.payments.intents import lock_intent, notify_listeners, record_status
from clipcart.payments.models import (
    PaymentIntent,
    PaymentRefund,
)
from clipcart.payments.provider import (
    ChargeSnapshot,
    ProviderError,
    RefundSnapshot,
)

log = logging.getLogger(__name__)


async def apply_charge(
    intent: PaymentIntent,
    charge: ChargeSnapshot,
    *,
    reason: str,
    session: AsyncSession,
    provider_event_id: str | None = None,
) -> bool:
    """Bring the intent up to what the provider says, never backwards; captures post the
    ledger hold, refunds the ledger refund, in this same transaction. Whether it changed."""
    return await apply_charges(
        intent, [(charge, reason)], session=session, provider_event_id=provider_event_id
    )


async def apply_charges(
    intent: PaymentIntent,
    answers: Sequence[tuple[ChargeSnapshot, str]],
    *,
    session: AsyncSession,
    provider_event_id: str | None = None,
) -> bool:
    """apply_charge() for successive answers about one charge (each with why) in this same
    transaction: each step is written in the intent's audit trail, and the listeners are told
    once, of the status before the first. Whether anything changed."""
    before = (intent.status, intent.amount_captured, intent.amount_refunded)
    for charge, reason in answers:
        await _apply_charge(intent, charge, reason, provider_event_id, session)
    refunded = intent.amount_refunded != before[2]
    await notify_listeners(intent, before[0], session, refunded=refunded)
    return (intent.status, intent.amount_captured, intent.amount_refunded) != before


async def _apply_charge(
    intent: PaymentIntent,
    charge: ChargeSnapshot,
    reason: str,
    provider_event_id: str | None,
    session: AsyncSession,
) -> None:
    if charge.amount != Money(intent.amount, intent.currency):
        log.error("charge amount differs", extra={"intent": str(intent.id), "charge": charge.id})
        raise Conflict("The provider's charge does not match this payment.")
    intent.provider_charge_id = intent.provider_charge_id or charge.id
    target = domain.PROVIDER_STATUS.get(charge.status)
    if target is None:
        log.warning("unknown charge status", extra={"status": charge.status})
        return
    if target in domain.MONEY_TAKEN:
        if intent.status not in domain.MONEY_TAKEN and domain.may_move(
            intent.status, domain.CAPTURED
        ):
            await _captured(intent, charge, reason, provider_event_id, session)
        if intent.status in domain.MONEY_TAKEN:
            await _apply_refunds(intent, charge, reason, provider_event_id, session)
        return
    if domain.may_move(intent.status, target):
        if target == domain.FAILED:
            intent.failure_code = charge.failure_code
            intent.failure_message = charge.failure_message
        record_status(intent, target, reason, session, provider_event_id=provider_event_id)


async def _captured(
    intent: PaymentIntent,
    charge: ChargeSnapshot,
    reason: str,
    provider_event_id: str | None,
    session: AsyncSession,
) -> None:
    captured = charge.amount_captured or intent.amount
    intent.amount_captured = captured
    record_status(intent, domain.CAPTURED, reason, session, provider_event_id=provider_event_id)
    await ledger.hold_payment(
        order_ref=intent.order_ref,
        amount=Money(captured, intent.currency),
        shop_id=intent.shop_id,
        creator_id=intent.creator_id,
        commission=Money(intent.commission, intent.currency) if intent.commission else None,
        session=session,
    )


async def _apply_refunds(
    intent: PaymentIntent,
    charge: ChargeSnapshot,
    reason: str,
    provider_event_id: str | None,
    session: AsyncSession,
) -> None:
    for item in charge.refunds:
        refund = await session.scalar(
            select(PaymentRefund).where(PaymentRefund.provider_refund_id == item.id)
        )
        if refund is not None and refund.status == "succeeded":
            continue
        if refund is None:
            # Ours, when the answer to our refund call was lost (the process died before it
            # was written down): adopt that row rather than count the money twice.
            refund = await _our_lost_refund(intent, item, session)
        if refund is None:
            refund = PaymentRefund(
                intent_id=intent.id,
                amount=item.amount,
                status="pending",
                provider_refund_id=item.id,
            )
            session.add(refund)
            await session.flush()
        money = Money(item.amount, intent.currency)
        await ledger.refund_order(
            order_ref=intent.order_ref, amount=money, refund_ref=item.id, session=session
        )
        try:
            await ledger.settle_refund(
                order_ref=intent.order_ref, refund_ref=item.id, session=session
            )
        except ledger.InsufficientFunds:
            # Refunded after the seller was paid out: provider clearing cannot cover it yet.
            # The buyer's refund stands; the settlement waits in `refunds` until funded.
            log.warning("refund settlement deferred", extra={"refund": item.id})
        refund.status = "succeeded"
        intent.amount_refunded += item.amount
        status = domain.refunded_status(intent.amount_captured, intent.amount_refunded)
        record_status(
            intent,
            status,
            f"{reason}: refund {item.id} of {money}",
            session,
            provider_event_id=provider_event_id,
        )


def refund_key(provider_key: str, refund_id: uuid.UUID) -> str:
    """The idempotency key a refund is sent to the provider with."""
    return f"{provider_key}:refund:{refund_id.hex}"


async def _our_lost_refund(
    intent: PaymentIntent, item: RefundSnapshot, session: AsyncSession
) -> PaymentRefund | None:
    prefix = f"{intent.provider_key}:refund:"
    if item.idempotency_key is None or not item.idempotency_key.startswith(prefix):
        return None
    try:
        refund_id = uuid.UUID(hex=item.idempotency_key.removeprefix(prefix))
    except ValueError:
        return None
    refund = await session.scalar(
        select(PaymentRefund)
        .where(
            PaymentRefund.id == refund_id,
            PaymentRefund.intent_id == intent.id,
            PaymentRefund.provider_refund_id.is_(None),
        )
        .with_for_update()
    )
    if refund is not None:
        if refund.amount != item.amount:
            log.error("refund amount differs", extra={"refund": item.id})
            raise Conflict("The provider's refund does not match ours.")
        refund.provider_refund_id = item.id
        await session.flush()
    return refund


async def fail_intent(intent_id: uuid.UUID, error: ProviderError) -> str:
    """Mark the intent failed with the provider's refusal (own transaction); its status."""
    async with unit_of_work() as session:
        intent = await lock_intent(intent_id, session)
        if domain.may_move(intent.status, domain.FAILED):
            previous = intent.status
            intent.failure_code = error.code
            intent.failure_message = error.message[:300]
            record_status(intent, domain.FAILED, f"provider refused: {error.message}", session)
            await notify_listeners(intent, previous, session)
        return intent.status


async def settle_from_charge(intent_id: uuid.UUID, charge: ChargeSnapshot, reason: str) -> bool:
    """Apply what the provider says about a charge, in a transaction of its own; whether it
    changed anything."""
    async with unit_of_work() as session:
        intent = await lock_intent(intent_id, session)
        return await apply_charge(intent, charge, reason=reason, session=session)
