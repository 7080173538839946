"""Flash deals: a limited quantity of one variant at a deal price for a time window. Units are
claimed with one conditional UPDATE, so a deal never sells more than its quantity, and each
buyer's limit is counted from their orders. Services never commit."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import timedelta
from typing import Any, NoReturn

from sqlalchemy import ColumnElement, ScalarSelect, and_, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from clipcart.catalog.models import Variant
from clipcart.commerce import domain
from clipcart.commerce.models import Order, OrderLine
from clipcart.commerce.promotion_models import FlashDeal
from clipcart.commerce.promotion_schemas import FlashDealIn
from clipcart.core import clock
from clipcart.core.db import fixed_limit
from clipcart.core.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from clipcart.shops.models import Shop

MAX_DEAL_DAYS = 31
# A start a little in the past still counts as "now" (the seller's form took a moment).
START_GRACE = timedelta(minutes=5)


def deal_status(deal: FlashDeal) -> str:
    """scheduled, live, sold_out, ended or cancelled."""
    now = clock.now()
    if deal.cancelled:
        return "cancelled"
    if deal.ends_at <= now:
        return "ended"
    if deal.sold >= deal.quantity:
        return "sold_out"
    if deal.starts_at > now:
        return "scheduled"
    return "live"


def deal_view(deal: FlashDeal) -> dict[str, Any]:
    """What the product sheet shows of a deal: price, units left and the countdown."""
    now = clock.now()
    return {
        "id": str(deal.id),
        "variant_id": str(deal.variant_id),
        "deal_price": deal.deal_price,
        "quantity": deal.quantity,
        "remaining": max(deal.quantity - deal.sold, 0),
        "per_buyer_limit": deal.per_buyer_limit,
        "starts_at": deal.starts_at.isoformat(),
        "ends_at": deal.ends_at.isoformat(),
        "seconds_left": max(int((deal.ends_at - now).total_seconds()), 0),
        "status": deal_status(deal),
    }


def _is_live(deal: type[FlashDeal]) -> ColumnElement[bool]:
    """Window open at the time bound as `now`, not cancelled, units left."""
    return and_(
        deal.cancelled.is_(False),
        deal.starts_at <= bindparam("now"),
        deal.ends_at > bindparam("now"),
        deal.sold < deal.quantity,
    )


# Built once (the product sheet asks): the live deals of the variants bound as `variant_ids`
# at the time bound as `now`, the cheapest last.
_LIVE_DEALS = (
    select(FlashDeal)
    .where(FlashDeal.variant_id.in_(bindparam("variant_ids", expanding=True)), _is_live(FlashDeal))
    .order_by(FlashDeal.deal_price.desc(), FlashDeal.id)
)


def live_deal_id_of(variant_id: InstrumentedAttribute[uuid.UUID]) -> ScalarSelect[uuid.UUID]:
    """The id of the variant's live deal at the time bound as `now`, as a correlated
    subquery: the cheapest when deals overlap (the same one active_deals_for_variants picks),
    NULL when there is none."""
    deal = aliased(FlashDeal)
    return (
        select(deal.id)
        .where(deal.variant_id == variant_id, _is_live(deal))
        .order_by(deal.deal_price, deal.id.desc())
        .limit(fixed_limit(1))
        .scalar_subquery()
    )


async def active_deals_for_variants(
    variant_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, FlashDeal]:
    """The live deal of each variant that has one (window open, not cancelled, units left);
    the lowest price when deals overlap."""
    if not variant_ids:
        return {}
    rows = await session.scalars(
        _LIVE_DEALS, {"variant_ids": list(variant_ids), "now": clock.now()}
    )
    # Ordered by price descending, so the cheapest deal is written last and wins.
    return {deal.variant_id: deal for deal in rows.all()}


async def bought_at_deal(
    deal_id: uuid.UUID,
    buyer_id: uuid.UUID,
    *,
    session: AsyncSession,
    exclude_order_id: uuid.UUID | None = None,
) -> int:
    """Units of the deal in the buyer's orders that are not cancelled."""
    query = (
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.flash_deal_id == deal_id,
            Order.buyer_id == buyer_id,
            Order.status != domain.CANCELLED,
        )
    )
    if exclude_order_id is not None:
        query = query.where(Order.id != exclude_order_id)
    return int(await session.scalar(query) or 0)


async def claim_deal_units(
    deal_id: uuid.UUID,
    *,
    buyer_id: uuid.UUID,
    quantity: int,
    session: AsyncSession,
    exclude_order_id: uuid.UUID | None = None,
) -> int:
    """Take `quantity` units of a live deal for a buyer; how many are left. 409
    "deal_sold_out" when not enough are left (or the deal is over), "deal_limit_reached"
    past the buyer's limit. Pass the order being placed as `exclude_order_id` if its lines
    are already flushed."""
    if quantity <= 0:
        raise ValidationFailed.field("quantity", "Choose at least 1.")
    now = clock.now()
    result = await session.execute(
        update(FlashDeal)
        .where(
            FlashDeal.id == deal_id,
            FlashDeal.sold + quantity <= FlashDeal.quantity,
            FlashDeal.cancelled.is_(False),
            FlashDeal.starts_at <= now,
            FlashDeal.ends_at > now,
        )
        .values(sold=FlashDeal.sold + quantity)
        .returning(FlashDeal.quantity - FlashDeal.sold, FlashDeal.per_buyer_limit)
        .execution_options(synchronize_session=False)
    )
    row = result.one_or_none()
    if row is None:
        await _explain_refusal(deal_id, quantity, session=session)
    remaining, limit = row
    # The UPDATE locks the deal row until commit: a buyer's concurrent claims queue here.
    if limit is not None:
        before = await bought_at_deal(
            deal_id, buyer_id, session=session, exclude_order_id=exclude_order_id
        )
        if before + quantity > limit:
            may = max(limit - before, 0)
            more = (
                f"You may buy {may} more at the deal price."
                if may
                else "You have already bought all you may at the deal price."
            )
            raise Conflict(
                f"This deal is limited to {limit} per buyer. {more}",
                code="deal_limit_reached",
                data={"deal_id": str(deal_id), "per_buyer_limit": limit, "may_buy": may},
            )
    return int(remaining)


async def _explain_refusal(deal_id: uuid.UUID, quantity: int, *, session: AsyncSession) -> NoReturn:
    deal = await session.get(FlashDeal, deal_id, populate_existing=True)
    if deal is None:
        raise NotFound("There is no such flash deal.", code="deal_not_found")
    status = deal_status(deal)
    left = max(deal.quantity - deal.sold, 0)
    if status in ("ended", "cancelled", "scheduled"):
        message = {
            "ended": "This flash deal has ended.",
            "cancelled": "This flash deal was cancelled.",
            "scheduled": "This flash deal has not started yet.",
        }[status]
    elif left:
        message = f"Only {left} left at the deal price: lower the quantity to {left} or fewer."
    else:
        message = "This flash deal is sold out."
    raise Conflict(
        message,
        code="deal_sold_out",
        data={"deal_id": str(deal_id), "status": status, "remaining": left, "requested": quantity},
    )


async def release_deal_units(deal_id: uuid.UUID, quantity: int, *, session: AsyncSession) -> None:
    """Give units back to a deal (order cancelled unpaid); never below zero sold."""
    if quantity <= 0:
        return
    await session.execute(
        update(FlashDeal)
        .where(FlashDeal.id == deal_id)
        .values(sold=case((FlashDeal.sold >= quantity, FlashDeal.sold - quantity), else_=0))
        .execution_options(synchronize_session=False)
    )


# --- the seller's side -----------------------------------------------------------------------


async def create_flash_deal(
    shop: Shop, deal_in: FlashDealIn, *, session: AsyncSession
) -> FlashDeal:
    """A new deal on one of the shop's variants (price below the variant's, quantity within
    its stock, a window from now or later, not overlapping another deal of the variant)."""
    variant = await session.get(Variant, deal_in.variant_id)
    if variant is None or variant.shop_id != shop.id:
        raise ValidationFailed.field("variant_id", "Choose a variant of one of your products.")
    now = clock.now()
    starts = deal_in.starts_at or now
    errors = FieldErrors()
    if starts.tzinfo is None or deal_in.ends_at.tzinfo is None:
        raise ValidationFailed.field("ends_at", "Give times with their time zone (UTC: ...Z).")
    if starts < now - START_GRACE:
        errors.add("starts_at", ["Start the deal now or later."])
        starts = now
    if deal_in.ends_at <= max(starts, now):
        errors.add("ends_at", ["End the deal after it starts, in the future."])
    elif deal_in.ends_at - starts > timedelta(days=MAX_DEAL_DAYS):
        errors.add("ends_at", [f"A flash deal lasts at most {MAX_DEAL_DAYS} days."])
    if deal_in.deal_price <= 0:
        errors.add("deal_price", ["Give a deal price above zero."])
    elif deal_in.deal_price >= variant.price:
        errors.add("deal_price", [f"Give a price below the usual price ({variant.price})."])
    if deal_in.quantity <= 0:
        errors.add("quantity", ["Offer at least 1 unit."])
    elif deal_in.quantity > variant.stock:
        errors.add("quantity", [f"Offer at most the {variant.stock} units in stock."])
    if deal_in.per_buyer_limit is not None and deal_in.per_buyer_limit < 1:
        errors.add("per_buyer_limit", ["Give a limit of at least 1, or leave it empty."])
    errors.raise_if_any()
    overlapping = await session.scalar(
        select(func.count())
        .select_from(FlashDeal)
        .where(
            FlashDeal.variant_id == variant.id,
            FlashDeal.cancelled.is_(False),
            FlashDeal.starts_at < deal_in.ends_at,
            FlashDeal.ends_at > starts,
        )
    )
    if overlapping:
        raise Conflict(
            "This variant already has a flash deal in that window. Cancel it or pick other times.",
            code="deal_overlaps",
        )
    deal = FlashDeal(
        shop_id=shop.id,
        variant_id=variant.id,
        deal_price=deal_in.deal_price,
        quantity=deal_in.quantity,
        sold=0,
        per_buyer_limit=deal_in.per_buyer_limit,
        starts_at=starts,
        ends_at=deal_in.ends_at,
        cancelled=False,
    )
    session.add(deal)
    await session.flush()
    return deal


async def get_deal_of(shop: Shop, deal_id: uuid.UUID, *, session: AsyncSession) -> FlashDeal:
    """One of the shop's deals (404 otherwise)."""
    deal = await session.get(FlashDeal, deal_id)
    if deal is None or deal.shop_id != shop.id:
        raise NotFound("There is no such flash deal.", code="deal_not_found")
    return deal


async def cancel_flash_deal(shop: Shop, deal_id: uuid.UUID, *, session: AsyncSession) -> FlashDeal:
    """Stop a deal now (orders already placed keep their deal price)."""
    deal = await get_deal_of(shop, deal_id, session=session)
    if not deal.cancelled:
        deal.cancelled = True
        await session.flush()
    return deal


async def list_flash_deals(
    shop: Shop, *, session: AsyncSession, include_past: bool = True, limit: int = 200
) -> list[FlashDeal]:
    """The shop's deals, the latest start first (only current and upcoming when asked)."""
    query = select(FlashDeal).where(FlashDeal.shop_id == shop.id)
    if not include_past:
        query = query.where(FlashDeal.cancelled.is_(False), FlashDeal.ends_at > clock.now())
    query = query.order_by(FlashDeal.starts_at.desc(), FlashDeal.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())
