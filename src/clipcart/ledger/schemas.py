"""What the ledger hands back: transfers, balances, statement lines, escrow terms."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from clipcart.core.money import Money
from clipcart.ledger.domain import Phase, Side


class LegOut(BaseModel):
    """One leg of a transfer."""

    model_config = ConfigDict(frozen=True)

    account_id: uuid.UUID
    side: Side
    amount: int


class TransferOut(BaseModel):
    """A posted, pending, or resolving transfer with its legs."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    idempotency_key: str
    kind: str
    phase: Phase
    currency: str
    total: int
    memo: str
    reference: str | None
    pending_id: uuid.UUID | None
    reverses_id: uuid.UUID | None
    created_at: datetime
    legs: list[LegOut]

    @property
    def amount(self) -> Money:
        """The total moved, as Money."""
        return Money(self.total, self.currency)

    def leg_for(self, account_id: uuid.UUID) -> LegOut | None:
        """The leg on `account_id`, if the transfer touches it."""
        return next((leg for leg in self.legs if leg.account_id == account_id), None)


class BalanceOut(BaseModel):
    """An account and its balances in its normal direction (minor units)."""

    model_config = ConfigDict(frozen=True)

    account_id: uuid.UUID
    kind: str
    owner_type: str
    owner_id: uuid.UUID
    currency: str
    normal_side: Side
    may_go_negative: bool
    posted: int
    pending: int
    available: int
    posted_debits: int
    posted_credits: int
    pending_debits: int
    pending_credits: int


class StatementLine(BaseModel):
    """One entry on an account's statement, with the running posted balance after it."""

    model_config = ConfigDict(frozen=True)

    sequence: int
    transfer_id: uuid.UUID
    kind: str
    phase: Phase
    side: Side
    amount: int
    balance_after: int
    currency: str
    memo: str
    reference: str | None
    created_at: datetime


class EscrowOut(BaseModel):
    """How an order's captured money is held and will be split at release."""

    model_config = ConfigDict(frozen=True)

    order_ref: str
    currency: str
    amount: int
    seller_amount: int
    creator_amount: int
    platform_amount: int
    shop_id: uuid.UUID
    creator_id: uuid.UUID | None
    escrow_account_id: uuid.UUID
    hold_transfer_id: uuid.UUID


class Discrepancy(BaseModel):
    """Something `verify_ledger` found that does not add up."""

    model_config = ConfigDict(frozen=True)

    check: str
    subject: str
    expected: int | None
    actual: int | None
    detail: str


class PayoutIn(BaseModel):
    """A payout request: minor units of a currency the payee holds, to a bank token."""

    amount: int = Field(gt=0, description="Minor units (cents)")
    currency: str = Field(min_length=3, max_length=3, examples=["USD"])
    destination: str | None = Field(
        default=None, description="Bank account token (default: the one in the payout setting)"
    )


class PayoutOut(BaseModel):
    """A payout and where it is."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: uuid.UUID
    owner_type: str
    owner_id: uuid.UUID
    currency: str
    amount: int
    status: str
    destination: str
    provider: str
    provider_reference: str | None
    failure_reason: str
    schedule_period: str | None
    created_at: datetime
    submitted_at: datetime | None
    settled_at: datetime | None

    @property
    def money(self) -> Money:
        """The amount as Money."""
        return Money(self.amount, self.currency)


class PayoutScheduleIn(BaseModel):
    """The automatic payout setting of one currency."""

    currency: str = Field(min_length=3, max_length=3, examples=["USD"])
    frequency: Literal["off", "daily", "weekly"]
    minimum: int = Field(default=0, ge=0, description="Pay out only above this (minor units)")
    destination: str | None = None


class PayoutScheduleOut(BaseModel):
    """The automatic payout setting as stored (frequency off when never set)."""

    model_config = ConfigDict(frozen=True)

    currency: str
    frequency: str
    minimum: int
    destination: str


class PayeeBalanceOut(BaseModel):
    """A payee's money in one currency (minor units): held, spendable, on its way out."""

    model_config = ConfigDict(frozen=True)

    currency: str
    posted: int
    pending: int
    available: int
    in_transit: int
    minimum_payout: int


class StatementEntryOut(BaseModel):
    """One line of a payee's statement: what happened, to which order, +/- and the balance."""

    model_config = ConfigDict(frozen=True)

    sequence: int
    created_at: datetime
    kind: str
    description: str
    reference: str | None
    amount: int
    pending: bool
    balance_after: int
    currency: str
    order_amount: int | None = None
    platform_fee: int | None = None
