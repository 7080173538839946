"""Payments tables: saved payment methods (tokens only), intents, their audit trail, refunds,
and the provider events already processed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core import clock
from clipcart.core.db import Base, IdMixin, TimestampMixin


class PaymentMethod(IdMixin, TimestampMixin, Base):
    """A card saved at the provider: the token and what may be shown, never the number."""

    __tablename__ = "payment_methods"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    brand: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)


class PaymentIntent(IdMixin, TimestampMixin, Base):
    """One attempt to be paid for an order, through a provider."""

    __tablename__ = "payment_intents"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    order_ref: Mapped[str] = mapped_column(String(200), index=True)
    shop_id: Mapped[uuid.UUID]
    creator_id: Mapped[uuid.UUID | None]
    commission: Mapped[int | None] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    # What we send the provider as its idempotency key and reference: one charge per intent.
    provider_key: Mapped[str] = mapped_column(String(64), unique=True)
    provider_charge_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    payment_method_token: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    amount_captured: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)


class PaymentIntentEvent(IdMixin, TimestampMixin, Base):
    """The append-only audit trail: every state change of an intent and why."""

    __tablename__ = "payment_intent_events"

    intent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_intents.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(300))
    provider_event_id: Mapped[str | None] = mapped_column(String(64))


class PaymentRefund(IdMixin, TimestampMixin, Base):
    """Money given back on a captured intent."""

    __tablename__ = "payment_refunds"

    intent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_intents.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    provider_refund_id: Mapped[str | None] = mapped_column(String(64), unique=True)


class ProcessedProviderEvent(Base):
    """A provider webhook already handled (duplicates are ignored by event id)."""

    __tablename__ = "payment_provider_events"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
