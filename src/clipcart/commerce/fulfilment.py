"""After payment: shipping (one order or many), delivery, completion (the escrow is released)
and the order notifications. Every status change goes through orders.record_transition.
Services never commit; cancellation (which may refund) is in cancelling.py."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.commerce import domain, orders
from clipcart.commerce.config import get_commerce_settings
from clipcart.commerce.models import Order, ReturnRequest
from clipcart.core import clock
from clipcart.core.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.notifications import service as notifications
from clipcart.shops import service as shops
from clipcart.shops.domain import ANY_ROLE

FULFILMENT_ROLES = ANY_ROLE  # owner, manager and fulfilment staff ship and cancel orders
CARRIERS: dict[str, str] = {
    "ups": "UPS",
    "usps": "USPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "royal_mail": "Royal Mail",
    "dpd": "DPD",
    "la_poste": "La Poste",
    "sf_express": "SF Express",
    "other": "Other",
}
_TRACKING = re.compile(r"[A-Z0-9]{6,40}")
OPEN_RETURN_STATUSES = ("requested", "approved", "returned")
BULK_SHIP_MAX = 100


# --- pure rules --------------------------------------------------------------------------


def normalize_tracking(raw: str) -> str:
    """A tracking number as stored: spaces and dashes dropped, upper case."""
    return re.sub(r"[\s-]+", "", raw).upper()


def shipment_problems(carrier: str, tracking_number: str) -> dict[str, str]:
    """What is wrong with a carrier and (normalised) tracking number, per field."""
    problems: dict[str, str] = {}
    if carrier not in CARRIERS:
        problems["carrier"] = "Choose a carrier from the list (or Other)."
    if not _TRACKING.fullmatch(tracking_number):
        problems["tracking_number"] = (
            "Enter the tracking number: 6 to 40 letters and digits, like 1Z999AA10123456784."
        )
    return problems


def carrier_name(carrier: str) -> str:
    """How people read a carrier code."""
    return CARRIERS.get(carrier, carrier)


def require_move(order: Order, target: str) -> None:
    """Raise the 409 record_transition would, before anything else changes."""
    if not domain.may_move(order.status, target):
        raise Conflict(
            f"This order is {domain.buyer_label(order.status).lower()}: it cannot become "
            f"{domain.buyer_label(target).lower()}.",
            code="order_wrong_state",
            data={"order_status": order.status, "target": target},
        )


# --- loading orders for the shop ---------------------------------------------------------


async def get_shop_order(
    viewer: User,
    handle: str,
    order_id: uuid.UUID,
    *,
    session: AsyncSession,
    roles: frozenset[str] | None = FULFILMENT_ROLES,
    lock: bool = False,
) -> Order:
    """An order of the shop @handle that `viewer` works for (404 for other shops' orders)."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=roles)
    order = await orders.get_order_for_staff(viewer, order_id, session=session, lock=lock)
    if order.shop_id != shop.id:
        raise NotFound("There is no such order.", code="order_not_found")
    return order


async def get_own_order(
    viewer: User, order_id: uuid.UUID, *, session: AsyncSession, lock: bool = False
) -> Order:
    """An order `viewer` bought (its shop's staff may read it but not act as the buyer)."""
    order = await orders.get_order_for(viewer, order_id, session=session, lock=lock)
    if order.buyer_id != viewer.id:
        raise Forbidden("Only the buyer can do that.", code="buyer_only")
    return order


# --- shipping ----------------------------------------------------------------------------


async def ship_order(
    order: Order, *, carrier: str, tracking_number: str, actor: User, session: AsyncSession
) -> Order:
    """Mark a paid order shipped with its carrier and tracking number (422 / 409)."""
    carrier = carrier.strip().lower()
    tracking = normalize_tracking(tracking_number)
    problems = shipment_problems(carrier, tracking)
    if problems:
        raise ValidationFailed(
            "Check the shipment details.",
            data={"errors": [{"field": f, "message": m} for f, m in problems.items()]},
        )
    # Checked before anything changes, so a bulk shipment can go on with the next order.
    require_move(order, domain.SHIPPED)
    order.carrier, order.tracking_number = carrier, tracking
    await orders.record_transition(
        order,
        domain.SHIPPED,
        actor_id=actor.id,
        note=f"{carrier_name(carrier)} {tracking}",
        session=session,
    )
    return order


@dataclass(frozen=True)
class ShipmentResult:
    """What happened to one order of a bulk shipment."""

    order_id: uuid.UUID
    ok: bool
    status: str | None = None
    code: str | None = None
    message: str | None = None


async def ship_orders(
    actor: User,
    handle: str,
    shipments: list[tuple[uuid.UUID, str, str]],
    *,
    session: AsyncSession,
) -> list[ShipmentResult]:
    """Ship several orders of one shop: each succeeds or fails on its own, with its reason
    (in the order given). Every check runs before an order changes, so a refused one leaves
    nothing behind; orders are locked in id order, so two bulk requests cannot deadlock."""
    await shops.get_shop_for_staff(actor, handle, session=session, roles=FULFILMENT_ROLES)
    first: dict[uuid.UUID, int] = {}
    for index, (order_id, _carrier, _tracking) in enumerate(shipments):
        first.setdefault(order_id, index)
    done: dict[uuid.UUID, ShipmentResult] = {}
    for order_id in sorted(first, key=str):
        _, carrier, tracking = shipments[first[order_id]]
        try:
            order = await get_shop_order(actor, handle, order_id, session=session, lock=True)
            await ship_order(
                order, carrier=carrier, tracking_number=tracking, actor=actor, session=session
            )
        except AppError as error:
            errors = error.data.get("errors") if isinstance(error.data, dict) else None
            message = "; ".join(e["message"] for e in errors) if errors else error.message
            done[order_id] = ShipmentResult(order_id, False, code=error.code, message=message)
            continue
        done[order_id] = ShipmentResult(order_id, True, status=order.status)
    await session.flush()
    return [
        done[order_id]
        if first[order_id] == index
        else ShipmentResult(order_id, False, code="duplicate", message="Listed twice.")
        for index, (order_id, _carrier, _tracking) in enumerate(shipments)
    ]


# --- delivery and completion -------------------------------------------------------------


async def confirm_delivery(order: Order, *, actor: User, session: AsyncSession) -> Order:
    """The buyer says the parcel arrived (shipped orders only: 409 otherwise)."""
    require_move(order, domain.DELIVERED)
    await orders.record_transition(
        order, domain.DELIVERED, actor_id=actor.id, note="Delivery confirmed", session=session
    )
    return order


async def orders_due_for_delivery(*, session: AsyncSession, limit: int = 200) -> list[uuid.UUID]:
    """Shipped orders whose automatic delivery date has passed, oldest first."""
    days = get_commerce_settings().delivery_auto_confirm_days
    rows = await session.scalars(
        select(Order.id)
        .where(
            Order.status == domain.SHIPPED,
            Order.shipped_at <= clock.now() - timedelta(days=days),
        )
        .order_by(Order.shipped_at, Order.id)
        .limit(limit)
    )
    return list(rows)


async def auto_deliver(order_id: uuid.UUID, *, session: AsyncSession) -> bool:
    """Count one shipped order as delivered if it is (still) due; whether it moved."""
    order = await orders.get_order(order_id, session=session, lock=True)
    days = get_commerce_settings().delivery_auto_confirm_days
    if order.status != domain.SHIPPED or order.shipped_at is None:
        return False
    if clock.as_utc(order.shipped_at) > clock.now() - timedelta(days=days):
        return False
    await orders.record_transition(
        order,
        domain.DELIVERED,
        actor_id=None,
        note=f"Delivered automatically {days} days after shipping",
        session=session,
    )
    return True


def _no_open_return() -> object:
    return ~exists().where(
        ReturnRequest.order_id == Order.id, ReturnRequest.status.in_(OPEN_RETURN_STATUSES)
    )


async def orders_due_for_completion(*, session: AsyncSession, limit: int = 200) -> list[uuid.UUID]:
    """Delivered orders whose return window is over and that have no open return."""
    days = get_commerce_settings().return_window_days
    rows = await session.scalars(
        select(Order.id)
        .where(
            Order.status == domain.DELIVERED,
            Order.delivered_at <= clock.now() - timedelta(days=days),
            _no_open_return(),  # type: ignore[arg-type]
        )
        .order_by(Order.delivered_at, Order.id)
        .limit(limit)
    )
    return list(rows)


async def has_open_return(order_id: uuid.UUID, *, session: AsyncSession) -> bool:
    """Whether a return of the order is still being handled."""
    found = await session.scalar(
        select(ReturnRequest.id)
        .where(ReturnRequest.order_id == order_id, ReturnRequest.status.in_(OPEN_RETURN_STATUSES))
        .limit(1)
    )
    return found is not None


async def complete_order(order_id: uuid.UUID, *, session: AsyncSession) -> bool:
    """Complete a delivered order whose return window is over (no open return) and release
    its escrow to the seller and creator, in the same transaction. Whether it moved."""
    order = await orders.get_order(order_id, session=session, lock=True)
    days = get_commerce_settings().return_window_days
    if order.status != domain.DELIVERED or order.delivered_at is None:
        return False
    if clock.as_utc(order.delivered_at) > clock.now() - timedelta(days=days):
        return False
    if await has_open_return(order.id, session=session):
        return False
    await orders.record_transition(
        order, domain.COMPLETED, actor_id=None, note="Return window over", session=session
    )
    await ledger.release_order_funds(order_ref=domain.order_ref(order.id), session=session)
    return True


def return_deadline(order: Order) -> datetime | None:
    """When the buyer's return window closes (None before delivery)."""
    if order.delivered_at is None:
        return None
    days = get_commerce_settings().return_window_days
    return clock.as_utc(order.delivered_at) + timedelta(days=days)


# --- notifications -----------------------------------------------------------------------


def _money(amount: int, currency: str) -> str:
    return Money(amount, currency).format()


async def notify_shop(
    order: Order,
    *,
    kind: str,
    title: str,
    body: str = "",
    page: str = "orders",
    session: AsyncSession,
) -> None:
    """An in-app notification to every staff member of the order's shop, linking to the order
    in the seller center (or to its returns, with page="returns")."""
    shop = await shops.get_shop(order.shop_id, session=session)
    link = (
        f"/seller/{shop.handle}/returns"
        if page == "returns"
        else f"/seller/{shop.handle}/orders/{order.id}"
    )
    for staff, _handle in await shops.list_staff(shop, session=session):
        await notifications.notify(
            staff.user_id, kind=kind, title=title, body=body, link=link, session=session
        )


async def notify_order_transition(
    order: Order, from_status: str | None, to_status: str, *, session: AsyncSession
) -> None:
    """Tell the buyer (email for confirmation, shipped, delivered) and the shop what happened."""
    link = f"/orders/{order.id}"
    number = order.number
    total = _money(order.total, order.currency)
    if to_status == domain.PAID:
        # The shop's side first: reading its staff would flush the buyer's row on its own, and
        # after it both go in one INSERT (every payment passes here).
        await notify_shop(
            order,
            kind="order_new",
            title=f"New order {number}",
            body=f"{total} paid. Pack and ship it.",
            session=session,
        )
        await notifications.notify(
            order.buyer_id,
            kind="order_confirmed",
            title=f"Order {number} confirmed",
            body=f"Thank you! We received your payment of {total}. We will tell you when it ships.",
            link=link,
            email=True,
            session=session,
        )
    elif to_status == domain.SHIPPED:
        await notifications.notify(
            order.buyer_id,
            kind="order_shipped",
            title=f"Order {number} shipped",
            body=f"Carrier: {carrier_name(order.carrier)}. "
            f"Tracking number: {order.tracking_number}.",
            link=link,
            email=True,
            session=session,
        )
    elif to_status == domain.DELIVERED:
        days = get_commerce_settings().return_window_days
        await notifications.notify(
            order.buyer_id,
            kind="order_delivered",
            title=f"Order {number} delivered",
            body=f"Something wrong? You can ask for a return within {days} days.",
            link=link,
            email=True,
            session=session,
        )
    elif to_status == domain.CANCELLED:
        reason = order.cancel_reason or "The order was cancelled."
        paid = from_status == domain.PAID
        await notifications.notify(
            order.buyer_id,
            kind="order_cancelled",
            title=f"Order {number} cancelled",
            body=reason + (f" Your payment of {total} will be refunded." if paid else ""),
            link=link,
            session=session,
        )
        if paid:
            await notify_shop(
                order,
                kind="order_cancelled",
                title=f"Order {number} cancelled",
                body=reason,
                session=session,
            )
    elif to_status == domain.COMPLETED:
        await notify_shop(
            order,
            kind="order_completed",
            title=f"Order {number} completed",
            body="The return window is over: the money is now in your balance.",
            session=session,
        )


async def notify_refund(order: Order, amount: int, *, session: AsyncSession) -> None:
    """Email the buyer that money went back to their card."""
    await notifications.notify(
        order.buyer_id,
        kind="order_refunded",
        title=f"Refund for order {order.number}",
        body=f"We refunded {_money(amount, order.currency)} to your card. "
        "It can take a few days to show.",
        link=f"/orders/{order.id}",
        email=True,
        session=session,
    )


orders.on_transition(notify_order_transition)
