"""Cancelling an order before it ships: by the buyer, or by the shop with a reason.

The status change, the stock, flash-deal units and coupons given back are one transaction
(the caller's). Money moves only after that commits, with no transaction open: a paid order is
refunded in full with the key f"cancel:{order.id}", so a retried cancel, or the job that finishes
refunds interrupted by a crash, never refunds twice, and a cancelled order never stays paid."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.affiliate import service as affiliate
from clipcart.commerce import domain, fulfilment, orders, payment, reservations
from clipcart.commerce.models import Order
from clipcart.core.db import unit_of_work
from clipcart.core.errors import Conflict, ValidationFailed
from clipcart.core.money import Money
from clipcart.payments import domain as payment_states
from clipcart.payments import service as payments

log = logging.getLogger(__name__)

REASON_MAX = 300


@dataclass(frozen=True)
class Cancellation:
    """What is left to do once the cancellation is committed."""

    order_id: uuid.UUID
    buyer_id: uuid.UUID
    refund_due: int
    intent_to_cancel: uuid.UUID | None = None


def clean_reason(reason: str | None, *, required: bool) -> str:
    """The cancellation reason as stored (422 when the shop gives none)."""
    text = " ".join((reason or "").split())
    if required and not text:
        raise ValidationFailed.field("reason", "Tell the buyer why the order is cancelled.")
    if len(text) > REASON_MAX:
        raise ValidationFailed.field("reason", f"Use at most {REASON_MAX} characters.")
    return text


def refund_left(order: Order) -> int:
    """What a cancelled, once-paid order still owes the buyer."""
    if order.status != domain.CANCELLED or order.paid_at is None:
        return 0
    return max(0, order.total - order.refunded)


async def _buyer(order: Order, session: AsyncSession) -> User:
    buyer = (await accounts.users_by_ids([order.buyer_id], session=session)).get(order.buyer_id)
    assert buyer is not None  # orders keep their buyer (users.id is not cascaded)
    return buyer


async def _intent_status(order: Order, session: AsyncSession) -> str | None:
    if order.payment_intent_id is None:
        return None
    intent = await payments.get_intent_for(
        await _buyer(order, session), order.payment_intent_id, session=session
    )
    return intent.status


async def cancel_order(
    order: Order, *, actor: User, reason: str, session: AsyncSession
) -> Cancellation:
    """Cancel an unshipped order (409 once shipped) and give back what it held; cancelling a
    cancelled order again only finishes what is left (its refund)."""
    if order.status == domain.CANCELLED:
        return Cancellation(order.id, order.buyer_id, refund_left(order))
    fulfilment.require_move(order, domain.CANCELLED)
    intent_to_cancel: uuid.UUID | None = None
    if order.status == domain.PENDING_PAYMENT:
        status = await _intent_status(order, session)
        if status == payment_states.PROCESSING:
            raise Conflict(
                "Your payment is still being confirmed. Try again in a minute.",
                code="payment_processing",
            )
        if status in {
            payment_states.REQUIRES_PAYMENT_METHOD,
            payment_states.REQUIRES_ACTION,
            payment_states.AUTHORISED,
        }:
            intent_to_cancel = order.payment_intent_id
    await orders.record_transition(
        order, domain.CANCELLED, actor_id=actor.id, note=reason, session=session
    )
    await reservations.release_order_holds(order, reason="order cancelled", session=session)
    return Cancellation(order.id, order.buyer_id, refund_left(order), intent_to_cancel)


async def finish_cancellation(cancellation: Cancellation) -> None:
    """After commit: void the unused payment, refund a paid one. Opens its own transactions;
    a failure is logged and left to the refund job."""
    if cancellation.intent_to_cancel is not None:
        try:
            async with unit_of_work() as session:
                buyer = (await accounts.users_by_ids([cancellation.buyer_id], session=session))[
                    cancellation.buyer_id
                ]
            await payments.cancel_payment_intent(cancellation.intent_to_cancel, viewer=buyer)
        except Exception:
            # An authorisation nobody captures lapses at the provider; nothing was taken.
            log.warning(
                "payment of a cancelled order not voided",
                extra={"order_id": str(cancellation.order_id)},
                exc_info=True,
            )
    if cancellation.refund_due > 0:
        try:
            await refund_cancelled_order(cancellation.order_id)
        except Exception:  # the cancellation is committed: answer it, the job refunds later
            log.warning(
                "refund of a cancelled order failed; the job will retry",
                extra={"order_id": str(cancellation.order_id)},
                exc_info=True,
            )


async def refund_cancelled_order(order_id: uuid.UUID) -> int:
    """Refund what a cancelled, once-paid order still owes (key f"cancel:{id}": never twice)
    and record it on the order and its lines; how much was refunded now."""
    async with unit_of_work() as session:
        order = await orders.get_order(order_id, session=session)
        left = refund_left(order)
    if left <= 0:
        return 0
    await payment.refund_order_amount(
        order, Money(left, order.currency), key=f"cancel:{order.id}", actor=None
    )
    async with unit_of_work() as session:
        order = await orders.get_order(order_id, session=session, lock=True)
        left = refund_left(order)
        if left <= 0:
            return 0  # recorded by a concurrent retry
        order.refunded = order.total
        for line in await orders.list_order_lines(order.id, session=session):
            line.refunded = line.total
        await fulfilment.notify_refund(order, left, session=session)
        await affiliate.sync_clawbacks(
            order.id, order_ref=domain.order_ref(order.id), session=session
        )
    return left


async def orders_with_refund_due(*, session: AsyncSession, limit: int = 100) -> list[uuid.UUID]:
    """Cancelled orders that were paid and are not yet refunded (a crash or a provider outage
    stopped the refund)."""
    rows = await session.scalars(
        select(Order.id)
        .where(
            Order.status == domain.CANCELLED,
            Order.paid_at.is_not(None),
            Order.refunded < Order.total,
        )
        .order_by(Order.cancelled_at, Order.id)
        .limit(limit)
    )
    return list(rows)
