"""What creators browse: the products open to them (filtered by category, commission, price,
shop and sales), and the showcase they add products to by hand."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.affiliate import domain
from clipcart.affiliate.collaborations import offers_for
from clipcart.affiliate.models import Commission, ShowcaseItem
from clipcart.affiliate.schemas import OfferOut
from clipcart.catalog import domain as catalog_domain
from clipcart.catalog import service as catalog
from clipcart.core.errors import ValidationFailed
from clipcart.core.money import Money
from clipcart.shops.schemas import MoneyOut

SORTS = ("commission", "rate", "price", "sales")


@dataclass(frozen=True)
class OfferFilters:
    """How a creator narrows the products open to them."""

    category_id: int | None = None  # the category or any of its subcategories
    min_rate_bp: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    shop_id: uuid.UUID | None = None
    min_shop_score: int | None = None  # shops without a score yet are left out
    min_sales: int | None = None
    sort: str = "commission"


async def _sales(product_ids: list[uuid.UUID], session: AsyncSession) -> dict[uuid.UUID, int]:
    if not product_ids:
        return {}
    rows = await session.execute(
        select(Commission.product_id, func.count())
        .where(Commission.product_id.in_(product_ids))
        .group_by(Commission.product_id)
    )
    return {product_id: int(count) for product_id, count in rows.all() if product_id}


async def _showcased(creator_id: uuid.UUID, session: AsyncSession) -> set[uuid.UUID]:
    rows = await session.scalars(
        select(ShowcaseItem.product_id).where(ShowcaseItem.creator_id == creator_id)
    )
    return set(rows)


async def browse_offers(
    creator_id: uuid.UUID, filters: OfferFilters, *, session: AsyncSession
) -> list[OfferOut]:
    """The active products open to the creator, best first by `filters.sort`."""
    if filters.sort not in SORTS:
        raise ValidationFailed.field("sort", f"Sort by one of: {', '.join(SORTS)}.")
    offers = await offers_for(creator_id, session=session)
    products = await catalog.products_by_ids(list(offers), session=session)
    sales = await _sales(list(products), session)
    showcased = await _showcased(creator_id, session)
    categories = (
        set(catalog_domain.category_and_descendants(filters.category_id))
        if filters.category_id is not None
        else None
    )
    found: list[OfferOut] = []
    for product in products.values():
        offer = offers[product.id]
        prices = [variant.price for variant in product.variants]
        price = min(prices) if prices else None
        checks = (
            product.status == "active",
            categories is None or product.category_id in categories,
            filters.min_rate_bp is None or offer.rate_bp >= filters.min_rate_bp,
            filters.min_price is None or (price is not None and price >= filters.min_price),
            filters.max_price is None or (price is not None and price <= filters.max_price),
            filters.shop_id is None or product.shop_id == filters.shop_id,
            filters.min_shop_score is None
            or (product.shop.fulfilment_score or -1) >= filters.min_shop_score,
            filters.min_sales is None or sales.get(product.id, 0) >= filters.min_sales,
        )
        if not all(checks):
            continue
        per_sale = domain.commission_amount(price, offer.rate_bp) if price is not None else None
        found.append(
            OfferOut(
                collaboration_id=offer.collaboration.id,
                product_id=product.id,
                title=product.title,
                shop_id=product.shop_id,
                shop_name=product.shop.name,
                shop_score=product.shop.fulfilment_score,
                category_id=product.category_id,
                kind=offer.collaboration.kind,
                rate_bp=offer.rate_bp,
                rate=domain.rate_label(offer.rate_bp),
                price=MoneyOut.of(Money(price, product.currency)) if price is not None else None,
                commission_per_sale=(
                    MoneyOut.of(Money(per_sale, product.currency)) if per_sale is not None else None
                ),
                sales=sales.get(product.id, 0),
                in_showcase=product.id in showcased,
                url=f"/p/{product.id}",
            )
        )
    keys = {
        "commission": lambda o: o.commission_per_sale.amount if o.commission_per_sale else 0,
        "rate": lambda o: o.rate_bp,
        "price": lambda o: -(o.price.amount if o.price else 0),
        "sales": lambda o: o.sales,
    }
    found.sort(key=keys[filters.sort], reverse=True)
    return found


async def add_to_showcase(
    creator_id: uuid.UUID, product_id: uuid.UUID, *, session: AsyncSession
) -> None:
    """Put a product open to the creator on their showcase (422 when it is not open to them)."""
    offers = await offers_for(creator_id, product_ids=[product_id], session=session)
    if product_id not in offers:
        raise ValidationFailed.field(
            "product_id", "Only products open to you through a collaboration can be showcased."
        )
    if await session.get(ShowcaseItem, (creator_id, product_id)) is None:
        session.add(ShowcaseItem(creator_id=creator_id, product_id=product_id))
        await session.flush()


async def remove_from_showcase(
    creator_id: uuid.UUID, product_id: uuid.UUID, *, session: AsyncSession
) -> None:
    """Take a product off the creator's showcase (nothing when it was not on it)."""
    item = await session.get(ShowcaseItem, (creator_id, product_id))
    if item is not None:
        await session.delete(item)
        await session.flush()


async def showcase_product_ids(creator_id: uuid.UUID, *, session: AsyncSession) -> list[uuid.UUID]:
    """The products a creator added to their showcase, newest first."""
    rows = await session.scalars(
        select(ShowcaseItem.product_id)
        .where(ShowcaseItem.creator_id == creator_id)
        .order_by(ShowcaseItem.created_at.desc())
    )
    return list(rows)
