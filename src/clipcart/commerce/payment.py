"""Paying orders through clipcart.payments, and orders following their payment: the payments
listener moves an order when its intent changes, however the news arrives (our call's
answer, a webhook, reconciliation). Provider calls never run inside a transaction."""

from __future__ import annotations

import contextvars
import logging
import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.affiliate import service as affiliate
from clipcart.commerce import domain, orders, reservations
from clipcart.commerce.models import Order
from clipcart.commerce.schemas import NextActionOut, PayOrderOut, PayOut
from clipcart.core import events
from clipcart.core.db import unit_of_work
from clipcart.core.errors import Conflict, NotFound, ValidationFailed
from clipcart.core.money import Money
from clipcart.payments import domain as payment_domain
from clipcart.payments import refunds
from clipcart.payments import service as payments
from clipcart.payments.models import PaymentIntent
from clipcart.payments.provider import ProviderError

log = logging.getLogger(__name__)

# Set while pay_checkout captures itself, so the listener does not queue a second capture.
_capturing_inline: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "commerce_capturing_inline", default=False
)


def order_id_of(order_ref: str) -> uuid.UUID | None:
    """The order id in a payments order_ref ("order:<uuid>"), None for other payments."""
    prefix, _, rest = order_ref.partition(":")
    if prefix != "order":
        return None
    try:
        return uuid.UUID(rest)
    except ValueError:
        return None


def decline_message(intent: PaymentIntent) -> str:
    """What the buyer is told when the payment did not go through."""
    if intent.status == payment_domain.FAILED:
        if intent.failure_code:
            return f"Your card was declined: {intent.failure_code.replace('_', ' ')}."
        return f"Your payment failed: {intent.failure_message or 'the provider refused it'}."
    if intent.status == payment_domain.CANCELLED:
        return "The payment was cancelled."
    return ""


# The statements every payment of an order runs, built once (building one costs about as much
# as running it): the order locked when its payment moves; the payments of a checkout's
# pending orders (the buyer's own), locked in id order; where each order of a checkout stands.
_LOCKED_ORDER = (
    select(Order)
    .where(Order.id == bindparam("order_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_PENDING_PAYMENTS = (
    select(PaymentIntent)
    .join(Order, Order.payment_intent_id == PaymentIntent.id)
    .where(
        Order.checkout_id == bindparam("checkout_id"),
        Order.buyer_id == bindparam("buyer_id"),
        Order.status == domain.PENDING_PAYMENT,
    )
    .order_by(PaymentIntent.id)
    .with_for_update(of=PaymentIntent)
    .execution_options(populate_existing=True)
)
_PAYMENT_STATES = (
    select(Order.id, Order.number, Order.status, PaymentIntent)
    .outerjoin(PaymentIntent, PaymentIntent.id == Order.payment_intent_id)
    .where(Order.checkout_id == bindparam("checkout_id"), Order.buyer_id == bindparam("buyer_id"))
    .order_by(Order.id)
    .execution_options(populate_existing=True)
)


async def on_intent_status(intent: PaymentIntent, previous: str, session: AsyncSession) -> None:
    """Move the intent's order along: captured -> paid (stock committed); failed or
    cancelled before capture -> cancelled (stock, deal units and coupons released); refunded
    -> its commissions clawed back as the ledger decided; authorised outside our own pay
    call -> capture queued after commit."""
    order_id = order_id_of(intent.order_ref)
    if order_id is None:
        return
    order = await session.scalar(_LOCKED_ORDER, {"order_id": order_id})
    if order is None or order.payment_intent_id != intent.id:
        return
    status = intent.status
    if status == payment_domain.CAPTURED and previous not in payment_domain.MONEY_TAKEN:
        if order.status == domain.PENDING_PAYMENT:
            await orders.record_transition(
                order, domain.PAID, actor_id=None, note="Payment received", session=session
            )
            await reservations.commit_reservations(order.id, session=session)
        elif order.status == domain.CANCELLED:
            # Captured after the order was cancelled (the reservation ran out meanwhile):
            # the money goes back.
            events.after_commit(session, lambda: _schedule_release_of_cancelled(order_id))
    elif status in {payment_domain.FAILED, payment_domain.CANCELLED}:
        if order.status == domain.PENDING_PAYMENT:
            reason = decline_message(intent)
            await orders.record_transition(
                order, domain.CANCELLED, actor_id=None, note=reason, session=session
            )
            await reservations.release_order_holds(order, reason="payment failed", session=session)
    elif status in {payment_domain.PARTIALLY_REFUNDED, payment_domain.REFUNDED}:
        # Money went back (a return, a cancellation or a refund made through the payments
        # API): each commission shows what the ledger took back of its line.
        await affiliate.sync_clawbacks(order.id, order_ref=intent.order_ref, session=session)
    elif status == payment_domain.AUTHORISED:
        if order.status == domain.PENDING_PAYMENT and not _capturing_inline.get():
            events.after_commit(session, lambda: _schedule_capture(order_id))
        elif order.status == domain.CANCELLED:
            # Authorised after the order was cancelled (expired meanwhile): let it go.
            events.after_commit(session, lambda: _schedule_release_of_cancelled(order_id))


payments.on_status_change(on_intent_status)


# Payments that can still be called off without moving money.
_VOIDABLE = frozenset(
    {
        payment_domain.REQUIRES_PAYMENT_METHOD,
        payment_domain.REQUIRES_ACTION,
        payment_domain.AUTHORISED,
    }
)


async def on_order_transition(
    order: Order, from_status: str, to_status: str, *, session: AsyncSession
) -> None:
    """An unpaid order was cancelled (expired, declined, by a person): after commit, call
    off its payment so it can no longer be charged."""
    if (
        from_status == domain.PENDING_PAYMENT
        and to_status == domain.CANCELLED
        and order.payment_intent_id is not None
    ):
        order_id = order.id
        events.after_commit(session, lambda: _schedule_release_of_cancelled(order_id))


orders.on_transition(on_order_transition)
# Commissions follow their order (paid, completed, cancelled) in the same transaction; here,
# because every process that moves orders (web, jobs) loads this module.
orders.on_transition(affiliate.on_order_transition)


async def _schedule_capture(order_id: uuid.UUID) -> None:
    from clipcart.commerce import payment_tasks

    await payment_tasks.enqueue_capture(order_id)


async def _schedule_release_of_cancelled(order_id: uuid.UUID) -> None:
    from clipcart.commerce import payment_tasks

    await payment_tasks.enqueue_release_of_cancelled(order_id)


async def _buyer(user_id: uuid.UUID) -> User:
    async with unit_of_work() as session:
        users = await accounts.users_by_ids([user_id], session=session)
    if user_id not in users:
        raise NotFound("The buyer of this order is gone.", code="buyer_not_found")
    return users[user_id]


async def capture_authorised_order(order_id: uuid.UUID) -> bool:
    """Capture the authorised payment of a pending order (a job: after a webhook or a timed
    out answer); whether the order is paid now. Opens its own transactions."""
    async with unit_of_work() as session:
        order = await orders.get_order(order_id, session=session)
        status, intent_id, buyer_id = order.status, order.payment_intent_id, order.buyer_id
        intent_status = None
        if intent_id is not None:
            intent = await session.get(PaymentIntent, intent_id)
            intent_status = intent.status if intent else None
    if status != domain.PENDING_PAYMENT or intent_id is None:
        return status == domain.PAID
    if intent_status != payment_domain.AUTHORISED:
        return False
    await payments.capture_payment_intent(intent_id, viewer=await _buyer(buyer_id))
    async with unit_of_work() as session:
        order = await orders.get_order(order_id, session=session)
        return order.status == domain.PAID


async def refund_order_amount(
    order: Order, amount: Money, *, key: str, actor: User | None
) -> uuid.UUID:
    """Give `amount` of the order's payment back (cancellations, returns); the same `key`
    never refunds twice. Opens its own transactions: call with no write transaction open."""
    if order.payment_intent_id is None:
        raise Conflict("This order has no payment to refund.", code="order_not_paid")
    if amount.currency != order.currency:
        raise ValidationFailed.field("amount", f"This order is in {order.currency}.")
    # The buyer is the intent's owner: refunding as them keys the refund by (intent, key)
    # whoever asks, so a retry by someone else cannot refund twice.
    buyer = await _buyer(order.buyer_id)
    refund_id = await refunds.refund_payment_intent(
        order.payment_intent_id, amount, viewer=buyer, request_key=key
    )
    log.info(
        "order refund",
        extra={
            "order": str(order.id),
            "amount": amount.amount,
            "actor": str(actor.id) if actor else "system",
        },
    )
    return refund_id


async def release_cancelled_payment(order_id: uuid.UUID) -> bool:
    """Let go of a payment that went through for an order cancelled first (the reservation
    ran out while the provider was slow): void an authorisation, refund a capture. Whether
    it did anything."""
    async with unit_of_work() as session:
        order = await orders.get_order(order_id, session=session)
        intent = (
            await session.get(PaymentIntent, order.payment_intent_id)
            if order.payment_intent_id
            else None
        )
        intent_status = intent.status if intent else None
        left = intent.amount_captured - intent.amount_refunded if intent else 0
    if order.status != domain.CANCELLED or intent is None:
        return False
    if intent_status in _VOIDABLE:
        await payments.cancel_payment_intent(intent.id, viewer=await _buyer(order.buyer_id))
        return True
    if order.paid_at is not None:
        return False  # a paid order's refund belongs to its cancellation (cancelling.py)
    if left <= 0:
        return False
    await refund_order_amount(
        order, Money(left, order.currency), key=f"cancelled-capture:{order.id}", actor=None
    )
    async with unit_of_work() as session:
        order = await orders.get_order(order_id, session=session, lock=True)
        order.refunded = min(order.total, order.refunded + left)
        if order.refunded >= order.total:
            for line in await orders.list_order_lines(order.id, session=session):
                line.refunded = line.total
    return True


# --- paying a checkout -------------------------------------------------------------------


async def pay_checkout(
    user: User, checkout_id: uuid.UUID, *, payment_method: str | None, session: AsyncSession
) -> PayOut:
    """Authorise then capture each pending order of the checkout.
    Commits `session` (the payments marked processing) before calling the provider; a
    retried pay never charges twice (the provider is keyed by the intent). Declined: the
    order is cancelled and its stock released."""
    # The payments of the buyer's pending orders of this checkout (one statement): locked in
    # id order, marked processing here and committed before the provider is called (a lost
    # answer is never a lost payment); one transaction for all of them. No pending order
    # (none at all is a 404): describe_payment says where they stand.
    intents = list(
        await session.scalars(_PENDING_PAYMENTS, {"checkout_id": checkout_id, "buyer_id": user.id})
    )
    token = payment_method
    to_pay: list[tuple[uuid.UUID, payments.Confirmation | None]] = []
    if intents:
        without_method = any(intent.payment_method_token is None for intent in intents)
        if token is not None or without_method:
            methods = await payments.list_payment_methods(user.id, session=session)
            if token is None:
                if not methods:
                    raise ValidationFailed.field("payment_method", "Add a card to pay with.")
                token = methods[0].token
            elif token not in {method.token for method in methods}:
                raise ValidationFailed.field(
                    "payment_method", "Use one of your saved payment methods."
                )
        for intent in intents:
            confirmation = await payments.begin_confirmation(
                intent, payment_method_token=token, session=session
            )
            if confirmation is not None or intent.status == payment_domain.AUTHORISED:
                to_pay.append((intent.id, confirmation))
    await session.commit()
    inline = _capturing_inline.set(True)
    try:
        for intent_id, confirmation in to_pay:
            await _pay_one(intent_id, confirmation, user)
    finally:
        _capturing_inline.reset(inline)
    return await describe_payment(user, checkout_id, session=session)


async def _pay_one(
    intent_id: uuid.UUID, confirmation: payments.Confirmation | None, user: User
) -> None:
    # Authorise, then capture: not one authorise-and-capture call (the provider offers it),
    # because an answer lost past the reservation must leave an authorisation to void, never
    # money taken that has to be refunded. Both answers are applied in one transaction.
    try:
        if confirmation is not None:
            await payments.send_confirmation_and_capture(confirmation)
        else:
            # Captures only an authorised payment; anything else is a payment_wrong_state
            # refusal that changes nothing.
            await payments.capture_payment_intent(intent_id, viewer=user)
    except Conflict as refusal:
        if refusal.code != "payment_wrong_state":
            raise
    except ProviderError:
        log.warning("capture failed; queued", extra={"intent": str(intent_id)})
        async with unit_of_work() as session:
            intent = await payments.get_intent_for(user, intent_id, session=session)
            order_id = order_id_of(intent.order_ref)
        if order_id is not None:
            await _schedule_capture(order_id)


async def describe_payment(user: User, checkout_id: uuid.UUID, *, session: AsyncSession) -> PayOut:
    """Where each of the buyer's orders of the checkout stands with its payment (404 when the
    checkout has none); one statement."""
    rows = (
        await session.execute(_PAYMENT_STATES, {"checkout_id": checkout_id, "buyer_id": user.id})
    ).all()
    if not rows:
        raise NotFound("There is no such checkout.", code="checkout_not_found")
    return PayOut(
        checkout_id=checkout_id,
        orders=[_pay_order_out(*row) for row in rows],
        all_paid=all(row.status == domain.PAID for row in rows),
    )


def _pay_order_out(
    order_id: uuid.UUID, number: str, status: str, intent: PaymentIntent | None
) -> PayOrderOut:
    message = None
    action = None
    if intent is not None:
        if intent.status in {payment_domain.FAILED, payment_domain.CANCELLED}:
            message = decline_message(intent)
        elif intent.status == payment_domain.REQUIRES_ACTION:
            message = "Your bank needs you to confirm this payment."
            action = NextActionOut(
                intent_id=intent.id,
                instructions=(
                    "Confirm the payment with your bank, then POST "
                    f"/api/v1/payments/intents/{intent.id}/confirm; the order is paid once "
                    "the payment is captured."
                ),
            )
        elif intent.status == payment_domain.PROCESSING:
            message = (
                "The payment provider has not answered yet: the order updates as soon as it does."
            )
    return PayOrderOut(
        order_id=order_id,
        number=number,
        status=status,
        status_label=domain.buyer_label(status),
        payment_status=intent.status if intent else None,
        message=message,
        requires_action=action,
    )
