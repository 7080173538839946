"""Payment use cases. Calls to the provider never happen inside a database transaction: the
intent is committed as `processing` first (so a lost answer is never a lost payment), the
provider is called with our idempotency key (so a retry is never a second charge), and the
answer is applied in a new transaction. Those functions therefore open their own units of
work; the pure-database ones take the caller's `session` and never commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.core import clock
from clipcart.core.config import get_settings
from clipcart.core.db import unit_of_work
from clipcart.core.errors import Conflict, NotFound, ValidationFailed
from clipcart.core.ids import new_id
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.payments import domain
from clipcart.payments.models import (
    PaymentIntent,
    PaymentIntentEvent,
    PaymentMethod,
    PaymentRefund,
)
from clipcart.payments.provider import (
    ChargeSnapshot,
    PaymentProvider,
    ProviderError,
    ProviderTimeout,
    RefundSnapshot,
)

log = logging.getLogger(__name__)

_provider: PaymentProvider | None = None

# Called in the same transaction whenever an intent's status changes, so that what the payment
# is for (an order) moves with it however the news arrives: the answer, a webhook, a job.
StatusListener = Callable[[PaymentIntent, str, AsyncSession], Awaitable[None]]
_status_listeners: list[StatusListener] = []


def on_status_change(listener: StatusListener) -> None:
    """Call `listener(intent, previous_status, session)` after every status change, inside
    the transaction that made it (registering the same listener twice keeps one)."""
    if listener not in _status_listeners:
        _status_listeners.append(listener)


async def _notify(intent: PaymentIntent, previous: str, session: AsyncSession) -> None:
    if intent.status != previous:
        for listener in _status_listeners:
            await listener(intent, previous, session)


def set_provider(provider: PaymentProvider | None) -> None:
    """Use `provider` from now on (tests; a real adapter); None for the configured default."""
    global _provider
    _provider = provider


def get_provider() -> PaymentProvider:
    """The configured payment provider."""
    if _provider is not None:
        return _provider
    name = get_settings().payments_provider
    if name == "sandbox":
        from clipcart.payments.sandbox_client import SandboxProvider

        return SandboxProvider()
    raise RuntimeError(f"unknown payment provider {name!r}")


# --- payment methods --------------------------------------------------------------------


async def save_payment_method(
    user: User, *, number: str, exp_month: int, exp_year: int, cvc: str, session: AsyncSession
) -> PaymentMethod:
    """Tokenise a card at the provider and keep only the token and what may be shown.
    The caller must not hold a write transaction (the provider is called first)."""
    provider = get_provider()
    try:
        card = await provider.save_card(
            number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc
        )
    except ProviderTimeout as error:
        raise ProviderError("The payment provider did not answer. Try again.") from error
    method = PaymentMethod(
        user_id=user.id,
        provider=provider.name,
        token=card.token,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
    )
    session.add(method)
    await session.flush()
    return method


async def list_payment_methods(user_id: uuid.UUID, *, session: AsyncSession) -> list[PaymentMethod]:
    """The user's saved cards, newest first (what checkout offers to pay with)."""
    rows = await session.scalars(
        select(PaymentMethod)
        .where(PaymentMethod.user_id == user_id)
        .order_by(PaymentMethod.created_at.desc(), PaymentMethod.id.desc())
    )
    return list(rows)


# --- intents ----------------------------------------------------------------------------


def _record(
    intent: PaymentIntent,
    to_status: str,
    reason: str,
    session: AsyncSession,
    *,
    provider_event_id: str | None = None,
) -> None:
    session.add(
        PaymentIntentEvent(
            intent_id=intent.id,
            from_status=intent.status,
            to_status=to_status,
            reason=reason[:300],
            provider_event_id=provider_event_id,
        )
    )
    intent.status = to_status
    intent.updated_at = clock.now()


async def create_payment_intent(
    order_ref: str,
    amount: Money,
    payment_method_token: str | None,
    *,
    idempotency_key: str,
    user_id: uuid.UUID,
    shop_id: uuid.UUID,
    creator_id: uuid.UUID | None = None,
    commission: Money | None = None,
    session: AsyncSession,
) -> PaymentIntent:
    """A new intent for `order_ref` (nothing is charged until it is confirmed); the same
    idempotency key returns the same intent, with other parameters it is a 409."""
    if amount.amount <= 0:
        raise ValidationFailed.field("amount", "The amount must be positive.")
    existing = await session.scalar(
        select(PaymentIntent).where(
            PaymentIntent.user_id == user_id, PaymentIntent.idempotency_key == idempotency_key
        )
    )
    if existing is not None:
        if (existing.order_ref, existing.amount, existing.currency) != (
            order_ref,
            amount.amount,
            amount.currency,
        ):
            raise Conflict("That idempotency key was used for another payment.", code="reused")
        return existing
    if payment_method_token is not None:
        await _owned_method(user_id, payment_method_token, session)
    intent_id = new_id()
    intent = PaymentIntent(
        id=intent_id,
        user_id=user_id,
        order_ref=order_ref,
        shop_id=shop_id,
        creator_id=creator_id,
        commission=commission.amount if commission else None,
        amount=amount.amount,
        currency=amount.currency,
        status=domain.REQUIRES_PAYMENT_METHOD,
        provider=get_provider().name,
        provider_key=f"pi_{intent_id.hex}",
        payment_method_token=payment_method_token,
        idempotency_key=idempotency_key,
        amount_captured=0,
        amount_refunded=0,
    )
    session.add(intent)
    await session.flush()
    session.add(
        PaymentIntentEvent(
            intent_id=intent.id,
            from_status=None,
            to_status=intent.status,
            reason="created",
        )
    )
    return intent


async def _owned_method(user_id: uuid.UUID, token: str, session: AsyncSession) -> PaymentMethod:
    method = await session.scalar(
        select(PaymentMethod).where(PaymentMethod.token == token, PaymentMethod.user_id == user_id)
    )
    if method is None:
        raise ValidationFailed.field("payment_method", "Use one of your saved payment methods.")
    return method


async def get_intent_for(
    viewer: User, intent_id: uuid.UUID, *, session: AsyncSession, lock: bool = False
) -> PaymentIntent:
    """The intent, if `viewer` paid it or is an admin (404 otherwise)."""
    statement = select(PaymentIntent).where(PaymentIntent.id == intent_id)
    if lock:
        statement = statement.with_for_update()
    intent = await session.scalar(statement.execution_options(populate_existing=True))
    if intent is None or (intent.user_id != viewer.id and "admin" not in viewer.role_names):
        raise NotFound("No such payment.", code="payment_not_found")
    return intent


async def list_intent_events(
    intent_id: uuid.UUID, *, session: AsyncSession
) -> list[PaymentIntentEvent]:
    """The intent's audit trail, oldest first."""
    rows = await session.scalars(
        select(PaymentIntentEvent)
        .where(PaymentIntentEvent.intent_id == intent_id)
        .order_by(PaymentIntentEvent.created_at, PaymentIntentEvent.id)
    )
    return list(rows)


async def lock_intent(intent_id: uuid.UUID, session: AsyncSession) -> PaymentIntent:
    intent = await session.scalar(
        select(PaymentIntent)
        .where(PaymentIntent.id == intent_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if intent is None:
        raise NotFound("No such payment.", code="payment_not_found")
    return intent


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
    before = (intent.status, intent.amount_captured, intent.amount_refunded)
    await _apply_charge(intent, charge, reason, provider_event_id, session)
    await _notify(intent, before[0], session)
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
        _record(intent, target, reason, session, provider_event_id=provider_event_id)


async def _captured(
    intent: PaymentIntent,
    charge: ChargeSnapshot,
    reason: str,
    provider_event_id: str | None,
    session: AsyncSession,
) -> None:
    captured = charge.amount_captured or intent.amount
    intent.amount_captured = captured
    _record(intent, domain.CAPTURED, reason, session, provider_event_id=provider_event_id)
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
        _record(
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


async def _fail(intent_id: uuid.UUID, error: ProviderError) -> None:
    async with unit_of_work() as session:
        intent = await lock_intent(intent_id, session)
        if domain.may_move(intent.status, domain.FAILED):
            previous = intent.status
            intent.failure_code = error.code
            intent.failure_message = error.message[:300]
            _record(intent, domain.FAILED, f"provider refused: {error.message}", session)
            await _notify(intent, previous, session)


async def settle_from_charge(intent_id: uuid.UUID, charge: ChargeSnapshot, reason: str) -> bool:
    """Apply what the provider says about a charge, in a transaction of its own; whether it
    changed anything."""
    async with unit_of_work() as session:
        intent = await lock_intent(intent_id, session)
        return await apply_charge(intent, charge, reason=reason, session=session)


async def confirm_payment_intent(
    intent_id: uuid.UUID, *, viewer: User, payment_method_token: str | None = None
) -> None:
    """Authorise the payment at the provider (or finish its extra step). Opens its own
    transactions: call it with no write transaction open."""
    async with unit_of_work() as session:
        intent = await get_intent_for(viewer, intent_id, session=session, lock=True)
        status = intent.status
        if status == domain.REQUIRES_PAYMENT_METHOD:
            token = payment_method_token or intent.payment_method_token
            if token is None:
                raise ValidationFailed.field("payment_method", "Choose a payment method.")
            await _owned_method(intent.user_id, token, session)
            intent.payment_method_token = token
            _record(intent, domain.PROCESSING, "confirmed by the payer", session)
        elif status not in {domain.PROCESSING, domain.REQUIRES_ACTION}:
            return  # already past confirmation: confirming again changes nothing
        amount = Money(intent.amount, intent.currency)
        token, key, charge_id = (
            intent.payment_method_token,
            intent.provider_key,
            intent.provider_charge_id,
        )
    provider = get_provider()
    assert token is not None
    try:
        if status == domain.REQUIRES_ACTION and charge_id is not None:
            charge = await provider.confirm(charge_id, idempotency_key=f"{key}:confirm")
        else:
            # Same key every time: asking again after a lost answer returns the same charge.
            charge = await provider.authorise(
                amount=amount, payment_method=token, idempotency_key=key, reference=key
            )
    except ProviderTimeout:
        log.warning("provider timeout; payment stays processing", extra={"intent": str(intent_id)})
        async with unit_of_work() as session:
            intent = await lock_intent(intent_id, session)
            session.add(
                PaymentIntentEvent(
                    intent_id=intent.id,
                    from_status=intent.status,
                    to_status=intent.status,
                    reason="provider did not answer; settled by webhook or reconciliation",
                )
            )
        return
    except ProviderError as error:
        await _fail(intent_id, error)
        return
    await settle_from_charge(intent_id, charge, "provider answered")


async def capture_payment_intent(intent_id: uuid.UUID, *, viewer: User) -> None:
    """Take the authorised money; posts the ledger hold. Opens its own transactions."""
    async with unit_of_work() as session:
        intent = await get_intent_for(viewer, intent_id, session=session)
        if intent.status in domain.MONEY_TAKEN:
            return
        if intent.status != domain.AUTHORISED or intent.provider_charge_id is None:
            raise Conflict(
                f"A {intent.status} payment cannot be captured.", code="payment_wrong_state"
            )
        charge_id, key = intent.provider_charge_id, intent.provider_key
    try:
        charge = await get_provider().capture(
            charge_id, amount=None, idempotency_key=f"{key}:capture"
        )
    except ProviderTimeout as error:
        raise ProviderError("The provider did not answer; try the capture again.") from error
    await settle_from_charge(intent_id, charge, "captured")


async def cancel_payment_intent(intent_id: uuid.UUID, *, viewer: User) -> None:
    """Release an authorisation (or drop an unconfirmed intent). Opens its own transactions."""
    async with unit_of_work() as session:
        intent = await get_intent_for(viewer, intent_id, session=session, lock=True)
        if intent.status == domain.REQUIRES_PAYMENT_METHOD:
            _record(intent, domain.CANCELLED, "cancelled before confirmation", session)
            await _notify(intent, domain.REQUIRES_PAYMENT_METHOD, session)
            return
        if intent.status not in {domain.AUTHORISED, domain.REQUIRES_ACTION}:
            raise Conflict(
                f"A {intent.status} payment cannot be cancelled.", code="payment_wrong_state"
            )
        charge_id, key = intent.provider_charge_id, intent.provider_key
    assert charge_id is not None
    charge = await get_provider().void(charge_id, idempotency_key=f"{key}:void")
    await settle_from_charge(intent_id, charge, "cancelled")
