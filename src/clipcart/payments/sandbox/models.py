"""The sandbox provider's own tables: in real life these live at the provider, not with us."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core import clock
from clipcart.core.db import Base


class SandboxCard(Base):
    """A tokenised test card (the only place a card number is kept)."""

    __tablename__ = "sandbox_cards"

    token: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[str] = mapped_column(String(19))
    brand: Mapped[str] = mapped_column(String(16))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class SandboxCharge(Base):
    """A charge (authorisation, capture, refunds) keyed by the merchant's idempotency key."""

    __tablename__ = "sandbox_charges"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    card_token: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24))
    amount_captured: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_message: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class SandboxRefund(Base):
    """A refund of part or all of a captured charge."""

    __tablename__ = "sandbox_refunds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    charge_id: Mapped[str] = mapped_column(String(40), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class SandboxEvent(Base):
    """A webhook the sandbox owes the merchant, with its delivery log."""

    __tablename__ = "sandbox_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
