"""What the feed needs to know about tagged products before it ranks: can a chip be shown (the
product is active, in stock, and its shop is not suspended), its category and lowest price. One
aggregate query for any number of products. Re-exported by `catalog.service`."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.catalog.models import Product, Variant
from clipcart.shops.models import Shop


@dataclass(frozen=True, slots=True)
class ChipFacts:
    """A tagged product as the feed's ranking sees it."""

    product_id: uuid.UUID
    shop_id: uuid.UUID
    category_id: int | None
    min_price: int | None
    currency: str
    showable: bool


async def chip_facts(
    product_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, ChipFacts]:
    """Facts about these products, by id (unknown ids are left out)."""
    if not product_ids:
        return {}
    in_stock = func.max(Variant.stock)
    statement = (
        select(
            Product.id,
            Product.shop_id,
            Product.category_id,
            func.min(Variant.price),
            Product.currency,
            Product.status,
            Shop.status,
            in_stock,
        )
        .join(Shop, Shop.id == Product.shop_id)
        .outerjoin(Variant, Variant.product_id == Product.id)
        .where(Product.id.in_(set(product_ids)))
        .group_by(Product.id, Product.shop_id, Product.category_id, Product.currency)
        .group_by(Product.status, Shop.status)
    )
    facts = {}
    for (
        product_id,
        shop_id,
        category,
        price,
        currency,
        status,
        shop_status,
        stock,
    ) in await session.execute(statement):
        showable = status == "active" and shop_status == "active" and (stock or 0) > 0
        facts[product_id] = ChipFacts(
            product_id=product_id,
            shop_id=shop_id,
            category_id=category,
            min_price=price,
            currency=currency,
            showable=showable,
        )
    return facts
