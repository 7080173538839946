"""Product listings: filters (shop, category and those under it, price range, stock, title)
and cursor pagination, newest first."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.catalog import domain
from clipcart.catalog.models import Product, Variant
from clipcart.core.money import KNOWN_CURRENCIES, minor_unit_exponent
from clipcart.core.pagination import paginate
from clipcart.shops.models import Shop


@dataclass(frozen=True, slots=True)
class ProductFilters:
    """What a product listing is narrowed to; prices are minor units."""

    shop_id: uuid.UUID | None = None
    category_id: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    statuses: tuple[str, ...] = ("active",)
    open_shops_only: bool = False  # leave out suspended shops' products (what buyers browse)
    search: str | None = None
    min_major: Decimal | None = None
    max_major: Decimal | None = None
    """Price bounds in major units (pages): each product compared in its own currency."""


def _major_condition(bound: Decimal, *, lower: bool) -> Any:
    by_exponent: dict[int, list[str]] = {}
    for currency in KNOWN_CURRENCIES:
        by_exponent.setdefault(minor_unit_exponent(currency), []).append(currency)
    branches = []
    for exponent, currencies in sorted(by_exponent.items()):
        scaled = bound.scaleb(exponent)
        # a lower bound rounds up and an upper bound down, so no price outside slips in
        minor = math.ceil(scaled) if lower else math.floor(scaled)
        price = Variant.price >= minor if lower else Variant.price <= minor
        branches.append(and_(Product.currency.in_(sorted(currencies)), price))
    return or_(*branches)


def _filtered(filters: ProductFilters) -> Any:
    statement = select(Product).where(Product.status.in_(filters.statuses))
    if filters.shop_id is not None:
        statement = statement.where(Product.shop_id == filters.shop_id)
    if filters.open_shops_only:
        statement = statement.where(
            exists().where(Shop.id == Product.shop_id, Shop.status == "active")
        )
    if filters.category_id is not None:
        statement = statement.where(
            Product.category_id.in_(domain.category_and_descendants(filters.category_id))
        )
    price_conditions = []
    if filters.min_price is not None:
        price_conditions.append(Variant.price >= filters.min_price)
    if filters.max_price is not None:
        price_conditions.append(Variant.price <= filters.max_price)
    if filters.min_major is not None:
        price_conditions.append(_major_condition(filters.min_major, lower=True))
    if filters.max_major is not None:
        price_conditions.append(_major_condition(filters.max_major, lower=False))
    if filters.in_stock:
        price_conditions.append(Variant.stock > 0)
    if price_conditions:
        # one variant must meet every condition (in stock at a price in the range)
        statement = statement.where(
            exists().where(Variant.product_id == Product.id, and_(*price_conditions))
        )
    elif filters.in_stock is False:
        statement = statement.where(
            ~exists().where(Variant.product_id == Product.id, Variant.stock > 0)
        )
    if filters.search:
        pattern = "%" + filters.search.replace("%", "").replace("_", "").strip() + "%"
        statement = statement.where(Product.title.ilike(pattern))
    return statement


async def list_products(
    filters: ProductFilters,
    *,
    session: AsyncSession,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[Product], str | None]:
    """Products matching `filters`, newest first, one page at a time."""
    rows, next_cursor = await paginate(
        session,
        _filtered(filters),
        order_by=[Product.created_at, Product.id],
        cursor=cursor,
        limit=limit,
    )
    return rows, next_cursor
