"""Payments API shapes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from clipcart.payments.models import PaymentIntent, PaymentIntentEvent, PaymentMethod


class CardIn(BaseModel):
    """A card to tokenise at the provider (passed through, never stored here)."""

    number: str = Field(min_length=12, max_length=23)
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    cvc: str = Field(min_length=3, max_length=4, pattern=r"^\d+$")


class PaymentMethodOut(BaseModel):
    id: uuid.UUID
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int

    @classmethod
    def of(cls, method: PaymentMethod) -> PaymentMethodOut:
        return cls(
            id=method.id,
            token=method.token,
            brand=method.brand,
            last4=method.last4,
            exp_month=method.exp_month,
            exp_year=method.exp_year,
        )


class IntentIn(BaseModel):
    """A payment for an order; confirmed at once when a payment method is given."""

    order_ref: str = Field(min_length=1, max_length=200)
    amount: int = Field(gt=0, description="Minor units")
    currency: str = Field(min_length=3, max_length=3)
    shop_id: uuid.UUID
    creator_id: uuid.UUID | None = None
    commission: int | None = Field(default=None, ge=0)
    payment_method: str | None = None


class ConfirmIn(BaseModel):
    payment_method: str | None = None


class RefundIn(BaseModel):
    amount: int = Field(gt=0, description="Minor units")


class IntentEventOut(BaseModel):
    from_status: str | None
    to_status: str
    reason: str
    provider_event_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, event: PaymentIntentEvent) -> IntentEventOut:
        return cls(
            from_status=event.from_status,
            to_status=event.to_status,
            reason=event.reason,
            provider_event_id=event.provider_event_id,
            created_at=event.created_at,
        )


class IntentOut(BaseModel):
    id: uuid.UUID
    order_ref: str
    status: str
    amount: int
    currency: str
    amount_captured: int
    amount_refunded: int
    payment_method: str | None
    failure_code: str | None
    failure_message: str | None
    next_action: str | None = Field(description="confirm: POST .../confirm after the payer's step")
    created_at: datetime
    history: list[IntentEventOut] = []

    @classmethod
    def of(cls, intent: PaymentIntent, history: list[PaymentIntentEvent]) -> IntentOut:
        return cls(
            id=intent.id,
            order_ref=intent.order_ref,
            status=intent.status,
            amount=intent.amount,
            currency=intent.currency,
            amount_captured=intent.amount_captured,
            amount_refunded=intent.amount_refunded,
            payment_method=intent.payment_method_token,
            failure_code=intent.failure_code,
            failure_message=intent.failure_message,
            next_action="confirm" if intent.status == "requires_action" else None,
            created_at=intent.created_at,
            history=[IntentEventOut.of(event) for event in history],
        )


class RefundOut(BaseModel):
    refund_id: uuid.UUID
    intent: IntentOut


class WebhookOut(BaseModel):
    received: bool = True
    outcome: str
