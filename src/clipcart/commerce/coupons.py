"""Coupons: finding the codes a buyer typed (with a clear reason when one cannot be used),
redeeming them on an order without going over their limits, releasing them when an unpaid
order is cancelled, and the seller's / admin's management. Services never commit."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from babel.dates import format_date
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.commerce.pricing import COUPON_KINDS, PERCENT, CouponTerms, format_amount
from clipcart.commerce.promotion_models import Coupon, CouponRedemption
from clipcart.commerce.promotion_schemas import CouponIn
from clipcart.core import clock
from clipcart.core.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from clipcart.core.money import KNOWN_CURRENCIES
from clipcart.shops.models import Shop

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")
MAX_CODES = 5
FIELD = "coupon_codes"


def normalize_code(code: str) -> str:
    """A code as stored: trimmed, upper case."""
    return code.strip().upper()


def _day(moment: datetime) -> str:
    return str(format_date(moment, "d MMM y", locale="en_GB"))


def coupon_terms(coupon: Coupon) -> CouponTerms:
    """What pricing needs to know of a coupon."""
    return CouponTerms(
        id=coupon.id,
        code=coupon.code,
        shop_id=coupon.shop_id,
        kind=coupon.kind,
        value=coupon.value,
        min_spend=coupon.min_spend,
        combinable=coupon.combinable,
    )


async def _buyer_redemptions(
    coupon_id: uuid.UUID, buyer_id: uuid.UUID, *, session: AsyncSession
) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(CouponRedemption)
        .where(
            CouponRedemption.coupon_id == coupon_id,
            CouponRedemption.buyer_id == buyer_id,
            CouponRedemption.released.is_(False),
        )
    )
    return int(count or 0)


async def _refusal(
    coupon: Coupon, *, buyer_id: uuid.UUID | None, currency: str, session: AsyncSession
) -> str | None:
    """Why the buyer cannot use the coupon now, or None when they can."""
    now = clock.now()
    code = coupon.code
    if not coupon.active:
        return f"{code} is no longer available."
    if coupon.starts_at > now:
        return f"{code} can be used from {_day(coupon.starts_at)}."
    if coupon.ends_at is not None and coupon.ends_at <= now:
        return f"{code} ended on {_day(coupon.ends_at)}."
    if coupon.currency != currency:
        return f"{code} is for orders in {coupon.currency}, and this order is in {currency}."
    if coupon.total_limit is not None and coupon.redeemed >= coupon.total_limit:
        return f"{code} has been used up."
    if buyer_id is not None and coupon.per_buyer_limit is not None:
        used = await _buyer_redemptions(coupon.id, buyer_id, session=session)
        if used >= coupon.per_buyer_limit:
            times = "once" if coupon.per_buyer_limit == 1 else f"{coupon.per_buyer_limit} times"
            return f"You have already used {code}: it can be used {times} per buyer."
    return None


async def find_coupons(
    codes: Sequence[str],
    *,
    buyer_id: uuid.UUID | None,
    currency: str,
    session: AsyncSession,
    shop_ids: Collection[uuid.UUID] | None = None,
) -> list[Coupon]:
    """The coupons for the codes a buyer typed (the shops' in `shop_ids` when given, or the
    platform's); 422 on field "coupon_codes" naming the first code that cannot be used."""
    wanted: list[str] = []
    for raw in codes:
        code = normalize_code(raw)
        if code and code not in wanted:
            wanted.append(code)
    if len(wanted) > MAX_CODES:
        raise ValidationFailed.field(FIELD, f"Use at most {MAX_CODES} coupon codes.")
    if not wanted:
        return []
    query = select(Coupon).where(Coupon.code.in_(wanted))
    if shop_ids is not None:
        query = query.where(or_(Coupon.shop_id.is_(None), Coupon.shop_id.in_(list(shop_ids))))
    rows = list((await session.scalars(query.order_by(Coupon.created_at, Coupon.id))).all())
    found: list[Coupon] = []
    for code in wanted:
        matches = [coupon for coupon in rows if coupon.code == code]
        if not matches:
            reason = f"{code} is not a valid coupon code. Check the spelling."
            if shop_ids is not None and await session.scalar(
                select(func.count()).select_from(Coupon).where(Coupon.code == code)
            ):
                reason = f"{code} is a coupon of another shop: it cannot be used on this order."
            raise ValidationFailed.field(FIELD, reason, code="coupon_refused")
        usable: list[Coupon] = []
        reasons: list[str] = []
        for coupon in matches:
            why = await _refusal(coupon, buyer_id=buyer_id, currency=currency, session=session)
            if why is None:
                usable.append(coupon)
            else:
                reasons.append(why)
        if not usable:
            raise ValidationFailed.field(FIELD, reasons[0], code="coupon_refused")
        # One typed code is one discount: a shop's own coupon wins over a platform coupon
        # with the same code (shops in a multi-shop checkout may each have theirs).
        if any(coupon.shop_id is not None for coupon in usable):
            usable = [coupon for coupon in usable if coupon.shop_id is not None]
        found.extend(usable)
    return found


async def redeem_coupon(
    coupon_id: uuid.UUID,
    *,
    buyer_id: uuid.UUID,
    order_id: uuid.UUID,
    amount: int,
    session: AsyncSession,
) -> CouponRedemption:
    """Count one use of the coupon for an order, within its total and per-buyer limits
    (409 "coupon_used_up" / "coupon_limit_reached"); the order must be flushed already."""
    result = await session.execute(
        update(Coupon)
        .where(
            Coupon.id == coupon_id,
            or_(Coupon.total_limit.is_(None), Coupon.redeemed < Coupon.total_limit),
        )
        .values(redeemed=Coupon.redeemed + 1)
        .returning(Coupon.code, Coupon.per_buyer_limit)
        .execution_options(synchronize_session=False)
    )
    row = result.one_or_none()
    if row is None:
        code = await session.scalar(select(Coupon.code).where(Coupon.id == coupon_id))
        if code is None:
            raise NotFound("There is no such coupon.", code="coupon_not_found")
        raise Conflict(
            f"{code} has just been used up. Remove it and try again.",
            code="coupon_used_up",
            data={"coupon_code": code},
        )
    code, per_buyer_limit = row
    # The UPDATE above locks the coupon row until commit, so concurrent redemptions of the
    # same coupon are counted one after the other here.
    if per_buyer_limit is not None:
        used = await _buyer_redemptions(coupon_id, buyer_id, session=session)
        if used >= per_buyer_limit:
            raise Conflict(
                f"You have already used {code} as many times as allowed ({per_buyer_limit}).",
                code="coupon_limit_reached",
                data={"coupon_code": code, "per_buyer_limit": per_buyer_limit},
            )
    redemption = CouponRedemption(
        coupon_id=coupon_id, buyer_id=buyer_id, order_id=order_id, amount=amount
    )
    session.add(redemption)
    await session.flush()
    return redemption


async def release_coupons_for_order(order_id: uuid.UUID, *, session: AsyncSession) -> int:
    """Give back the coupon uses of an order cancelled unpaid (idempotent); how many."""
    result = await session.execute(
        update(CouponRedemption)
        .where(CouponRedemption.order_id == order_id, CouponRedemption.released.is_(False))
        .values(released=True)
        .returning(CouponRedemption.coupon_id)
        .execution_options(synchronize_session=False)
    )
    coupon_ids = list(result.scalars().all())
    for coupon_id in sorted(coupon_ids):
        await session.execute(
            update(Coupon)
            .where(Coupon.id == coupon_id, Coupon.redeemed > 0)
            .values(redeemed=Coupon.redeemed - 1)
            .execution_options(synchronize_session=False)
        )
    return len(coupon_ids)


async def redemptions_for_order(
    order_id: uuid.UUID, *, session: AsyncSession
) -> list[CouponRedemption]:
    """The coupon uses recorded on an order (released ones included)."""
    rows = await session.scalars(
        select(CouponRedemption)
        .where(CouponRedemption.order_id == order_id)
        .order_by(CouponRedemption.created_at, CouponRedemption.id)
    )
    return list(rows.all())


# --- management ----------------------------------------------------------------------------


def _check_coupon_in(coupon_in: CouponIn, currency: str, errors: FieldErrors) -> None:
    code = normalize_code(coupon_in.code)
    if not CODE_PATTERN.match(code):
        errors.add("code", ["Use 3 to 40 letters, digits, - or _, like SAVE10."])
    if coupon_in.kind not in COUPON_KINDS:
        errors.add("kind", ["Choose percent or fixed."])
    elif coupon_in.kind == PERCENT and not 1 <= coupon_in.value <= 10000:
        errors.add("value", ["Give a percentage in basis points from 1 to 10000 (1000 = 10%)."])
    elif coupon_in.value <= 0:
        errors.add("value", ["Give an amount above zero, in minor units (500 = 5.00)."])
    if currency not in KNOWN_CURRENCIES:
        errors.add("currency", ["Give an ISO 4217 currency code, like USD."])
    if coupon_in.min_spend < 0:
        errors.add("min_spend", ["The minimum spend cannot be negative."])
    starts = coupon_in.starts_at
    if coupon_in.ends_at is not None:
        if coupon_in.ends_at.tzinfo is None:
            errors.add("ends_at", ["Give the end time with its time zone (UTC: ...Z)."])
        elif coupon_in.ends_at <= max(starts or clock.now(), clock.now()):
            errors.add("ends_at", ["The end must be in the future, after the start."])
    if starts is not None and starts.tzinfo is None:
        errors.add("starts_at", ["Give the start time with its time zone (UTC: ...Z)."])
    for field, limit in (
        ("total_limit", coupon_in.total_limit),
        ("per_buyer_limit", coupon_in.per_buyer_limit),
    ):
        if limit is not None and limit < 1:
            errors.add(field, ["Give a limit of at least 1, or leave it empty for no limit."])


async def create_coupon(shop: Shop | None, coupon_in: CouponIn, *, session: AsyncSession) -> Coupon:
    """A new coupon of the shop (in its currency) or of the platform (`shop` None)."""
    currency = shop.currency if shop is not None else (coupon_in.currency or "").strip().upper()
    errors = FieldErrors()
    _check_coupon_in(coupon_in, currency, errors)
    errors.raise_if_any()
    code = normalize_code(coupon_in.code)
    shop_id = shop.id if shop is not None else None
    owner = Coupon.shop_id.is_(None) if shop_id is None else Coupon.shop_id == shop_id
    taken = await session.scalar(
        select(func.count()).select_from(Coupon).where(Coupon.code == code, owner)
    )
    if taken:
        raise Conflict(
            f"There is already a coupon {code}. Choose another code.",
            code="coupon_code_taken",
            data={"errors": [{"field": "code", "message": "That code is taken."}]},
        )
    coupon = Coupon(
        code=code,
        shop_id=shop_id,
        kind=coupon_in.kind,
        value=coupon_in.value,
        currency=currency,
        min_spend=coupon_in.min_spend,
        starts_at=coupon_in.starts_at or clock.now(),
        ends_at=coupon_in.ends_at,
        total_limit=coupon_in.total_limit,
        per_buyer_limit=coupon_in.per_buyer_limit,
        combinable=coupon_in.combinable,
        redeemed=0,
        active=True,
    )
    session.add(coupon)
    await session.flush()
    return coupon


async def list_coupons(shop: Shop | None, *, session: AsyncSession) -> list[Coupon]:
    """The shop's coupons (or the platform's), newest first."""
    owner = Coupon.shop_id.is_(None) if shop is None else Coupon.shop_id == shop.id
    rows = await session.scalars(
        select(Coupon).where(owner).order_by(Coupon.created_at.desc(), Coupon.id.desc())
    )
    return list(rows.all())


async def get_coupon_of(
    shop: Shop | None, coupon_id: uuid.UUID, *, session: AsyncSession
) -> Coupon:
    """One of the shop's coupons (or the platform's); 404 otherwise."""
    coupon = await session.get(Coupon, coupon_id)
    expected = shop.id if shop is not None else None
    if coupon is None or coupon.shop_id != expected:
        raise NotFound("There is no such coupon.", code="coupon_not_found")
    return coupon


async def deactivate_coupon(
    shop: Shop | None, coupon_id: uuid.UUID, *, session: AsyncSession
) -> Coupon:
    """Stop a coupon from being used on new orders (orders already placed keep it)."""
    coupon = await get_coupon_of(shop, coupon_id, session=session)
    coupon.active = False
    await session.flush()
    return coupon


def describe_min_spend(coupon: Coupon) -> str:
    """The coupon's minimum spend for people ("" when there is none)."""
    if coupon.min_spend <= 0:
        return ""
    return f"Spend at least {format_amount(coupon.min_spend, coupon.currency)}"
