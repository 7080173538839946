"""Address book, coupons, flash deals and tax rates under /api/v1: thin handlers over the
services; errors are problem+json."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Response
from sqlalchemy import select

from clipcart.accounts.dependencies import require_role, require_scope
from clipcart.accounts.models import User
from clipcart.catalog.models import Product, Variant
from clipcart.commerce import address_book, coupons, flash_deals, tax_rates
from clipcart.commerce.promotion_models import FlashDeal
from clipcart.commerce.promotion_schemas import (
    AddressIn,
    AddressOut,
    AddressUpdateIn,
    CouponIn,
    CouponOut,
    FlashDealIn,
    FlashDealOut,
    TaxRateIn,
    TaxRateOut,
)
from clipcart.core.errors import NotFound
from clipcart.core.money import Money
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service as shops
from clipcart.shops.domain import CATALOG_ROLES

router = make_router(prefix="/api/v1", tags=["promotions"])

AccountReader = Annotated[User, Depends(require_scope("account:read"))]
AccountWriter = Annotated[User, Depends(require_scope("account:write"))]
CatalogReader = Annotated[User, Depends(require_scope("catalog:read"))]
CatalogWriter = Annotated[User, Depends(require_scope("catalog:write"))]
Admin = Annotated[User, Depends(require_role("admin"))]


# --- addresses -------------------------------------------------------------------------------


@router.get("/addresses")
async def list_addresses(user: AccountReader, db: DbSession) -> list[AddressOut]:
    """Your saved addresses, the default first."""
    return [AddressOut.of(a) for a in await address_book.list_addresses(user, session=db)]


@router.post("/addresses", status_code=201)
async def create_address(data: AddressIn, user: AccountWriter, db: DbSession) -> AddressOut:
    """Save an address (422 lists what to fix, per field)."""
    return AddressOut.of(await address_book.save_address(user, data, session=db))


@router.patch("/addresses/{address_id}")
async def update_address(
    address_id: uuid.UUID, data: AddressUpdateIn, user: AccountWriter, db: DbSession
) -> AddressOut:
    """Change an address."""
    return AddressOut.of(await address_book.update_address(user, address_id, data, session=db))


@router.delete("/addresses/{address_id}", status_code=204)
async def delete_address(address_id: uuid.UUID, user: AccountWriter, db: DbSession) -> Response:
    """Delete an address (orders keep their copy)."""
    await address_book.delete_address(user, address_id, session=db)
    return Response(status_code=204)


@router.post("/addresses/{address_id}/default")
async def set_default_address(
    address_id: uuid.UUID, user: AccountWriter, db: DbSession
) -> AddressOut:
    """Make an address the default for checkout."""
    return AddressOut.of(await address_book.set_default_address(user, address_id, session=db))


# --- coupons ---------------------------------------------------------------------------------


@router.get("/shops/{handle}/coupons")
async def list_shop_coupons(handle: str, user: CatalogReader, db: DbSession) -> list[CouponOut]:
    """The shop's coupons (owner or manager)."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    return [CouponOut.of(c) for c in await coupons.list_coupons(shop, session=db)]


@router.post("/shops/{handle}/coupons", status_code=201)
async def create_shop_coupon(
    handle: str, data: CouponIn, user: CatalogWriter, db: DbSession
) -> CouponOut:
    """A new coupon for the shop's orders, in the shop's currency (owner or manager)."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    return CouponOut.of(await coupons.create_coupon(shop, data, session=db))


@router.post("/shops/{handle}/coupons/{coupon_id}/deactivate")
async def deactivate_shop_coupon(
    handle: str, coupon_id: uuid.UUID, user: CatalogWriter, db: DbSession
) -> CouponOut:
    """Stop the coupon being used on new orders."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    return CouponOut.of(await coupons.deactivate_coupon(shop, coupon_id, session=db))


@router.get("/admin/coupons")
async def list_platform_coupons(user: Admin, db: DbSession) -> list[CouponOut]:
    """The platform's coupons (admins)."""
    return [CouponOut.of(c) for c in await coupons.list_coupons(None, session=db)]


@router.post("/admin/coupons", status_code=201)
async def create_platform_coupon(data: CouponIn, user: Admin, db: DbSession) -> CouponOut:
    """A new platform coupon, usable on any shop's order in its currency (admins)."""
    return CouponOut.of(await coupons.create_coupon(None, data, session=db))


@router.post("/admin/coupons/{coupon_id}/deactivate")
async def deactivate_platform_coupon(coupon_id: uuid.UUID, user: Admin, db: DbSession) -> CouponOut:
    """Stop a platform coupon being used on new orders (admins)."""
    return CouponOut.of(await coupons.deactivate_coupon(None, coupon_id, session=db))


# --- flash deals -----------------------------------------------------------------------------


def _deal_out(deal: FlashDeal) -> FlashDealOut:
    return FlashDealOut.of(deal, flash_deals.deal_status(deal))


@router.get("/shops/{handle}/flash-deals")
async def list_flash_deals(
    handle: str, user: CatalogReader, db: DbSession, current: bool = False
) -> list[FlashDealOut]:
    """The shop's flash deals, latest first (`current=true`: live and upcoming only)."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    deals = await flash_deals.list_flash_deals(shop, session=db, include_past=not current)
    return [_deal_out(deal) for deal in deals]


@router.post("/shops/{handle}/flash-deals", status_code=201)
async def create_flash_deal(
    handle: str, data: FlashDealIn, user: CatalogWriter, db: DbSession
) -> FlashDealOut:
    """A flash deal on one of the shop's variants (owner or manager)."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    return _deal_out(await flash_deals.create_flash_deal(shop, data, session=db))


@router.post("/shops/{handle}/flash-deals/{deal_id}/cancel")
async def cancel_flash_deal(
    handle: str, deal_id: uuid.UUID, user: CatalogWriter, db: DbSession
) -> FlashDealOut:
    """Stop a flash deal now."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    return _deal_out(await flash_deals.cancel_flash_deal(shop, deal_id, session=db))


@router.get("/variants/{variant_id}/deal")
async def variant_deal(variant_id: uuid.UUID, db: DbSession) -> dict[str, Any]:
    """The live flash deal of a variant (404 when there is none)."""
    deal = (await flash_deals.active_deals_for_variants([variant_id], session=db)).get(variant_id)
    if deal is None:
        raise NotFound("This item has no flash deal right now.", code="no_deal")
    currency = await db.scalar(
        select(Product.currency)
        .join(Variant, Variant.product_id == Product.id)
        .where(Variant.id == variant_id)
    )
    view = flash_deals.deal_view(deal)
    if currency:
        view["currency"] = currency
        view["deal_price_formatted"] = Money(deal.deal_price, currency).format()
    return view


# --- tax rates -------------------------------------------------------------------------------


@router.get("/admin/tax-rates")
async def list_tax_rates(
    user: Admin, db: DbSession, country: str | None = None
) -> list[TaxRateOut]:
    """The tax table (admins)."""
    rates = await tax_rates.list_tax_rates(session=db, country=country)
    return [TaxRateOut.of(rate) for rate in rates]


@router.put("/admin/tax-rates")
async def put_tax_rate(data: TaxRateIn, user: Admin, db: DbSession) -> TaxRateOut:
    """Create or change the rate of a country or of one region of it (admins)."""
    rate = await tax_rates.set_tax_rate(
        data.country,
        data.region,
        rate_bp=data.rate_bp,
        name=data.name,
        included_in_price=data.included_in_price,
        session=db,
    )
    return TaxRateOut.of(rate)


@router.delete("/admin/tax-rates", status_code=204)
async def delete_tax_rate(
    user: Admin,
    db: DbSession,
    country: str | None = None,
    region: str = "",
    id: uuid.UUID | None = None,
) -> Response:
    """Remove a rate, by `id` or by `country` and `region` (admins)."""
    await tax_rates.delete_tax_rate(session=db, rate_id=id, country=country, region=region)
    return Response(status_code=204)
