"""Exporting a shop's products as the Shopify product CSV, a batch of products at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.catalog import domain
from clipcart.catalog.csv_format import (
    ImageRecord,
    ProductRecord,
    VariantRecord,
)
from clipcart.catalog.csv_writing import header_line, rows_text
from clipcart.catalog.models import Product
from clipcart.catalog.schemas import IMAGE_SIZES, image_url
from clipcart.shops.models import Shop

BATCH = 500


def product_record(product: Product, *, base_url: str) -> ProductRecord:
    """A product as the rows of the CSV; image sources are absolute URLs of the largest size."""
    category = (
        domain.find_category(product.category_id) if product.category_id is not None else None
    )
    return ProductRecord(
        handle=product.handle,
        title=product.title,
        description_html=product.description_html,
        vendor=product.vendor,
        product_type=product.product_type,
        category=category.path if category else "",
        tags=list(product.tags),
        status=product.status,
        options=list(product.options),
        variants=[
            VariantRecord(
                option_values=list(variant.option_values),
                price=variant.price,
                sku=variant.sku,
                compare_at_price=variant.compare_at_price,
                weight_grams=variant.weight_grams,
                stock=variant.stock,
            )
            for variant in product.variants
        ],
        images=[
            ImageRecord(
                src=base_url.rstrip("/") + image_url(image.key, IMAGE_SIZES[0]),
                position=index,
                alt=image.alt,
            )
            for index, image in enumerate(product.images, start=1)
        ],
    )


async def iter_shop_products(shop: Shop, *, session: AsyncSession) -> AsyncIterator[Product]:
    """Every product of the shop (any status), oldest first, loaded a batch at a time."""
    after: tuple[object, object] | None = None
    while True:
        statement = select(Product).where(Product.shop_id == shop.id)
        if after is not None:
            created_at, product_id = after
            statement = statement.where(
                (Product.created_at > created_at)
                | ((Product.created_at == created_at) & (Product.id > product_id))
            )
        batch = list(
            await session.scalars(statement.order_by(Product.created_at, Product.id).limit(BATCH))
        )
        for product in batch:
            yield product
        if len(batch) < BATCH:
            return
        after = (batch[-1].created_at, batch[-1].id)
        session.expunge_all()


async def export_csv(shop: Shop, *, base_url: str, session: AsyncSession) -> AsyncIterator[str]:
    """The shop's products as CSV text, header first, one product's rows per piece."""
    yield header_line()
    async for product in iter_shop_products(shop, session=session):
        yield rows_text(product_record(product, base_url=base_url), currency=product.currency)
