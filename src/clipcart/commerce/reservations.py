"""Stock reservations: stock taken when an order is placed (held), kept when it is paid
(committed), given back when it is cancelled or expires (released) or comes back (returned).
Every stock change goes through catalog.stock.adjust_stock (one conditional UPDATE, never
below zero), always in variant-id order so concurrent checkouts cannot deadlock."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.catalog import stock as catalog_stock
from clipcart.catalog.models import Variant
from clipcart.commerce import coupons, domain, flash_deals
from clipcart.commerce.models import Order, OrderLine, StockReservation
from clipcart.core import clock
from clipcart.core.errors import Conflict


def sold_out(title: str, *, variant_id: uuid.UUID | None, left: int = 0) -> Conflict:
    """The 409 a buyer gets when there is not enough stock for a line."""
    message = (
        f"{title} is sold out."
        if left <= 0
        else f"Only {left} of {title} left: lower the quantity and try again."
    )
    return Conflict(
        message,
        code="sold_out",
        data={"variant_id": str(variant_id) if variant_id else None, "title": title, "left": left},
    )


async def _variants(ids: Sequence[uuid.UUID], session: AsyncSession) -> dict[uuid.UUID, Variant]:
    if not ids:
        return {}
    rows = await session.scalars(select(Variant).where(Variant.id.in_(set(ids))))
    return {variant.id: variant for variant in rows}


async def reserve_lines(
    pairs: Sequence[tuple[Order, OrderLine]],
    *,
    session: AsyncSession,
    variants: dict[uuid.UUID, Variant] | None = None,
) -> list[StockReservation]:
    """Take stock for lines of one or more orders (variant-id order; 409 sold_out naming the
    product when one cannot be had: the caller's transaction must then roll back)."""
    ordered = sorted(
        (pair for pair in pairs if pair[1].variant_id is not None),
        key=lambda pair: (str(pair[1].variant_id), str(pair[0].id)),
    )
    known = variants or await _variants([line.variant_id for _, line in ordered], session)  # type: ignore[misc]
    reservations: list[StockReservation] = []
    for order, line in ordered:
        assert line.variant_id is not None
        variant = known.get(line.variant_id)
        if variant is None:
            raise sold_out(line.title, variant_id=line.variant_id)
        try:
            await catalog_stock.adjust_stock(
                variant,
                -line.quantity,
                reason="reservation",
                actor_id=order.buyer_id,
                note=f"order {order.number}",
                session=session,
            )
        except Conflict as error:
            left = await session.scalar(select(Variant.stock).where(Variant.id == variant.id))
            raise sold_out(line.title, variant_id=variant.id, left=int(left or 0)) from error
        reservation = StockReservation(
            order_id=order.id,
            variant_id=variant.id,
            quantity=line.quantity,
            status=domain.HELD,
        )
        session.add(reservation)
        reservations.append(reservation)
    return reservations


async def reserve_for_order(
    order: Order, lines: Sequence[OrderLine], *, session: AsyncSession
) -> list[StockReservation]:
    """Take stock for the order's lines (409 sold_out, nothing kept once rolled back)."""
    return await reserve_lines([(order, line) for line in lines], session=session)


# Built once (every payment runs it): the held reservations of the order bound as
# `paid_order_id` committed at the time bound as `now`.
_COMMIT_HELD = (
    update(StockReservation)
    .where(
        StockReservation.order_id == bindparam("paid_order_id"),
        StockReservation.status == domain.HELD,
    )
    .values(status=domain.COMMITTED, updated_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)


async def commit_reservations(order_id: uuid.UUID, *, session: AsyncSession) -> int:
    """The order was paid: its held stock is now sold. How many reservations moved."""
    result = await session.execute(_COMMIT_HELD, {"paid_order_id": order_id, "now": clock.now()})
    return int(getattr(result, "rowcount", 0) or 0)


async def _locked_reservations(
    order_id: uuid.UUID, statuses: Sequence[str], session: AsyncSession
) -> list[StockReservation]:
    rows = await session.scalars(
        select(StockReservation)
        .where(StockReservation.order_id == order_id, StockReservation.status.in_(statuses))
        .order_by(StockReservation.variant_id, StockReservation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def release_reservations(
    order_id: uuid.UUID, *, reason: str = "", session: AsyncSession
) -> int:
    """Give back the stock of an order that will not ship (held or committed-but-not-shipped
    reservations; stock movement reason "release"). Idempotent; how many units came back."""
    reservations = await _locked_reservations(order_id, (domain.HELD, domain.COMMITTED), session)
    variants = await _variants([r.variant_id for r in reservations if r.variant_id], session)
    released = 0
    for reservation in reservations:
        variant = variants.get(reservation.variant_id) if reservation.variant_id else None
        if variant is not None:
            await catalog_stock.adjust_stock(
                variant,
                reservation.quantity,
                reason="release",
                actor_id=None,
                note=(reason or "order released")[:500],
                session=session,
            )
            released += reservation.quantity
        reservation.status = domain.RELEASED
        reservation.updated_at = clock.now()
    return released


async def return_stock(order_line: OrderLine, quantity: int, *, session: AsyncSession) -> int:
    """Returned goods go back on sale (reason "return"); the line's committed reservation is
    split so committed + returned still add up. How many units came back."""
    if quantity <= 0 or order_line.variant_id is None:
        return 0
    rows = await session.scalars(
        select(StockReservation)
        .where(
            StockReservation.order_id == order_line.order_id,
            StockReservation.variant_id == order_line.variant_id,
            StockReservation.status == domain.COMMITTED,
        )
        .order_by(StockReservation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    left = quantity
    for reservation in rows:
        if left <= 0:
            break
        taken = min(left, reservation.quantity)
        if taken == reservation.quantity:
            reservation.status = domain.RETURNED
        else:
            reservation.quantity -= taken
            session.add(
                StockReservation(
                    order_id=reservation.order_id,
                    variant_id=reservation.variant_id,
                    quantity=taken,
                    status=domain.RETURNED,
                )
            )
        reservation.updated_at = clock.now()
        left -= taken
    back = quantity - left
    variant = await session.get(Variant, order_line.variant_id)
    if back and variant is not None:
        await catalog_stock.adjust_stock(
            variant, back, reason="return", actor_id=None, note="returned", session=session
        )
    return back


async def release_order_holds(order: Order, *, reason: str, session: AsyncSession) -> None:
    """Everything an unpaid (or cancelled) order held: stock, flash-deal units, coupons."""
    await release_reservations(order.id, reason=reason, session=session)
    lines = await session.scalars(
        select(OrderLine).where(
            OrderLine.order_id == order.id, OrderLine.flash_deal_id.is_not(None)
        )
    )
    for line in lines:
        assert line.flash_deal_id is not None
        await flash_deals.release_deal_units(line.flash_deal_id, line.quantity, session=session)
    await coupons.release_coupons_for_order(order.id, session=session)


async def expire_overdue_reservations(*, session: AsyncSession, limit: int = 500) -> int:
    """Cancel unpaid orders whose reservation ran out, releasing what they held. How many."""
    from clipcart.commerce.orders import record_transition

    statement = (
        select(Order)
        .where(
            Order.status == domain.PENDING_PAYMENT,
            Order.reservation_expires_at.is_not(None),
            Order.reservation_expires_at < clock.now(),
        )
        .order_by(Order.reservation_expires_at, Order.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    orders = list(await session.scalars(statement))
    for order in orders:
        await record_transition(
            order,
            domain.CANCELLED,
            actor_id=None,
            note="Not paid in time: the reservation expired.",
            session=session,
        )
        await release_order_holds(order, reason="reservation expired", session=session)
    return len(orders)
