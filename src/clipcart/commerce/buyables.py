"""What can be bought: variants with their product and shop read in one query, stock levels,
pictures, per-buyer limits and the price a unit costs now (shared by the cart and checkout)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from clipcart.catalog.models import Product, ProductImage, Variant
from clipcart.catalog.schemas import image_url
from clipcart.commerce import domain, flash_deals
from clipcart.commerce.models import Order, OrderLine
from clipcart.commerce.promotion_models import FlashDeal
from clipcart.commerce.schemas import ShopRefOut
from clipcart.core import clock
from clipcart.core.errors import ValidationFailed
from clipcart.shops.models import Shop

IMAGE_SIZE = 240  # one of catalog IMAGE_SIZES (1200, 600, 240)


@dataclass(frozen=True)
class Buyable:
    """A variant with its product and shop, as checkout and the cart need them."""

    variant: Variant
    product: Product
    shop: Shop

    @property
    def title(self) -> str:
        return self.product.title

    @property
    def variant_title(self) -> str:
        return " / ".join(self.variant.option_values)

    @property
    def on_sale(self) -> bool:
        """Active, from a shop that is not suspended."""
        return self.product.status == "active" and self.shop.status == "active"


# Built once (every cart change, quote and checkout reads it; building it costs about as much
# as running it): the variants bound as `variant_ids`, with their product and shop.
_BUYABLES = (
    select(Variant, Product, Shop)
    .join(Product, Product.id == Variant.product_id)
    .join(Shop, Shop.id == Product.shop_id)
    .where(Variant.id.in_(bindparam("variant_ids", expanding=True)))
    .options(raiseload(Product.variants), raiseload(Product.images), raiseload(Product.shop))
)


async def load_buyables(
    variant_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, Buyable]:
    """Variants with their product and shop, in one query (unknown ids are left out)."""
    wanted = set(variant_ids)
    if not wanted:
        return {}
    rows = await session.execute(_BUYABLES, {"variant_ids": list(wanted)})
    return {
        variant.id: Buyable(variant=variant, product=product, shop=shop)
        for variant, product, shop in rows
    }


# The same, with each variant's live deal (or None) at the time bound as `now`: quotes and
# checkouts price with it, and one statement is cheaper than two.
_BUYABLES_WITH_DEALS = _BUYABLES.add_columns(FlashDeal).outerjoin(
    FlashDeal, FlashDeal.id == flash_deals.live_deal_id_of(Variant.id)
)


async def load_buyables_and_deals(
    variant_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> tuple[dict[uuid.UUID, Buyable], dict[uuid.UUID, FlashDeal]]:
    """load_buyables and flash_deals.active_deals_for_variants in one query: the buyables,
    and the live deal of each that has one."""
    wanted = set(variant_ids)
    if not wanted:
        return {}, {}
    rows = await session.execute(
        _BUYABLES_WITH_DEALS, {"variant_ids": list(wanted), "now": clock.now()}
    )
    known: dict[uuid.UUID, Buyable] = {}
    deals: dict[uuid.UUID, FlashDeal] = {}
    for variant, product, shop, deal in rows:
        known[variant.id] = Buyable(variant=variant, product=product, shop=shop)
        if deal is not None:
            deals[variant.id] = deal
    return known, deals


def stock_levels_query() -> Select[uuid.UUID, int, str]:
    """Each variant's id, stock left and its product's title: one light query, for the
    variant ids bound as `variant_ids`."""
    return (
        select(Variant.id, Variant.stock, Product.title)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.id.in_(bindparam("variant_ids", expanding=True)))
    )


async def first_images(
    product_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, str]:
    """Each product's first picture URL (products without one are left out)."""
    if not product_ids:
        return {}
    rows = await session.execute(
        select(ProductImage.product_id, ProductImage.key)
        .where(ProductImage.product_id.in_(set(product_ids)))
        .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
    )
    images: dict[uuid.UUID, str] = {}
    for product_id, key in rows:
        images.setdefault(product_id, image_url(key, IMAGE_SIZE))
    return images


async def bought_before(
    buyer_id: uuid.UUID, product_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, int]:
    """How many of each product the buyer has in earlier orders that were not cancelled."""
    if not product_ids:
        return {}
    rows = await session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Order.buyer_id == buyer_id,
            Order.status != domain.CANCELLED,
            OrderLine.product_id.in_(set(product_ids)),
        )
        .group_by(OrderLine.product_id)
    )
    return {product_id: int(total or 0) for product_id, total in rows if product_id}


def check_quantity(
    buyable: Buyable, quantity: int, *, bought: int, field: str = "quantity"
) -> None:
    """422 on `field` when the product cannot be bought or not that many of it."""
    if not buyable.on_sale:
        raise ValidationFailed.field(
            "variant_id", f"{buyable.title} is not for sale any more.", code="not_for_sale"
        )
    limit = buyable.product.max_per_buyer
    allowed = domain.quantity_allowed(
        requested=quantity, stock=buyable.variant.stock, max_per_buyer=limit, bought_before=bought
    )
    if allowed < quantity:
        message = domain.quantity_limit_message(
            title=buyable.title,
            stock=buyable.variant.stock,
            max_per_buyer=limit,
            bought_before=bought,
        )
        raise ValidationFailed(
            message,
            code="quantity_unavailable",
            data={
                "errors": [{"field": field, "message": message}],
                "variant_id": str(buyable.variant.id),
                "available": allowed,
            },
        )


def unit_price(buyable: Buyable, deal: FlashDeal | None) -> int:
    """What one unit costs now: the flash deal's price while one is live."""
    return deal.deal_price if deal is not None else buyable.variant.price


def shop_ref(shop: Shop) -> ShopRefOut:
    """A shop as commerce answers name it."""
    return ShopRefOut(id=shop.id, handle=shop.handle, name=shop.name)
