"""Creator shares of an order's escrow: planned per line when the order is placed, claimed
per line when commerce refunds one, and the clawback each line's commission has had so far.
The split itself happens in escrow.py (hold, refunds); the pure rules are in shares.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.errors import NotFound
from clipcart.core.money import Money
from clipcart.ledger.errors import IdempotencyConflict, InvalidTransfer
from clipcart.ledger.models import LedgerEscrow, LedgerEscrowShare
from clipcart.ledger.shares import CreatorShare, Portion, line_clawbacks, order_portions


@dataclass(frozen=True, slots=True)
class ShareIn:
    """A commission one order line will earn a creator once the order is paid."""

    line_ref: str
    creator_id: uuid.UUID
    amount: int
    commission: int


async def share_rows(order_ref: str, session: AsyncSession) -> list[LedgerEscrowShare]:
    """The creator shares planned for an order, in line order."""
    rows = await session.scalars(
        select(LedgerEscrowShare)
        .where(LedgerEscrowShare.order_ref == order_ref)
        .order_by(LedgerEscrowShare.position, LedgerEscrowShare.line_ref)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def creator_shares(rows: list[LedgerEscrowShare]) -> list[CreatorShare]:
    """The pure view of share rows."""
    return [
        CreatorShare(
            row.line_ref, row.creator_id, row.amount, row.commission, row.claim, row.refunded
        )
        for row in rows
    ]


async def keep_assignment(
    order_ref: str, portions: list[Portion], assigned: list[int], session: AsyncSession
) -> None:
    """Remember what each credited line has had back, with the refund that moved it."""
    by_line = {
        portion.line_ref: part
        for portion, part in zip(portions, assigned, strict=True)
        if portion.line_ref is not None
    }
    if not by_line:
        return
    for row in await share_rows(order_ref, session):
        if row.line_ref in by_line:
            row.refunded = by_line[row.line_ref]
    await session.flush()


async def plan_creator_shares(
    *, order_ref: str, shares: list[ShareIn], session: AsyncSession
) -> None:
    """Record the commissions of an order's lines before its payment is captured (the
    capture must then carry their total as its `commission`, without one creator)."""
    existing = await session.scalar(
        select(LedgerEscrow.id).where(LedgerEscrow.order_ref == order_ref)
    )
    if existing is not None:
        raise IdempotencyConflict("That order's payment is already held.")
    for position, share in enumerate(shares):
        if not 0 <= share.commission <= share.amount:
            raise InvalidTransfer("A commission is between nothing and the line's amount.")
        session.add(
            LedgerEscrowShare(
                order_ref=order_ref,
                line_ref=share.line_ref,
                position=position,
                creator_id=share.creator_id,
                amount=share.amount,
                commission=share.commission,
                claim=0,
            )
        )
    await session.flush()


async def claim_line_refunds(
    *, order_ref: str, claims: dict[str, int], session: AsyncSession
) -> None:
    """Say how much each line will have had back in refunds in all, before the refund is
    asked for, so the ledger takes it from that line's commission (claims never shrink)."""
    if not claims:
        return
    rows = await session.scalars(
        select(LedgerEscrowShare)
        .where(
            LedgerEscrowShare.order_ref == order_ref,
            LedgerEscrowShare.line_ref.in_(list(claims)),
        )
        .with_for_update()
    )
    for row in rows:
        row.claim = max(row.claim, min(row.amount, claims[row.line_ref]))
    await session.flush()


async def line_clawbacks_of(order_ref: str, *, session: AsyncSession) -> dict[str, int]:
    """Per credited line of a held order, how much of its commission refunds took back."""
    escrow = await session.scalar(select(LedgerEscrow).where(LedgerEscrow.order_ref == order_ref))
    if escrow is None:
        raise NotFound("No payment is held for that order.", data={"order_ref": order_ref})
    shares = creator_shares(await share_rows(order_ref, session))
    if not shares or not escrow.creator_amount:
        return {}
    portions = order_portions(
        Money(escrow.amount, escrow.currency), fee_rate=Decimal(escrow.fee_rate), shares=shares
    )
    return {line: money.amount for line, money in line_clawbacks(portions, escrow.currency).items()}
