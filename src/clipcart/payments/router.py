"""Payments API under /api/v1/payments. Provider calls happen between transactions, so the
handlers commit the request's session (the edge) before calling the provider."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.dependencies import CurrentUser, require_role
from clipcart.accounts.models import User
from clipcart.core import idempotency
from clipcart.core.errors import ValidationFailed
from clipcart.core.money import Money
from clipcart.core.routing import DbSession, make_router
from clipcart.payments import refunds, service, webhooks
from clipcart.payments.schemas import (
    CardIn,
    ConfirmIn,
    IntentIn,
    IntentOut,
    PaymentMethodOut,
    RefundIn,
    RefundOut,
    WebhookOut,
)

router = make_router(prefix="/api/v1/payments", tags=["payments"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
Admin = Annotated[User, Depends(require_role("admin"))]


def _money(amount: int, currency: str) -> Money:
    try:
        return Money(amount, currency.upper())
    except ValueError as error:
        raise ValidationFailed.field("currency", "Use an ISO 4217 currency code.") from error


async def _intent_out(viewer: User, intent_id: uuid.UUID, db: AsyncSession) -> IntentOut:
    intent = await service.get_intent_for(viewer, intent_id, session=db)
    return IntentOut.of(intent, await service.list_intent_events(intent.id, session=db))


@router.post("/methods", status_code=status.HTTP_201_CREATED)
async def save_payment_method(card: CardIn, user: CurrentUser, db: DbSession) -> PaymentMethodOut:
    """Save a card as a provider token (only token, brand, last4 and expiry are kept)."""
    await db.commit()
    method = await service.save_payment_method(
        user,
        number=card.number,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        cvc=card.cvc,
        session=db,
    )
    return PaymentMethodOut.of(method)


@router.post("/intents", status_code=status.HTTP_201_CREATED, response_model=IntentOut)
async def create_intent(
    data: IntentIn,
    request: Request,
    user: CurrentUser,
    db: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Create a payment for an order (Idempotency-Key required); confirms it when a payment
    method is given."""
    amount = _money(data.amount, data.currency)
    key = idempotency.check_key(idempotency_key)

    async def work() -> IntentOut:
        intent = await service.create_payment_intent(
            data.order_ref,
            amount,
            data.payment_method,
            idempotency_key=key,
            user_id=user.id,
            shop_id=data.shop_id,
            creator_id=data.creator_id,
            commission=Money(data.commission, amount.currency) if data.commission else None,
            session=db,
        )
        intent_id = intent.id
        await db.commit()
        if data.payment_method is not None:
            await service.confirm_payment_intent(intent_id, viewer=user)
        return await _intent_out(user, intent_id, db)

    return await idempotency.run_idempotent(
        owner_id=user.id,
        key=key,
        request_hash=idempotency.fingerprint("POST", request.url.path, data),
        status_code=status.HTTP_201_CREATED,
        work=work,
        session=db,
    )


@router.get("/intents/{intent_id}")
async def get_intent(intent_id: uuid.UUID, user: CurrentUser, db: DbSession) -> IntentOut:
    """A payment with its audit trail (the payer or an admin)."""
    return await _intent_out(user, intent_id, db)


@router.post("/intents/{intent_id}/confirm")
async def confirm_intent(
    intent_id: uuid.UUID, user: CurrentUser, db: DbSession, data: ConfirmIn | None = None
) -> IntentOut:
    """Confirm: authorise at the provider, or finish the extra step (requires_action)."""
    await db.commit()
    await service.confirm_payment_intent(
        intent_id, viewer=user, payment_method_token=data.payment_method if data else None
    )
    return await _intent_out(user, intent_id, db)


@router.post("/intents/{intent_id}/capture")
async def capture_intent(intent_id: uuid.UUID, user: CurrentUser, db: DbSession) -> IntentOut:
    """Take the authorised money; it is then held in escrow in the ledger."""
    await db.commit()
    await service.capture_payment_intent(intent_id, viewer=user)
    return await _intent_out(user, intent_id, db)


@router.post("/intents/{intent_id}/cancel")
async def cancel_intent(intent_id: uuid.UUID, user: CurrentUser, db: DbSession) -> IntentOut:
    """Release an authorisation that will not be captured."""
    await db.commit()
    await service.cancel_payment_intent(intent_id, viewer=user)
    return await _intent_out(user, intent_id, db)


@router.post(
    "/intents/{intent_id}/refunds", status_code=status.HTTP_201_CREATED, response_model=RefundOut
)
async def refund_intent(
    intent_id: uuid.UUID,
    data: RefundIn,
    request: Request,
    admin: Admin,
    db: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Refund captured money (admins; Idempotency-Key required)."""

    async def work() -> RefundOut:
        intent = await service.get_intent_for(admin, intent_id, session=db)
        amount = Money(data.amount, intent.currency)
        await db.commit()
        refund_id = await refunds.refund_payment_intent(
            intent_id, amount, viewer=admin, request_key=idempotency_key
        )
        return RefundOut(refund_id=refund_id, intent=await _intent_out(admin, intent_id, db))

    return await idempotency.run_idempotent(
        owner_id=admin.id,
        key=idempotency_key,
        request_hash=idempotency.fingerprint("POST", request.url.path, data),
        status_code=status.HTTP_201_CREATED,
        work=work,
        session=db,
    )


@router.post("/webhooks/{provider}", include_in_schema=False)
async def receive_webhook(provider: str, request: Request, db: DbSession) -> WebhookOut:
    """A provider's signed event: 400 when the signature or timestamp is wrong, 200 for
    duplicates and unknown event types (ignored, logged)."""
    body = await request.body()
    outcome = await webhooks.handle_webhook(provider, body, request.headers, session=db)
    return WebhookOut(outcome=outcome)
