"""Stock: every change is one conditional UPDATE plus a movement saying why; never below zero."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from clipcart.catalog import domain
from clipcart.catalog.models import StockMovement, Variant
from clipcart.core.errors import Conflict, NotFound, ValidationFailed
from clipcart.core.pagination import paginate
from clipcart.shops.models import Shop


def _check_reason(reason: str) -> None:
    if reason not in domain.STOCK_REASONS:
        raise ValidationFailed.field(
            "reason", f"Give a reason: one of {', '.join(domain.STOCK_REASONS)}."
        )


async def adjust_stock(
    variant: Variant,
    delta: int,
    *,
    reason: str,
    actor_id: uuid.UUID | None,
    session: AsyncSession,
    note: str = "",
) -> StockMovement:
    """Add `delta` (negative: remove) to the variant's stock and record why; refuses (409) to
    go below zero. One conditional UPDATE, so concurrent callers can never oversell."""
    _check_reason(reason)
    if delta == 0:
        raise ValidationFailed.field("delta", "The change cannot be zero.")
    if abs(delta) > domain.MAX_STOCK:
        raise ValidationFailed.field("delta", "That change is too large.")
    result = await session.execute(
        update(Variant)
        .where(Variant.id == variant.id, Variant.stock + delta >= 0)
        .values(stock=Variant.stock + delta)
        .returning(Variant.stock)
        .execution_options(synchronize_session=False)
    )
    after = result.scalar_one_or_none()
    if after is None:
        raise Conflict(
            "There is not enough stock for that.",
            code="insufficient_stock",
            data={"variant_id": str(variant.id), "requested": delta},
        )
    set_committed_value(variant, "stock", after)
    movement = StockMovement(
        variant_id=variant.id,
        shop_id=variant.shop_id,
        delta=delta,
        quantity_after=after,
        reason=reason,
        note=note.strip()[:500],
        actor_id=actor_id,
    )
    session.add(movement)
    await session.flush()
    return movement


async def set_stock(
    variant: Variant,
    quantity: int,
    *,
    reason: str,
    actor_id: uuid.UUID | None,
    session: AsyncSession,
    note: str = "",
) -> StockMovement | None:
    """Make the stock `quantity`, recording the difference as a movement (None: no change)."""
    _check_reason(reason)
    if not 0 <= quantity <= domain.MAX_STOCK:
        raise ValidationFailed.field("quantity", "Stock must be between 0 and 1,000,000,000.")
    current = await session.scalar(
        select(Variant.stock).where(Variant.id == variant.id).with_for_update()
    )
    if current is None:
        raise NotFound("There is no such variant.", code="variant_not_found")
    if quantity == current:
        set_committed_value(variant, "stock", current)
        return None
    return await adjust_stock(
        variant, quantity - current, reason=reason, actor_id=actor_id, session=session, note=note
    )


async def list_stock_movements(
    shop: Shop,
    *,
    session: AsyncSession,
    product_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[StockMovement], str | None]:
    """The shop's stock movements, newest first (one product's when `product_id` is given)."""
    statement = select(StockMovement).where(StockMovement.shop_id == shop.id)
    if product_id is not None:
        statement = statement.where(
            StockMovement.variant_id.in_(select(Variant.id).where(Variant.product_id == product_id))
        )
    rows, next_cursor = await paginate(
        session,
        statement,
        order_by=[StockMovement.created_at, StockMovement.id],
        cursor=cursor,
        limit=limit,
    )
    return rows, next_cursor
