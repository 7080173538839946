"""Commissions: recorded per order line when the order is placed (and planned as creator
shares of the order's escrow), pending once paid, available when the order completes, clawed
back through the ledger when lines are refunded or the order is cancelled."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.affiliate import domain
from clipcart.affiliate.collaborations import rate_for_sale
from clipcart.affiliate.models import Commission
from clipcart.affiliate.schemas import CommissionOut
from clipcart.core import clock
from clipcart.core.errors import NotFound
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.shops import service as shops
from clipcart.shops.schemas import MoneyOut


@dataclass(frozen=True)
class SaleLine:
    """An order line as the affiliate program sees it, with its attribution."""

    order_line_id: uuid.UUID
    product_id: uuid.UUID | None
    title: str
    total: int
    tax: int
    source_kind: str
    creator_id: uuid.UUID | None
    video_id: uuid.UUID | None
    event_id: uuid.UUID | None
    source_at: datetime | None


@dataclass(frozen=True)
class Sale:
    """An order being placed."""

    order_id: uuid.UUID
    order_ref: str
    order_number: str
    shop_id: uuid.UUID
    buyer_id: uuid.UUID
    currency: str


async def record_commissions(sale: Sale, lines: list[SaleLine], *, session: AsyncSession) -> int:
    """Credit each line to the creator who earned it (the last qualifying touch, never the
    buyer's own, only under a collaboration), plan their shares of the escrow; the total
    commission of the order (0: none)."""
    now = clock.now()
    rows: list[Commission] = []
    for line in lines:
        if line.creator_id is None or line.product_id is None or line.source_at is None:
            continue
        touch = domain.Touch(
            line.creator_id, clock.as_utc(line.source_at), line.source_kind, line.event_id
        )
        if domain.credited_touch([touch], buyer_id=sale.buyer_id, now=now) is None:
            continue
        if await shops.is_shop_staff(line.creator_id, sale.shop_id, session=session):
            continue  # a shop's own people promote its products for nothing
        terms = await rate_for_sale(
            creator_id=line.creator_id,
            product_id=line.product_id,
            video_id=line.video_id,
            session=session,
        )
        if terms is None:
            continue
        rate_bp, collaboration_id = terms
        net = domain.line_net_amount(line.total, line.tax)
        amount = domain.commission_amount(net, rate_bp)
        if amount <= 0:
            continue
        rows.append(
            Commission(
                order_id=sale.order_id,
                order_line_id=line.order_line_id,
                order_number=sale.order_number,
                shop_id=sale.shop_id,
                product_id=line.product_id,
                product_title=line.title[:255],
                creator_id=line.creator_id,
                collaboration_id=collaboration_id,
                currency=sale.currency,
                line_total=line.total,
                net_amount=net,
                rate_bp=rate_bp,
                amount=amount,
                clawed_back=0,
                status=domain.AWAITING_PAYMENT,
                source_kind=line.source_kind,
                source_video_id=line.video_id,
                source_event_id=line.event_id,
                source_at=line.source_at,
            )
        )
    if not rows:
        return 0
    session.add_all(rows)
    await ledger.plan_creator_shares(
        order_ref=sale.order_ref,
        shares=[
            ledger.ShareIn(str(row.order_line_id), row.creator_id, row.line_total, row.amount)
            for row in rows
        ],
        session=session,
    )
    return sum(row.amount for row in rows)


async def _of_order(order_id: uuid.UUID, session: AsyncSession) -> list[Commission]:
    rows = await session.scalars(
        select(Commission)
        .where(Commission.order_id == order_id)
        .order_by(Commission.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(rows)


class OrderLike(Protocol):
    """What the listener reads of an order."""

    id: uuid.UUID
    paid_at: datetime | None


async def on_order_transition(
    order: OrderLike, from_status: str, to_status: str, *, session: AsyncSession
) -> None:
    """Follow the order: paid -> pending, completed -> available (the ledger released it in
    the same transaction), cancelled unpaid -> void; refunds are synced by sync_clawbacks."""
    if to_status not in {"paid", "completed", "cancelled", "refunded"}:
        return
    rows = await _of_order(order.id, session)
    if not rows:
        return
    now = clock.now()
    for row in rows:
        if to_status == "paid" and row.status == domain.AWAITING_PAYMENT:
            row.status = domain.PENDING
        elif to_status == "completed" and row.status == domain.PENDING:
            row.status, row.available_at = domain.AVAILABLE, now
        elif to_status == "cancelled" and from_status == "pending_payment":
            row.status = domain.VOID
    if to_status in {"refunded", "completed"}:
        await sync_clawbacks(order.id, order_ref=f"order:{order.id}", session=session)


async def sync_clawbacks(order_id: uuid.UUID, *, order_ref: str, session: AsyncSession) -> None:
    """Copy what refunds took back of each line's commission from the ledger (the one place
    it is decided), so each commission shows what it still earns."""
    rows = await _of_order(order_id, session)
    if not rows or all(row.status in {domain.VOID, domain.AWAITING_PAYMENT} for row in rows):
        return
    try:
        clawbacks = await ledger.line_clawbacks_of(order_ref, session=session)
    except NotFound:
        return  # never captured: nothing was held, nothing to take back
    for row in rows:
        row.clawed_back = min(row.amount, clawbacks.get(str(row.order_line_id), 0))
        if row.clawed_back >= row.amount:
            row.status = domain.CLAWED_BACK


def _money(amount: int, currency: str) -> MoneyOut:
    return MoneyOut.of(Money(amount, currency))


def commission_out(row: Commission) -> CommissionOut:
    """A commission for the API and pages."""
    return CommissionOut(
        id=row.id,
        order_id=row.order_id,
        order_number=row.order_number,
        order_line_id=row.order_line_id,
        product_id=row.product_id,
        product_title=row.product_title,
        shop_id=row.shop_id,
        creator_id=row.creator_id,
        rate_bp=row.rate_bp,
        net_amount=_money(row.net_amount, row.currency),
        amount=_money(row.amount, row.currency),
        clawed_back=_money(row.clawed_back, row.currency),
        earned=_money(row.amount - row.clawed_back, row.currency),
        status=row.status,
        source_kind=row.source_kind,
        source_video_id=row.source_video_id,
        source_event_id=row.source_event_id,
        source_at=row.source_at,
        created_at=row.created_at,
        available_at=row.available_at,
    )


async def list_commissions(
    *,
    session: AsyncSession,
    creator_id: uuid.UUID | None = None,
    shop_id: uuid.UUID | None = None,
    limit: int = 200,
) -> list[Commission]:
    """A creator's or a shop's commissions, newest first."""
    statement = select(Commission).order_by(Commission.created_at.desc(), Commission.id.desc())
    if creator_id is not None:
        statement = statement.where(Commission.creator_id == creator_id)
    if shop_id is not None:
        statement = statement.where(Commission.shop_id == shop_id)
    return list(await session.scalars(statement.limit(limit)))
