"""Payment intents and saved payment methods: creating, reading and locking intents, the
audit trail every status change writes, and the listeners told of each change."""

import logging
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.core import clock
from clipcart.core.config import get_settings
from clipcart.core.errors import Conflict, NotFound, ValidationFailed
from clipcart.core.ids import new_id
from clipcart.core.money import Money
from clipcart.payments import domain
from clipcart.payments.models import (
    PaymentIntent,
    PaymentIntentEvent,
    PaymentMethod,
)
from clipcart.payments.provider import (
    PaymentProvider,
    ProviderError,
    ProviderTimeout,
)

log = logging.getLogger(__name__)

_provider: PaymentProvider | None = None

# Called in the same transaction whenever an intent's status changes, so that what the payment
# is for (an order) moves with it however the news arrives: the answer, a webhook, a job.
StatusListener = Callable[[PaymentIntent, str, AsyncSession], Awaitable[None]]
_status_listeners: list[StatusListener] = []


def on_status_change(listener: StatusListener) -> None:
    """Call `listener(intent, previous_status, session)` after every status change and every
    refund (a second partial refund keeps the status), inside the transaction that made it
    (registering the same listener twice keeps one). Answers applied together (an
    authorisation and its capture) are told once, with the status before the first."""
    if listener not in _status_listeners:
        _status_listeners.append(listener)


async def notify_listeners(
    intent: PaymentIntent, previous: str, session: AsyncSession, *, refunded: bool = False
) -> None:
    """Tell the listeners when `intent` left `previous` or money was `refunded` (inside the
    caller's transaction)."""
    if intent.status != previous or refunded:
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


# Built once (every checkout and payment reads them): the cards of the user bound as
# `user_id`, newest first.
_PAYMENT_METHODS = (
    select(PaymentMethod)
    .where(PaymentMethod.user_id == bindparam("user_id"))
    .order_by(PaymentMethod.created_at.desc(), PaymentMethod.id.desc())
)


async def list_payment_methods(user_id: uuid.UUID, *, session: AsyncSession) -> list[PaymentMethod]:
    """The user's saved cards, newest first (what checkout offers to pay with)."""
    return list(await session.scalars(_PAYMENT_METHODS, {"user_id": user_id}))


# --- intents ----------------------------------------------------------------------------


def record_status(
    intent: PaymentIntent,
    to_status: str,
    reason: str,
    session: AsyncSession,
    *,
    provider_event_id: str | None = None,
) -> None:
    """Move the intent to `to_status` and write why in its audit trail."""
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
    fresh: bool = False,
    session: AsyncSession,
) -> PaymentIntent:
    """A new intent for `order_ref` (nothing is charged until it is confirmed); the same
    idempotency key returns the same intent, with other parameters it is a 409. `fresh`:
    the caller made the key just now and read the method from the user's own saved cards
    in this transaction (nothing to look up again)."""
    if amount.amount <= 0:
        raise ValidationFailed.field("amount", "The amount must be positive.")
    existing = (
        None
        if fresh
        else await session.scalar(
            select(PaymentIntent).where(
                PaymentIntent.user_id == user_id, PaymentIntent.idempotency_key == idempotency_key
            )
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
    if payment_method_token is not None and not fresh:
        await owned_method(user_id, payment_method_token, session)
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


async def owned_method(user_id: uuid.UUID, token: str, session: AsyncSession) -> PaymentMethod:
    """The saved payment method `token` if it belongs to the user (422 otherwise)."""
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


# Every answer from the provider is applied under this lock: built once (building a statement
# costs about as much as running it).
_LOCKED_INTENT = (
    select(PaymentIntent)
    .where(PaymentIntent.id == bindparam("intent_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


async def lock_intent(intent_id: uuid.UUID, session: AsyncSession) -> PaymentIntent:
    """The intent, locked for update and freshly read (404 when missing)."""
    intent = await session.scalar(_LOCKED_INTENT, {"intent_id": intent_id})
    if intent is None:
        raise NotFound("No such payment.", code="payment_not_found")
    return intent
