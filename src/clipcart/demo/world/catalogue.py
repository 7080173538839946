"""The products of a world: each shop sells its theme's goods, with variants, stock and prices."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from clipcart.catalog import domain as catalog_domain
from clipcart.demo.world.bulk import world_id
from clipcart.demo.world.people import ShopPlan

STOCK_LEVELS = (0, 3, 8, 15, 25, 40, 60, 120)  # the first variant is always in stock
DESCRIPTIONS = (
    "<p>Made to be used every day and to last for years.</p>",
    "<p>Small-batch and <strong>quality-checked</strong> by hand before it ships.</p>",
    "<p>Our best seller: loved for the details you notice after a week.</p>",
    "<p>Thoughtfully designed, responsibly sourced, <em>beautifully</em> simple.</p>",
)


@dataclass(frozen=True)
class VariantPlan:
    """One buyable option value of a product."""

    id: uuid.UUID
    position: int
    sku: str
    value: str
    price: int
    compare_at: int | None
    stock: int


@dataclass(frozen=True)
class ProductPlan:
    """A product of one shop, in its theme's colours."""

    id: uuid.UUID
    index: int
    shop: ShopPlan
    handle: str
    title: str
    category_id: int
    option: str
    colour: tuple[int, int, int]
    description: str
    variants: tuple[VariantPlan, ...]
    created_at: datetime


def _round_price(cents: int) -> int:
    """Prices end in .99 or .00, like a shop would set them."""
    dollars = max(2, cents // 100)
    return dollars * 100 - 1 if dollars % 3 else dollars * 100


def make_products(
    total: int, shops: list[ShopPlan], rng: random.Random, now: datetime
) -> list[ProductPlan]:
    """`total` products dealt over the shops in turn, each with one variant per option value."""
    products: list[ProductPlan] = []
    per_shop: dict[int, int] = {}
    for index in range(total):
        shop = shops[index % len(shops)]
        count = per_shop.get(shop.index, 0)
        per_shop[shop.index] = count + 1
        theme = shop.theme
        category_id, noun, option, values, (low, high) = theme.goods[count % len(theme.goods)]
        round_number = count // len(theme.goods)
        adjective = theme.adjectives[(round_number + shop.index) % len(theme.adjectives)]
        title = f"{adjective} {noun}"
        if round_number >= len(theme.adjectives):
            title += f" No. {round_number // len(theme.adjectives) + 1}"
        handle = f"{catalog_domain.slugify_handle(title)}-{count}"
        created = shop.created_at + timedelta(hours=2 + count % 500)
        created = min(created, now - timedelta(days=31))
        base = _round_price(rng.randint(low, high))
        on_sale = rng.random() < 0.3
        variants = tuple(
            VariantPlan(
                id=world_id(rng, created),
                position=position,
                sku=f"W{index:07d}-{position}",
                value=value,
                price=base + position * (200 if option in ("Size", "Volume") else 0),
                compare_at=(base * 5 // 4) if on_sale else None,
                stock=rng.choice(STOCK_LEVELS) if position else rng.randint(20, 80),
            )
            for position, value in enumerate(values)
        )
        products.append(
            ProductPlan(
                id=world_id(rng, created),
                index=index,
                shop=shop,
                handle=handle,
                title=title,
                category_id=category_id,
                option=option,
                colour=theme.colours[count % len(theme.colours)],
                description=DESCRIPTIONS[index % len(DESCRIPTIONS)],
                variants=variants,
                created_at=created,
            )
        )
    return products
