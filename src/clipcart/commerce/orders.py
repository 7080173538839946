"""Orders: access, the single place a status changes (record_transition), and reading."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.commerce import domain
from clipcart.commerce.models import Order, OrderEvent, OrderLine
from clipcart.commerce.schemas import (
    OrderEventOut,
    OrderLineOut,
    OrderOut,
    OrderSummaryOut,
    PaymentStatusOut,
    ShopRefOut,
    TrackingOut,
)
from clipcart.core import clock
from clipcart.core.errors import Conflict, Forbidden, NotFound
from clipcart.core.money import Money
from clipcart.core.pagination import paginate
from clipcart.shops import service as shops
from clipcart.shops.models import Shop
from clipcart.shops.schemas import MoneyOut

log = logging.getLogger(__name__)

# listener(order, from_status, to_status, *, session): called inside the transaction that
# made the change (notifications, analytics). A listener failing fails the change.
TransitionListener = Callable[..., Awaitable[None]]
_transition_listeners: list[TransitionListener] = []


def on_transition(listener: TransitionListener) -> None:
    """Call `listener(order, from_status, to_status, *, session)` after every status change
    (registering the same listener twice keeps one)."""
    if listener not in _transition_listeners:
        _transition_listeners.append(listener)


def _not_found() -> NotFound:
    return NotFound("There is no such order.", code="order_not_found")


async def _load(order_id: uuid.UUID, *, session: AsyncSession, lock: bool) -> Order:
    statement = select(Order).where(Order.id == order_id)
    if lock:
        statement = statement.with_for_update()
    order = await session.scalar(statement.execution_options(populate_existing=True))
    if order is None:
        raise _not_found()
    return order


async def get_order(order_id: uuid.UUID, *, session: AsyncSession, lock: bool = False) -> Order:
    """The order, whoever asks (system use: jobs and listeners)."""
    return await _load(order_id, session=session, lock=lock)


async def orders_by_ids(
    order_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, Order]:
    """Orders by id, read in one query (unknown ids are left out; system use, no access check)."""
    wanted = set(order_ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(Order).where(Order.id.in_(wanted)))
    return {order.id: order for order in rows}


async def get_order_for(
    viewer: User, order_id: uuid.UUID, *, session: AsyncSession, lock: bool = False
) -> Order:
    """The order if `viewer` bought it, works for its shop or is an admin (404 otherwise)."""
    order = await _load(order_id, session=session, lock=lock)
    if order.buyer_id == viewer.id or "admin" in viewer.role_names:
        return order
    if await shops.is_shop_staff(viewer.id, order.shop_id, session=session):
        return order
    raise _not_found()


async def get_order_for_staff(
    viewer: User,
    order_id: uuid.UUID,
    *,
    session: AsyncSession,
    roles: frozenset[str] | None = None,
    lock: bool = False,
) -> Order:
    """The order if `viewer` works for its shop (in one of `roles`); 404 to others, 403 for a
    role that may not do this."""
    order = await _load(order_id, session=session, lock=lock)
    role = await shops.staff_role(viewer.id, order.shop_id, session=session)
    if role is None:
        raise _not_found()
    if roles is not None and role not in roles:
        raise Forbidden(
            "Your role in this shop does not allow that.",
            code="shop_role_required",
            data={"required_roles": sorted(roles), "role": role},
        )
    return order


async def record_transition(
    order: Order,
    to_status: str,
    *,
    actor_id: uuid.UUID | None,
    note: str = "",
    session: AsyncSession,
) -> OrderEvent:
    """Move the order to `to_status` (409 order_wrong_state when the lifecycle forbids it),
    stamp the matching time, append the timeline event and tell the listeners."""
    from_status = order.status
    if not domain.may_move(from_status, to_status):
        raise Conflict(
            f"This order is {domain.buyer_label(from_status).lower()}: it cannot become "
            f"{domain.buyer_label(to_status).lower()}.",
            code="order_wrong_state",
            data={"status": from_status, "target": to_status},
        )
    now = clock.now()
    order.status = to_status
    order.updated_at = now
    stamp = domain.TIMESTAMP_FIELDS.get(to_status)
    if stamp is not None:
        setattr(order, stamp, now)
    if to_status == domain.CANCELLED and note:
        order.cancel_reason = note[:300]
    event = OrderEvent(
        order_id=order.id,
        from_status=from_status,
        to_status=to_status,
        actor_id=actor_id,
        note=note[:500],
    )
    session.add(event)
    for listener in _transition_listeners:
        await listener(order, from_status, to_status, session=session)
    return event


def placed_event(order: Order, *, actor_id: uuid.UUID | None) -> OrderEvent:
    """The first timeline event of a new order."""
    return OrderEvent(
        order_id=order.id,
        from_status=None,
        to_status=order.status,
        actor_id=actor_id,
        note="Order placed",
    )


async def list_orders_for_buyer(
    buyer_id: uuid.UUID,
    *,
    session: AsyncSession,
    cursor: str | None = None,
    limit: int | None = None,
    status: str | None = None,
) -> tuple[list[Order], str | None]:
    """The buyer's orders, newest first, a page at a time."""
    statement = select(Order).where(Order.buyer_id == buyer_id)
    if status is not None:
        statement = statement.where(Order.status == status)
    rows, next_cursor = await paginate(
        session, statement, order_by=[Order.created_at, Order.id], cursor=cursor, limit=limit
    )
    return rows, next_cursor


async def list_order_lines(order_id: uuid.UUID, *, session: AsyncSession) -> list[OrderLine]:
    """The order's lines in the order they were placed."""
    rows = await session.scalars(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)
    )
    return list(rows)


async def lines_by_order(
    order_ids: Sequence[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, list[OrderLine]]:
    """The lines of several orders at once."""
    grouped: dict[uuid.UUID, list[OrderLine]] = {order_id: [] for order_id in order_ids}
    if not order_ids:
        return grouped
    rows = await session.scalars(
        select(OrderLine).where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.id)
    )
    for line in rows:
        grouped[line.order_id].append(line)
    return grouped


async def list_order_events(order_id: uuid.UUID, *, session: AsyncSession) -> list[OrderEvent]:
    """The order's timeline, oldest first."""
    rows = await session.scalars(
        select(OrderEvent)
        .where(OrderEvent.order_id == order_id)
        .order_by(OrderEvent.created_at, OrderEvent.id)
    )
    return list(rows)


# --- answers ---------------------------------------------------------------------------


def _money(amount: int, currency: str) -> MoneyOut:
    return MoneyOut.of(Money(amount, currency))


def _shop_ref(shop: Shop | None, shop_id: uuid.UUID) -> ShopRefOut:
    if shop is None:
        return ShopRefOut(id=shop_id, handle="", name="A closed shop")
    return ShopRefOut(id=shop.id, handle=shop.handle, name=shop.name)


def summary_out(order: Order, shop: Shop | None, lines: Sequence[OrderLine]) -> OrderSummaryOut:
    """An order as lists show it."""
    return OrderSummaryOut(
        id=order.id,
        number=order.number,
        checkout_id=order.checkout_id,
        status=order.status,
        status_label=domain.buyer_label(order.status),
        shop=_shop_ref(shop, order.shop_id),
        total=_money(order.total, order.currency),
        item_count=sum(line.quantity for line in lines),
        first_item_title=lines[0].title if lines else None,
        created_at=order.created_at,
        reservation_expires_at=order.reservation_expires_at,
    )


async def describe_orders(rows: Sequence[Order], *, session: AsyncSession) -> list[OrderSummaryOut]:
    """Several orders as lists show them (three queries however many)."""
    lines = await lines_by_order([order.id for order in rows], session=session)
    shop_rows = await shops.shops_by_ids({order.shop_id for order in rows}, session=session)
    return [summary_out(order, shop_rows.get(order.shop_id), lines[order.id]) for order in rows]


def _line_out(line: OrderLine, currency: str) -> OrderLineOut:
    return OrderLineOut(
        id=line.id,
        variant_id=line.variant_id,
        product_id=line.product_id,
        title=line.title,
        variant_title=line.variant_title,
        sku=line.sku,
        unit_price=_money(line.unit_price, currency),
        quantity=line.quantity,
        discount=_money(line.discount, currency),
        tax=_money(line.tax, currency),
        total=_money(line.total, currency),
        refunded=_money(line.refunded, currency),
        source_kind=line.source_kind,
        source_video_id=line.source_video_id,
        source_live_id=line.source_live_id,
        source_creator_id=line.source_creator_id,
    )


async def describe_order(order: Order, *, session: AsyncSession) -> OrderOut:
    """An order with its lines, totals, timeline, payment and tracking."""
    from clipcart.payments.models import PaymentIntent

    lines = await list_order_lines(order.id, session=session)
    timeline = await list_order_events(order.id, session=session)
    shop = (await shops.shops_by_ids([order.shop_id], session=session)).get(order.shop_id)
    payment = None
    if order.payment_intent_id is not None:
        intent = await session.get(PaymentIntent, order.payment_intent_id)
        if intent is not None:
            payment = PaymentStatusOut(
                intent_id=intent.id, status=intent.status, failure_message=intent.failure_message
            )
    summary = summary_out(order, shop, lines)
    currency = order.currency
    return OrderOut(
        **summary.model_dump(),
        buyer_id=order.buyer_id,
        lines=[_line_out(line, currency) for line in lines],
        subtotal=_money(order.subtotal, currency),
        shipping=_money(order.shipping, currency),
        discount=_money(order.discount, currency),
        tax=_money(order.tax, currency),
        refunded=_money(order.refunded, currency),
        ship_to=order.ship_to,
        timeline=[
            OrderEventOut(
                from_status=event.from_status,
                to_status=event.to_status,
                label=domain.buyer_label(event.to_status),
                note=event.note,
                actor_id=event.actor_id,
                at=event.created_at,
            )
            for event in timeline
        ],
        payment=payment,
        tracking=TrackingOut(carrier=order.carrier, tracking_number=order.tracking_number)
        if order.tracking_number
        else None,
        cancel_reason=order.cancel_reason,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        completed_at=order.completed_at,
        cancelled_at=order.cancelled_at,
    )
