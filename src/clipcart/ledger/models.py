"""Ledger tables: accounts with balance columns, immutable transfers and entries, escrow terms."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clipcart.core import clock
from clipcart.core.db import Base, IdMixin, TimestampMixin

_CREDIT_AVAILABLE = "posted_credits - posted_debits - pending_debits"
_DEBIT_AVAILABLE = "posted_debits - posted_credits - pending_credits"


class LedgerAccount(IdMixin, TimestampMixin, Base):
    """An account: who owns it, its currency, and running totals kept with every entry."""

    __tablename__ = "ledger_accounts"

    kind: Mapped[str] = mapped_column(String(32))
    owner_type: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[uuid.UUID]
    currency: Mapped[str] = mapped_column(String(3))
    normal_side: Mapped[str] = mapped_column(String(6))
    may_go_negative: Mapped[bool]
    posted_debits: Mapped[int] = mapped_column(BigInteger, default=0)
    posted_credits: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_debits: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_credits: Mapped[int] = mapped_column(BigInteger, default=0)
    # Entries on this account so far; the next entry gets entry_count + 1 as its sequence.
    entry_count: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        UniqueConstraint("kind", "owner_type", "owner_id", "currency"),
        CheckConstraint("normal_side IN ('debit', 'credit')", name="normal_side"),
        CheckConstraint(
            "posted_debits >= 0 AND posted_credits >= 0 AND pending_debits >= 0"
            " AND pending_credits >= 0 AND entry_count >= 0",
            name="totals_not_negative",
        ),
        # Backs the conditional UPDATE: an account that may not go negative never does.
        CheckConstraint(
            f"may_go_negative OR (normal_side = 'credit' AND {_CREDIT_AVAILABLE} >= 0)"
            f" OR (normal_side = 'debit' AND {_DEBIT_AVAILABLE} >= 0)",
            name="not_overdrawn",
        ),
    )


class LedgerTransfer(IdMixin, TimestampMixin, Base):
    """A balanced movement of money between accounts; never changed once written."""

    __tablename__ = "ledger_transfers"

    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(500), default="")
    reference: Mapped[str | None] = mapped_column(String(200), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Unique: a pending transfer is posted or voided exactly once, a transfer reversed once.
    pending_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_transfers.id"), unique=True
    )
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_transfers.id"), unique=True
    )

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transfer", order_by="LedgerEntry.account_id", lazy="raise"
    )

    __table_args__ = (
        CheckConstraint("total > 0", name="total_positive"),
        CheckConstraint(
            "phase IN ('posted', 'pending', 'post_pending', 'void_pending')", name="phase"
        ),
        CheckConstraint(
            "(phase IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL)",
            name="resolution_names_pending",
        ),
        CheckConstraint("reverses_id IS NULL OR phase = 'posted'", name="reversal_posted"),
    )


class LedgerEntry(Base):
    """One leg of a transfer on one account, numbered per account, with the balance after it."""

    __tablename__ = "ledger_entries"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ledger_accounts.id"), primary_key=True
    )
    account_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_transfers.id"))
    side: Mapped[str] = mapped_column(String(6))
    amount: Mapped[int] = mapped_column(BigInteger)
    # The account's posted balance (normal direction) once this entry applied.
    balance_after: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    transfer: Mapped[LedgerTransfer] = relationship(back_populates="entries", lazy="raise")

    __table_args__ = (
        Index("ix_ledger_entries_transfer_id", "transfer_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("side IN ('debit', 'credit')", name="side"),
        CheckConstraint("account_seq > 0", name="seq_positive"),
    )


class LedgerEscrow(IdMixin, TimestampMixin, Base):
    """The terms an order's money was captured on; written once, owner of its escrow account."""

    __tablename__ = "ledger_escrows"

    order_ref: Mapped[str] = mapped_column(String(200), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    shop_id: Mapped[uuid.UUID]
    creator_id: Mapped[uuid.UUID | None]
    seller_amount: Mapped[int] = mapped_column(BigInteger)
    creator_amount: Mapped[int] = mapped_column(BigInteger)
    platform_amount: Mapped[int] = mapped_column(BigInteger)
    fee_rate: Mapped[str] = mapped_column(String(20))

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "seller_amount >= 0 AND creator_amount >= 0 AND platform_amount >= 0",
            name="parts_not_negative",
        ),
        CheckConstraint(
            "seller_amount + creator_amount + platform_amount = amount", name="parts_sum"
        ),
        CheckConstraint("creator_amount = 0 OR creator_id IS NOT NULL", name="creator_named"),
    )


class LedgerEscrowShare(IdMixin, Base):
    """A creator's commission on one line of an order, planned when the order is placed and
    split out of its escrow at capture (see ledger/shares.py); `claim` is what commerce says
    the line will have had back in refunds, so a line's refund claws back that line's
    commission; `refunded` is what the refunds so far were assigned to it."""

    __tablename__ = "ledger_escrow_shares"

    order_ref: Mapped[str] = mapped_column(String(200), index=True)
    line_ref: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    creator_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    commission: Mapped[int] = mapped_column(BigInteger)
    claim: Mapped[int] = mapped_column(BigInteger, default=0)
    # What refunds were assigned to this line so far (kept with each refund transfer).
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        UniqueConstraint("order_ref", "line_ref"),
        CheckConstraint(
            "amount >= 0 AND commission >= 0 AND commission <= amount AND claim >= 0"
            " AND refunded >= 0 AND refunded <= amount",
            name="amounts",
        ),
    )


PAYOUT_STATUSES = ("requested", "in_transit", "paid", "failed")
PAYOUT_FREQUENCIES = ("off", "daily", "weekly")


class LedgerPayout(IdMixin, TimestampMixin, Base):
    """A payout to a seller or creator as the pages show it; its money moves in the ledger."""

    __tablename__ = "ledger_payouts"

    owner_type: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[uuid.UUID]
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)
    destination: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str] = mapped_column(String(32))
    provider_reference: Mapped[str | None] = mapped_column(String(200), unique=True)
    failure_reason: Mapped[str] = mapped_column(String(300), default="")
    requested_by: Mapped[uuid.UUID | None]
    # "daily:2026-11-24" / "weekly:2026-W48" for automatic payouts: one per payee and period.
    schedule_period: Mapped[str | None] = mapped_column(String(32))
    submitted_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (
        Index("ix_ledger_payouts_owner", "owner_type", "owner_id", "created_at"),
        UniqueConstraint("owner_type", "owner_id", "currency", "schedule_period"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "status IN ('requested', 'in_transit', 'paid', 'failed')", name="status_known"
        ),
    )


class LedgerPayoutSchedule(TimestampMixin, Base):
    """A payee's automatic payout setting for one currency."""

    __tablename__ = "ledger_payout_schedules"

    owner_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(8))
    minimum: Mapped[int] = mapped_column(BigInteger)
    destination: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (
        CheckConstraint("frequency IN ('off', 'daily', 'weekly')", name="frequency_known"),
        CheckConstraint("minimum >= 0", name="minimum_not_negative"),
    )
