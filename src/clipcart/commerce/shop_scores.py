"""Each shop's fulfilment score (shops.domain.order_kept / fulfilment_score), tallied from its
recent paid orders by a job and kept on the shop, where buyers and creators see it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.commerce import domain
from clipcart.commerce.models import Order, OrderEvent
from clipcart.core import clock
from clipcart.shops import domain as shop_domain
from clipcart.shops import service as shops
from clipcart.shops.models import Shop


async def tally_fulfilment(*, session: AsyncSession) -> dict[uuid.UUID, tuple[int, int]]:
    """(orders due, orders kept) per shop, of the orders paid in the score's window."""
    now = clock.now()
    since = now - timedelta(days=shop_domain.SCORE_WINDOW_DAYS)
    buyer_cancel = and_(
        OrderEvent.order_id == Order.id,
        OrderEvent.to_status == domain.CANCELLED,
        OrderEvent.actor_id == Order.buyer_id,
    )
    rows = await session.execute(
        select(
            Order.shop_id,
            Order.status,
            Order.paid_at,
            Order.shipped_at,
            Shop.processing_days,
            OrderEvent.id.is_not(None),
        )
        .join(Shop, Shop.id == Order.shop_id)
        .outerjoin(OrderEvent, buyer_cancel)
        .where(Order.paid_at.is_not(None), Order.paid_at >= since)
    )
    tallies: dict[uuid.UUID, tuple[int, int]] = {}
    for shop_id, status, paid_at, shipped_at, processing_days, by_buyer in rows.all():
        if paid_at is None:
            continue  # (the query asks for paid orders only)
        kept = shop_domain.order_kept(
            paid_at=clock.as_utc(paid_at),
            shipped_at=clock.as_utc(shipped_at) if shipped_at is not None else None,
            cancelled=status == domain.CANCELLED,
            cancelled_by_buyer=bool(by_buyer),
            processing_days=processing_days,
            now=now,
        )
        if kept is None:
            continue
        due, kept_so_far = tallies.get(shop_id, (0, 0))
        tallies[shop_id] = (due + 1, kept_so_far + int(kept))
    return tallies


async def refresh_shop_scores(*, session: AsyncSession) -> int:
    """Recompute every shop's fulfilment score; how many changed."""
    return await shops.record_fulfilment_scores(
        await tally_fulfilment(session=session), session=session
    )
