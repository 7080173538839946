"""Catalogue API under /api/v1: product listing and pages, product editing, images, stock."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Depends, File, Form, Query, UploadFile

from clipcart.accounts.dependencies import OptionalUser, require_scope
from clipcart.accounts.models import User
from clipcart.catalog import domain, service
from clipcart.catalog.images import IMAGE_MAX_BYTES
from clipcart.catalog.models import StockMovement
from clipcart.catalog.schemas import (
    CategoryOut,
    ImageOut,
    ProductIn,
    ProductOut,
    ProductUpdateIn,
    StockChangeIn,
    StockChangeOut,
    StockMovementOut,
    VariantOut,
)
from clipcart.core.errors import ValidationFailed
from clipcart.core.pagination import Page
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service as shops
from clipcart.shops.domain import CATALOG_ROLES

router = make_router(prefix="/api/v1", tags=["catalog"])

CatalogReader = Annotated[User, Depends(require_scope("catalog:read"))]
CatalogWriter = Annotated[User, Depends(require_scope("catalog:write"))]


@router.get("/categories")
async def categories() -> list[CategoryOut]:
    """The categories a product may be filed under (prohibited ones are left out)."""
    return [
        CategoryOut(id=category.id, path=category.path, name=category.name)
        for category in domain.listable_categories()
    ]


@router.get("/products")
async def list_products(
    db: DbSession,
    shop: Annotated[str | None, Query(description="A shop's @handle")] = None,
    category: Annotated[int | None, Query(description="A category id (and those under it)")] = None,
    min_price: Annotated[int | None, Query(ge=0, description="Minor units")] = None,
    max_price: Annotated[int | None, Query(ge=0, description="Minor units")] = None,
    in_stock: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> Page[ProductOut]:
    """Active products, newest first, with filters and cursor pagination."""
    if min_price is not None and max_price is not None and min_price > max_price:
        raise ValidationFailed.field("min_price", "The lowest price is above the highest.")
    if category is not None and domain.find_category(category) is None:
        raise ValidationFailed.field("category", "There is no such category.")
    shop_id = (await shops.get_shop_by_handle(shop, session=db)).id if shop else None
    filters = service.ProductFilters(
        shop_id=shop_id,
        category_id=category,
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
        search=q,
        open_shops_only=True,
    )
    rows, next_cursor = await service.list_products(filters, session=db, cursor=cursor, limit=limit)
    return Page(items=[ProductOut.of(product) for product in rows], next_cursor=next_cursor)


@router.get("/shops/{handle}/products")
async def list_shop_products(
    handle: str,
    user: CatalogReader,
    db: DbSession,
    status: Literal["draft", "active", "archived"] | None = None,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> Page[ProductOut]:
    """Every product of a shop you work for, any status (or one status)."""
    shop = await shops.get_shop_for_staff(user, handle, session=db)
    filters = service.ProductFilters(
        shop_id=shop.id, statuses=(status,) if status else domain.PRODUCT_STATUSES
    )
    rows, next_cursor = await service.list_products(filters, session=db, cursor=cursor, limit=limit)
    return Page(items=[ProductOut.of(product) for product in rows], next_cursor=next_cursor)


@router.post("/shops/{handle}/products", status_code=201)
async def create_product(
    handle: str, data: ProductIn, user: CatalogWriter, db: DbSession
) -> ProductOut:
    """Create a product in a shop you manage."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    return ProductOut.of(await service.create_product(shop, data, actor=user, session=db))


@router.get("/products/{product_id}")
async def get_product(product_id: uuid.UUID, viewer: OptionalUser, db: DbSession) -> ProductOut:
    """A product (drafts and archived ones only for the shop's staff)."""
    return ProductOut.of(await service.get_product_for_viewer(viewer, product_id, session=db))


@router.patch("/products/{product_id}")
async def update_product(
    product_id: uuid.UUID, data: ProductUpdateIn, user: CatalogWriter, db: DbSession
) -> ProductOut:
    """Change a product; `variants`, when given, is the complete new list."""
    product = await service.get_product_for_staff(user, product_id, session=db)
    return ProductOut.of(await service.update_product(product, data, actor=user, session=db))


@router.post("/products/{product_id}/images", status_code=201)
async def add_image(
    product_id: uuid.UUID,
    user: CatalogWriter,
    db: DbSession,
    file: Annotated[UploadFile, File()],
    alt: Annotated[str, Form(max_length=255)] = "",
    position: Annotated[int | None, Form(ge=0)] = None,
) -> ImageOut:
    """Add a picture (JPEG, PNG, WebP or GIF; up to 10 per product)."""
    product = await service.get_product_for_staff(user, product_id, session=db)
    content = await file.read(IMAGE_MAX_BYTES + 1)
    image = await service.add_product_image(
        product, content, position=position, alt=alt, session=db
    )
    return ImageOut.of(image)


@router.delete("/products/{product_id}/images/{image_id}", status_code=204)
async def delete_image(
    product_id: uuid.UUID, image_id: uuid.UUID, user: CatalogWriter, db: DbSession
) -> None:
    """Remove a picture."""
    product = await service.get_product_for_staff(user, product_id, session=db)
    await service.remove_product_image(product, image_id, session=db)


@router.patch("/products/{product_id}/stock")
async def change_stock(
    product_id: uuid.UUID, data: StockChangeIn, user: CatalogWriter, db: DbSession
) -> StockChangeOut:
    """Change one variant's stock by `delta` or to `quantity`, with a reason."""
    if (data.delta is None) == (data.quantity is None):
        raise ValidationFailed.field("delta", "Give either a delta or a quantity.")
    product = await service.get_product_for_staff(user, product_id, session=db)
    variant = service.find_variant(product, data.variant_id)
    movement: StockMovement | None
    if data.delta is not None:
        movement = await service.adjust_stock(
            variant, data.delta, reason=data.reason, actor_id=user.id, session=db, note=data.note
        )
    else:
        assert data.quantity is not None
        movement = await service.set_stock(
            variant, data.quantity, reason=data.reason, actor_id=user.id, session=db, note=data.note
        )
    return StockChangeOut(
        variant=VariantOut.of(variant, product.currency),
        movement=None if movement is None else StockMovementOut.of(movement),
    )


@router.get("/products/{product_id}/stock-movements")
async def stock_movements(
    product_id: uuid.UUID,
    user: CatalogReader,
    db: DbSession,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> Page[StockMovementOut]:
    """The product's stock changes, newest first."""
    product = await service.get_product_for_staff(user, product_id, session=db, roles=None)
    shop = await shops.get_shop(product.shop_id, session=db)
    rows, next_cursor = await service.list_stock_movements(
        shop, product_id=product.id, session=db, cursor=cursor, limit=limit
    )
    return Page(items=[StockMovementOut.of(row) for row in rows], next_cursor=next_cursor)
