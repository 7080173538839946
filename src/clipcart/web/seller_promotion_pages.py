"""Seller center promotion pages: flash deals (create, stop) and coupon codes (create,
deactivate). Forms post here and call commerce.flash_deals / commerce.coupons like the API."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.catalog import service as catalog
from clipcart.commerce import coupons, flash_deals
from clipcart.commerce.promotion_schemas import CouponIn, FlashDealIn
from clipcart.core import clock
from clipcart.core.errors import AppError, NotFound
from clipcart.core.money import Money
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service as shops
from clipcart.shops.domain import CATALOG_ROLES
from clipcart.shops.models import Shop
from clipcart.web.flash import flash
from clipcart.web.forms import (
    FormErrors,
    form_errors,
    form_values,
    see_other,
)
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer

router = make_router(include_in_schema=False)


def _uuid(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as error:
        raise NotFound(f"There is no such {what}.", code=f"{what}_not_found") from error


# --- flash deals -----------------------------------------------------------------------


def _minor(raw: str, currency: str) -> int | None:
    """A major-unit amount typed by a person ("12.50") in minor units, None when unreadable."""
    try:
        return Money.from_decimal(raw.replace(",", "").strip(), currency).amount
    except ValueError:
        return None


def _when(raw: str) -> datetime | None:
    """A datetime-local value (read as UTC)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.now().tzinfo)


async def _deals_page(
    request: Request,
    viewer: User,
    shop: Shop,
    session: AsyncSession,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    products, _ = await catalog.list_products(
        catalog.ProductFilters(shop_id=shop.id, statuses=("active",)),
        session=session,
        limit=100,
    )
    variants = {
        variant.id: (product, variant) for product in products for variant in product.variants
    }
    deals = await flash_deals.list_flash_deals(shop, session=session, limit=100)
    now = clock.now()
    return render(
        request,
        "seller/deals.html",
        {
            "shop": shop,
            "section": "deals",
            "variants": list(variants.values()),
            "deals": [
                {
                    "deal": deal,
                    "status": flash_deals.deal_status(deal),
                    "price": Money(deal.deal_price, shop.currency).format(),
                    "what": variants.get(deal.variant_id),
                }
                for deal in deals
            ],
            "values": values
            or {
                "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            },
            "errors": errors or {},
        },
        viewer=viewer,
        status_code=status,
        tab="me",
    )


DEAL_FIELDS = ("variant_id", "deal_price", "quantity", "per_buyer_limit", "starts_at", "ends_at")


@router.get("/seller/{handle}/deals", response_class=HTMLResponse)
async def deals(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Flash deals: a limited quantity at a deal price for a time window."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    return await _deals_page(request, viewer, shop, session)


@router.post("/seller/{handle}/deals", response_class=HTMLResponse)
async def create_deal(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Start (or schedule) a flash deal."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    values = form_values(await request.form(), *DEAL_FIELDS)
    errors: FormErrors = {}
    price = _minor(values["deal_price"], shop.currency)
    if price is None:
        errors["deal_price"] = "Enter the deal price, like 19.99."
    starts, ends = _when(values["starts_at"]), _when(values["ends_at"])
    if values["starts_at"] and starts is None:
        errors["starts_at"] = "Enter when the deal starts."
    if ends is None:
        errors["ends_at"] = "Enter when the deal ends."
    if errors:
        return await _deals_page(
            request, viewer, shop, session, values=values, errors=errors, status=422
        )
    try:
        deal_in = FlashDealIn(
            variant_id=values["variant_id"],
            deal_price=price or 0,
            quantity=values["quantity"] or 0,
            per_buyer_limit=values["per_buyer_limit"] or None,
            starts_at=starts,
            ends_at=ends,
        )
        await flash_deals.create_flash_deal(shop, deal_in, session=session)
    except (ValidationError, AppError) as error:
        errors, status = form_errors(error, known_fields=set(DEAL_FIELDS))
        return await _deals_page(
            request, viewer, shop, session, values=values, errors=errors, status=status
        )
    response = see_other(f"/seller/{shop.handle}/deals")
    flash(response, "Flash deal saved.")
    return response


@router.post("/seller/{handle}/deals/{deal_id}/cancel", response_class=HTMLResponse)
async def cancel_deal(
    handle: str, deal_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Stop a deal now."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    await flash_deals.cancel_flash_deal(shop, _uuid(deal_id, "deal"), session=session)
    response = see_other(f"/seller/{shop.handle}/deals")
    flash(response, "Flash deal stopped.")
    return response


# --- coupons ---------------------------------------------------------------------------

COUPON_FIELDS = (
    "code", "kind", "value", "min_spend", "starts_at", "ends_at", "total_limit",
    "per_buyer_limit", "combinable",
)  # fmt: skip


async def _coupons_page(
    request: Request,
    viewer: User,
    shop: Shop,
    session: AsyncSession,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    rows = await coupons.list_coupons(shop, session=session)
    return render(
        request,
        "seller/coupons.html",
        {
            "shop": shop,
            "section": "coupons",
            "coupons": [
                {
                    "coupon": coupon,
                    "label": f"{coupon.value / 100:g}%"
                    if coupon.kind == "percent"
                    else Money(coupon.value, coupon.currency).format(),
                    "min_spend": coupons.describe_min_spend(coupon),
                }
                for coupon in rows
            ],
            "values": values or {"kind": "percent", "combinable": "1"},
            "errors": errors or {},
        },
        viewer=viewer,
        status_code=status,
        tab="me",
    )


@router.get("/seller/{handle}/coupons", response_class=HTMLResponse)
async def coupon_list(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """The shop's coupon codes: create, see use, deactivate."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    return await _coupons_page(request, viewer, shop, session)


@router.post("/seller/{handle}/coupons", response_class=HTMLResponse)
async def create_coupon(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """A new coupon code for this shop's orders."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    values = form_values(await request.form(), *COUPON_FIELDS)
    errors: FormErrors = {}
    if values["kind"] == "percent":
        try:
            value: int | None = round(float(values["value"]) * 100)
        except ValueError:
            value = None
    else:
        value = _minor(values["value"], shop.currency)
    if value is None or value <= 0:
        errors["value"] = "Enter how much it takes off, like 10 (percent) or 5.00 (amount)."
    min_spend = _minor(values["min_spend"] or "0", shop.currency)
    if min_spend is None:
        errors["min_spend"] = "Enter the minimum spend, like 20.00, or leave it empty."
    starts, ends = _when(values["starts_at"]), _when(values["ends_at"])
    if errors:
        return await _coupons_page(
            request, viewer, shop, session, values=values, errors=errors, status=422
        )
    try:
        coupon_in = CouponIn(
            code=values["code"],
            kind=values["kind"],
            value=value or 0,
            min_spend=min_spend or 0,
            starts_at=starts,
            ends_at=ends,
            total_limit=values["total_limit"] or None,
            per_buyer_limit=values["per_buyer_limit"] or None,
            combinable=bool(values["combinable"]),
        )
        await coupons.create_coupon(shop, coupon_in, session=session)
    except (ValidationError, AppError) as error:
        errors, status = form_errors(error, known_fields=set(COUPON_FIELDS))
        return await _coupons_page(
            request, viewer, shop, session, values=values, errors=errors, status=status
        )
    response = see_other(f"/seller/{shop.handle}/coupons")
    flash(response, f"Coupon {values['code'].upper()} saved.")
    return response


@router.post("/seller/{handle}/coupons/{coupon_id}/deactivate", response_class=HTMLResponse)
async def deactivate_coupon(
    handle: str, coupon_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Stop a coupon from being used on new orders."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    await coupons.deactivate_coupon(shop, _uuid(coupon_id, "coupon"), session=session)
    response = see_other(f"/seller/{shop.handle}/coupons")
    flash(response, "Coupon deactivated.")
    return response
