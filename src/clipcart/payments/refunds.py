"""Refunds: money given back on a captured payment, asked of the provider between
transactions like every provider call (see service.py), and safe to retry: a refund's id is
its idempotency key at the provider, and a caller's Idempotency-Key fixes that id."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from clipcart.accounts.models import User
from clipcart.core.db import unit_of_work
from clipcart.core.errors import Conflict, ValidationFailed
from clipcart.core.money import Money
from clipcart.payments import domain
from clipcart.payments.models import PaymentRefund
from clipcart.payments.provider import ProviderError, ProviderTimeout
from clipcart.payments.service import (
    apply_charge,
    get_intent_for,
    get_provider,
    lock_intent,
    refund_key,
)


def _request_refund_id(intent_id: uuid.UUID, viewer_id: uuid.UUID, request_key: str) -> uuid.UUID:
    return uuid.uuid5(intent_id, f"refund-request:{viewer_id}:{request_key}")


async def refund_payment_intent(
    intent_id: uuid.UUID, amount: Money, *, viewer: User, request_key: str | None = None
) -> uuid.UUID:
    """Give captured money back; posts the ledger refund. Opens its own transactions; the
    refund's id is its reference at the provider, so a retried call cannot refund twice.
    With `request_key` (the caller's Idempotency-Key) the refund's id comes from it: a request
    retried after a lost answer or a crash asks the provider for the same refund again."""
    async with unit_of_work() as session:
        intent = await get_intent_for(viewer, intent_id, session=session, lock=True)
        refund: PaymentRefund | None = None
        if request_key is not None:
            refund = await session.get(
                PaymentRefund,
                _request_refund_id(intent.id, viewer.id, request_key),
                populate_existing=True,
            )
        if refund is not None and refund.amount != amount.amount:
            raise Conflict("That refund request was for another amount.", code="reused")
        if refund is not None and refund.status in {"succeeded", "superseded"}:
            return refund.id
        if intent.status not in {domain.CAPTURED, domain.PARTIALLY_REFUNDED}:
            raise Conflict(
                f"A {intent.status} payment cannot be refunded.", code="payment_wrong_state"
            )
        if amount.currency != intent.currency:
            raise ValidationFailed.field("currency", f"This payment is in {intent.currency}.")
        if refund is None or refund.status != "pending":  # a pending one is already counted
            pending = await session.scalars(
                select(PaymentRefund.amount).where(
                    PaymentRefund.intent_id == intent.id, PaymentRefund.status == "pending"
                )
            )
            left = intent.amount_captured - intent.amount_refunded - sum(pending)
            if not 0 < amount.amount <= left:
                raise ValidationFailed.field(
                    "amount", f"Refund between 0 and {Money(left, intent.currency)}."
                )
        if refund is None:
            refund = PaymentRefund(intent_id=intent.id, amount=amount.amount, status="pending")
            if request_key is not None:
                refund.id = _request_refund_id(intent.id, viewer.id, request_key)
            session.add(refund)
            await session.flush()
        refund.status = "pending"
        refund_id, charge_id, key = (
            refund.id,
            intent.provider_charge_id,
            refund_key(intent.provider_key, refund.id),
        )
    assert charge_id is not None
    try:
        charge, provider_refund = await get_provider().refund(
            charge_id, amount=amount, idempotency_key=key
        )
    except ProviderTimeout as error:
        # The provider may have refunded: the refund stays pending until the webhook or the
        # reconciliation job says what happened (and holds its amount back meanwhile).
        raise ProviderError("The provider did not answer; the refund is being checked.") from error
    except ProviderError:
        async with unit_of_work() as session:
            stored = await session.get(PaymentRefund, refund_id)
            if stored is not None and stored.status == "pending":
                stored.status = "failed"
        raise
    async with unit_of_work() as session:
        intent = await lock_intent(intent_id, session)
        stored = await session.get(PaymentRefund, refund_id)
        assert stored is not None
        already = await session.scalar(
            select(PaymentRefund).where(PaymentRefund.provider_refund_id == provider_refund.id)
        )
        if already is None:
            stored.provider_refund_id = provider_refund.id
            await session.flush()
        elif already.id != stored.id:  # the webhook got here first (and did not know it)
            stored.status = "superseded"
            refund_id = already.id
        await apply_charge(intent, charge, reason="refunded", session=session)
    return refund_id
