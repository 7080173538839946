"""Asking the provider to confirm, capture or void a charge. Calls to the provider never happen
inside a database transaction: the intent is committed as `processing` first (so a lost answer
is never a lost payment), the provider is called with our idempotency key (so a retry is never
a second charge), and the answer is applied in a new transaction."""

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.core.db import unit_of_work
from clipcart.core.errors import Conflict, ValidationFailed
from clipcart.core.money import Money
from clipcart.payments import domain
from clipcart.payments.intents import (
    get_intent_for,
    get_provider,
    lock_intent,
    notify_listeners,
    owned_method,
    record_status,
)
from clipcart.payments.models import (
    PaymentIntent,
    PaymentIntentEvent,
)
from clipcart.payments.provider import (
    ChargeSnapshot,
    ProviderError,
    ProviderTimeout,
)
from clipcart.payments.settlement import apply_charges, fail_intent, settle_from_charge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Confirmation:
    """What the provider is asked once the intent's `processing` status is committed."""

    intent_id: uuid.UUID
    status: str
    amount: Money
    token: str
    key: str
    charge_id: str | None


async def begin_confirmation(
    intent: PaymentIntent, *, payment_method_token: str | None, session: AsyncSession
) -> Confirmation | None:
    """Mark a locked intent `processing` in the caller's transaction, which must commit
    before send_confirmation(); None when it is already past confirmation."""
    status = intent.status
    if status == domain.REQUIRES_PAYMENT_METHOD:
        token = payment_method_token or intent.payment_method_token
        if token is None:
            raise ValidationFailed.field("payment_method", "Choose a payment method.")
        if token != intent.payment_method_token:
            # The intent's own method was checked when it was set (saved cards are never
            # removed or handed to another user): only another one is looked up.
            await owned_method(intent.user_id, token, session)
        intent.payment_method_token = token
        record_status(intent, domain.PROCESSING, "confirmed by the payer", session)
    elif status not in {domain.PROCESSING, domain.REQUIRES_ACTION}:
        return None
    assert intent.payment_method_token is not None
    return Confirmation(
        intent_id=intent.id,
        status=status,
        amount=Money(intent.amount, intent.currency),
        token=intent.payment_method_token,
        key=intent.provider_key,
        charge_id=intent.provider_charge_id,
    )


async def confirm_payment_intent(
    intent_id: uuid.UUID,
    *,
    viewer: User,
    payment_method_token: str | None = None,
    capture: bool = False,
) -> None:
    """Authorise the payment at the provider (or finish its extra step). Opens its own
    transactions: call it with no write transaction open."""
    async with unit_of_work() as session:
        intent = await get_intent_for(viewer, intent_id, session=session, lock=True)
        confirmation = await begin_confirmation(
            intent, payment_method_token=payment_method_token, session=session
        )
        if confirmation is None:
            return  # already past confirmation: confirming again changes nothing
    await send_confirmation(confirmation, capture=capture)


async def send_confirmation(
    confirmation: Confirmation, *, capture: bool = False
) -> tuple[str, str | None]:
    """Ask the provider (with `capture`, authorise and capture in one call when it can) and
    apply its answer in a transaction of its own; the intent's status and charge id
    afterwards. Call with `processing` committed and no write transaction open."""
    answer = await _ask_to_confirm(confirmation, capture=capture)
    if not isinstance(answer, ChargeSnapshot):
        return answer
    return await _settle(confirmation.intent_id, [(answer, "provider answered")])


async def send_confirmation_and_capture(confirmation: Confirmation) -> str:
    """Authorise at the provider, then capture what it authorised (two calls: an answer lost
    past the order's reservation leaves an authorisation to void, never money to refund), and
    apply both answers in one transaction; the intent's status afterwards. Any other answer
    is applied alone. A failed capture raises ProviderError once the authorisation is applied
    (it can be captured again or voided). Call with `processing` committed and no write
    transaction open; until both answers are applied the intent stays `processing`, which
    reconciliation settles if this process dies."""
    answer = await _ask_to_confirm(confirmation, capture=False)
    if not isinstance(answer, ChargeSnapshot):
        return answer[0]
    authorised = domain.PROVIDER_STATUS.get(answer.status) == domain.AUTHORISED
    if not authorised or answer.amount != confirmation.amount:
        status, _ = await _settle(confirmation.intent_id, [(answer, "provider answered")])
        return status
    try:
        captured = await get_provider().capture(
            answer.id, amount=None, idempotency_key=f"{confirmation.key}:capture"
        )
    except (ProviderTimeout, ProviderError) as error:
        await _settle(confirmation.intent_id, [(answer, "provider answered")])
        if isinstance(error, ProviderError):
            raise
        raise ProviderError("The provider did not answer; try the capture again.") from error
    status, _ = await _settle(
        confirmation.intent_id, [(answer, "provider answered"), (captured, "captured")]
    )
    return status


async def _ask_to_confirm(
    confirmation: Confirmation, *, capture: bool
) -> ChargeSnapshot | tuple[str, str | None]:
    """The provider's answer to the confirmation, or, when there is none to apply (no answer,
    a refusal, both written down here), the intent's status and charge id."""
    intent_id, key = confirmation.intent_id, confirmation.key
    provider = get_provider()
    try:
        if confirmation.status == domain.REQUIRES_ACTION and confirmation.charge_id is not None:
            return await provider.confirm(confirmation.charge_id, idempotency_key=f"{key}:confirm")
        # Same key every time: asking again after a lost answer returns the same charge
        # (authorised only, if it was first made without capture: the caller captures).
        charge_now = getattr(provider, "authorise_and_capture", None) if capture else None
        return await (charge_now or provider.authorise)(
            amount=confirmation.amount,
            payment_method=confirmation.token,
            idempotency_key=key,
            reference=key,
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
            return intent.status, intent.provider_charge_id
    except ProviderError as error:
        return await fail_intent(intent_id, error), confirmation.charge_id


async def _settle(
    intent_id: uuid.UUID, answers: list[tuple[ChargeSnapshot, str]]
) -> tuple[str, str | None]:
    """Apply the provider's answers (with why) in one transaction of their own; the intent's
    status and charge id afterwards."""
    async with unit_of_work() as session:
        intent = await lock_intent(intent_id, session)
        await apply_charges(intent, answers, session=session)
        return intent.status, intent.provider_charge_id


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
    await send_capture(intent_id, charge_id=charge_id, key=key)


async def send_capture(intent_id: uuid.UUID, *, charge_id: str, key: str) -> None:
    """Capture an authorised charge at the provider and apply the answer (its own
    transaction); `key` is the intent's provider_key. No write transaction may be open."""
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
            record_status(intent, domain.CANCELLED, "cancelled before confirmation", session)
            await notify_listeners(intent, domain.REQUIRES_PAYMENT_METHOD, session)
            return
        if intent.status not in {domain.AUTHORISED, domain.REQUIRES_ACTION}:
            raise Conflict(
                f"A {intent.status} payment cannot be cancelled.", code="payment_wrong_state"
            )
        charge_id, key = intent.provider_charge_id, intent.provider_key
    assert charge_id is not None
    charge = await get_provider().void(charge_id, idempotency_key=f"{key}:void")
    await settle_from_charge(intent_id, charge, "cancelled")
