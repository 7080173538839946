"""Catalogue inputs and outputs. Prices come in as integer minor units of the shop's currency
and go out as Money (amount, currency, formatted)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from clipcart.catalog import domain
from clipcart.catalog.models import Product, ProductImage, StockMovement, Variant
from clipcart.core.money import Money
from clipcart.shops.schemas import MoneyOut

ProductStatus = Literal["draft", "active", "archived"]
IMAGE_SIZES: tuple[int, ...] = (1200, 600, 240)


class VariantIn(BaseModel):
    """One buyable variant. When the product is updated, `id` (or else the SKU, or else the
    option values) says which existing variant this is; variants not listed are removed."""

    id: uuid.UUID | None = None
    sku: str | None = Field(default=None, max_length=100)
    option_values: list[str] = Field(default_factory=list, max_length=domain.MAX_OPTIONS)
    price: int = Field(ge=0, le=domain.MAX_PRICE, description="Minor units (cents)")
    compare_at_price: int | None = Field(
        default=None, ge=0, le=domain.MAX_PRICE, description="Minor units; the 'was' price"
    )
    weight_grams: int = Field(default=0, ge=0, le=1_000_000)
    stock: int | None = Field(
        default=None,
        ge=0,
        le=domain.MAX_STOCK,
        description="Units on hand; a change is recorded as a stock movement",
    )


class ProductIn(BaseModel):
    """A new product with at least one variant."""

    title: str = Field(min_length=1, max_length=255)
    handle: str | None = Field(default=None, description="URL handle; made from the title")
    description_html: str = Field(default="", max_length=domain.DESCRIPTION_MAX)
    vendor: str = Field(default="", max_length=255)
    product_type: str = Field(default="", max_length=255)
    tags: list[str] = Field(default_factory=list, max_length=domain.MAX_TAGS)
    category_id: int | None = Field(default=None, description="An id of the ClipCart taxonomy")
    status: ProductStatus = "draft"
    options: list[str] = Field(
        default_factory=list, max_length=domain.MAX_OPTIONS, description="Option names"
    )
    variants: list[VariantIn] = Field(min_length=1, max_length=domain.MAX_VARIANTS_PER_PRODUCT)


class ProductUpdateIn(BaseModel):
    """Product changes; fields left out stay as they are. `variants`, when given, is the
    complete new list."""

    title: str | None = Field(default=None, min_length=1, max_length=255)
    handle: str | None = None
    description_html: str | None = Field(default=None, max_length=domain.DESCRIPTION_MAX)
    vendor: str | None = Field(default=None, max_length=255)
    product_type: str | None = Field(default=None, max_length=255)
    tags: list[str] | None = Field(default=None, max_length=domain.MAX_TAGS)
    category_id: int | None = Field(default=None, description="null (given) removes it")
    status: ProductStatus | None = None
    options: list[str] | None = Field(default=None, max_length=domain.MAX_OPTIONS)
    variants: list[VariantIn] | None = Field(
        default=None, min_length=1, max_length=domain.MAX_VARIANTS_PER_PRODUCT
    )


class StockChangeIn(BaseModel):
    """Change one variant's stock: by `delta`, or to `quantity`; always with a reason."""

    variant_id: uuid.UUID
    delta: int | None = Field(default=None, ge=-domain.MAX_STOCK, le=domain.MAX_STOCK)
    quantity: int | None = Field(default=None, ge=0, le=domain.MAX_STOCK)
    reason: str = Field(description="import, sale, return, correction, damaged, restock...")
    note: str = Field(default="", max_length=500)


class CategoryOut(BaseModel):
    id: int
    path: str
    name: str


class VariantOut(BaseModel):
    id: uuid.UUID
    sku: str | None
    title: str
    option_values: list[str]
    price: MoneyOut
    compare_at_price: MoneyOut | None
    weight_grams: int
    stock: int
    stock_state: str

    @classmethod
    def of(cls, variant: Variant, currency: str) -> VariantOut:
        compare = variant.compare_at_price
        return cls(
            id=variant.id,
            sku=variant.sku,
            title=" / ".join(variant.option_values) or "Default",
            option_values=list(variant.option_values),
            price=MoneyOut.of(Money(variant.price, currency)),
            compare_at_price=None if compare is None else MoneyOut.of(Money(compare, currency)),
            weight_grams=variant.weight_grams,
            stock=variant.stock,
            stock_state=domain.stock_state(variant.stock),
        )


def image_url(key: str, size: int) -> str:
    """The public URL of one stored size of a product image."""
    return f"/media/products/{key}-{size}.webp"


class ImageOut(BaseModel):
    id: uuid.UUID
    position: int
    width: int
    height: int
    alt: str
    urls: dict[str, str]

    @classmethod
    def of(cls, image: ProductImage) -> ImageOut:
        return cls(
            id=image.id,
            position=image.position,
            width=image.width,
            height=image.height,
            alt=image.alt,
            urls={str(size): image_url(image.key, size) for size in IMAGE_SIZES},
        )


class ShopCardOut(BaseModel):
    id: uuid.UUID
    handle: str
    name: str


class ProductOut(BaseModel):
    id: uuid.UUID
    url: str
    shop: ShopCardOut
    handle: str
    title: str
    description_html: str
    vendor: str
    product_type: str
    tags: list[str]
    category: CategoryOut | None
    status: str
    options: list[str]
    currency: str
    price_min: MoneyOut
    price_max: MoneyOut
    in_stock: bool
    variants: list[VariantOut]
    images: list[ImageOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        prices = [variant.price for variant in product.variants] or [0]
        category = (
            domain.find_category(product.category_id) if product.category_id is not None else None
        )
        return cls(
            id=product.id,
            url=f"/p/{product.id}",
            shop=ShopCardOut(
                id=product.shop.id, handle=product.shop.handle, name=product.shop.name
            ),
            handle=product.handle,
            title=product.title,
            description_html=product.description_html,
            vendor=product.vendor,
            product_type=product.product_type,
            tags=list(product.tags),
            category=(
                None
                if category is None
                else CategoryOut(id=category.id, path=category.path, name=category.name)
            ),
            status=product.status,
            options=list(product.options),
            currency=product.currency,
            price_min=MoneyOut.of(Money(min(prices), product.currency)),
            price_max=MoneyOut.of(Money(max(prices), product.currency)),
            in_stock=any(variant.stock > 0 for variant in product.variants),
            variants=[VariantOut.of(variant, product.currency) for variant in product.variants],
            images=[ImageOut.of(image) for image in product.images],
            created_at=product.created_at,
            updated_at=product.updated_at,
        )


class StockMovementOut(BaseModel):
    id: uuid.UUID
    variant_id: uuid.UUID | None = Field(description="null once the variant is removed")
    delta: int
    quantity_after: int
    reason: str
    note: str
    actor_id: uuid.UUID | None
    created_at: datetime

    @classmethod
    def of(cls, movement: StockMovement) -> StockMovementOut:
        return cls(
            id=movement.id,
            variant_id=movement.variant_id,
            delta=movement.delta,
            quantity_after=movement.quantity_after,
            reason=movement.reason,
            note=movement.note,
            actor_id=movement.actor_id,
            created_at=movement.created_at,
        )


class StockChangeOut(BaseModel):
    variant: VariantOut
    movement: StockMovementOut | None


def product_card(product: Product) -> dict[str, Any]:
    """What a product tile shows."""
    prices = [variant.price for variant in product.variants] or [0]
    low = Money(min(prices), product.currency)
    compare = [
        variant.compare_at_price
        for variant in product.variants
        if variant.compare_at_price and variant.compare_at_price > variant.price
    ]
    image = product.images[0] if product.images else None
    return {
        "id": product.id,
        "url": f"/p/{product.id}",
        "title": product.title,
        "shop_name": product.shop.name,
        "shop_handle": product.shop.handle,
        "price": low.format(),
        "from_price": min(prices) != max(prices),
        "compare_at": Money(max(compare), product.currency).format() if compare else None,
        "in_stock": any(variant.stock > 0 for variant in product.variants),
        "image": image_url(image.key, 600) if image else None,
        "image_alt": (image.alt or product.title) if image else "",
        "status": product.status,
    }


def product_json_ld(product: Product, data: ProductOut, base_url: str) -> dict[str, Any]:
    """The schema.org Product (one Offer per variant) for the product page's JSON-LD."""
    url = f"{base_url}/p/{product.id}"
    offers = [
        {
            "@type": "Offer",
            "sku": variant.sku or str(variant.id),
            "price": str(Money(variant.price.amount, product.currency).to_decimal()),
            "priceCurrency": product.currency,
            "availability": "https://schema.org/InStock"
            if variant.stock > 0
            else "https://schema.org/OutOfStock",
            "url": f"{url}?variant={variant.id}",
        }
        for variant in data.variants
    ]
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.title,
        "description": domain.plain_text(product.description_html, 5000),
        "url": url,
        "brand": {"@type": "Brand", "name": product.vendor or product.shop.name},
        "image": [base_url + image.urls["1200"] for image in data.images],
        "offers": offers,
    }
    if data.category is not None:
        document["category"] = data.category.path
    if len(data.variants) == 1 and data.variants[0].sku:
        document["sku"] = data.variants[0].sku
    return document
