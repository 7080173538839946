"""Catalogue use cases: products and variants, stock with a movement log, images, listings.

Services never commit: the unit of work at the edge does."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from clipcart.accounts.models import User
from clipcart.catalog import domain
from clipcart.catalog.chips import ChipFacts as ChipFacts
from clipcart.catalog.chips import chip_facts as chip_facts
from clipcart.catalog.images import add_product_image as add_product_image
from clipcart.catalog.images import remove_product_image as remove_product_image
from clipcart.catalog.listing import ProductFilters as ProductFilters
from clipcart.catalog.listing import list_products as list_products
from clipcart.catalog.models import Product, Variant
from clipcart.catalog.schemas import ProductIn, ProductUpdateIn, VariantIn
from clipcart.catalog.stock import adjust_stock as adjust_stock
from clipcart.catalog.stock import list_stock_movements as list_stock_movements
from clipcart.catalog.stock import set_stock as set_stock
from clipcart.core.errors import Conflict, FieldErrors, NotFound
from clipcart.shops import service as shops
from clipcart.shops.domain import CATALOG_ROLES
from clipcart.shops.models import Shop


def _check_variants(errors: FieldErrors, options: list[str], variants: list[VariantIn]) -> None:
    seen_skus: set[str] = set()
    seen_values: set[tuple[str, ...]] = set()
    if not variants:
        errors.add("variants", ["Add at least one variant."])
    for index, variant in enumerate(variants):
        field = f"variants.{index}"
        errors.add(
            f"{field}.option_values", domain.variant_option_problems(options, variant.option_values)
        )
        if variant.price < 0:
            errors.add(f"{field}.price", ["The price cannot be negative."])
        if variant.compare_at_price is not None and variant.compare_at_price < 0:
            errors.add(f"{field}.compare_at_price", ["The compare-at price cannot be negative."])
        if variant.weight_grams < 0:
            errors.add(f"{field}.weight_grams", ["The weight cannot be negative."])
        if variant.stock is not None and variant.stock < 0:
            errors.add(f"{field}.stock", ["Stock cannot be negative."])
        sku = (variant.sku or "").strip()
        if sku:
            if sku.casefold() in seen_skus:
                errors.add(f"{field}.sku", [f"The SKU {sku} is used twice."])
            seen_skus.add(sku.casefold())
        values = tuple(value.strip().casefold() for value in variant.option_values)
        if values in seen_values:
            errors.add(f"{field}.option_values", ["Two variants have the same option values."])
        seen_values.add(values)


def _check_product_fields(
    errors: FieldErrors, *, title: str, handle: str, options: list[str], category_id: int | None
) -> None:
    if not title:
        errors.add("title", ["Enter a title."])
    errors.add("handle", domain.handle_problems(handle))
    errors.add("category_id", domain.category_problems(category_id))
    if len(options) > domain.MAX_OPTIONS:
        errors.add("options", [f"Use at most {domain.MAX_OPTIONS} options."])
    if any(not name.strip() for name in options):
        errors.add("options", ["Option names cannot be empty."])
    if len({name.strip().casefold() for name in options}) != len(options):
        errors.add("options", ["Option names must be different."])


async def _check_skus_free(
    session: AsyncSession, shop_id: uuid.UUID, skus: list[str], product_id: uuid.UUID | None
) -> list[str]:
    if not skus:
        return []
    statement = select(Variant.sku).where(Variant.shop_id == shop_id, Variant.sku.in_(skus))
    if product_id is not None:
        statement = statement.where(Variant.product_id != product_id)
    return [sku for sku in (await session.scalars(statement)).all() if sku]


async def _raise_if_sku_taken(
    session: AsyncSession,
    shop_id: uuid.UUID,
    variants: list[VariantIn],
    product_id: uuid.UUID | None,
) -> None:
    skus = [(variant.sku or "").strip() for variant in variants]
    taken = set(await _check_skus_free(session, shop_id, [sku for sku in skus if sku], product_id))
    if taken:
        errors = [
            {
                "field": f"variants.{index}.sku",
                "message": f"The SKU {sku} is already used in this shop.",
            }
            for index, sku in enumerate(skus)
            if sku in taken
        ]
        raise Conflict(errors[0]["message"], code="sku_taken", data={"errors": errors})


async def _flush_or_conflict(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:  # a concurrent request took the handle or a SKU
        raise Conflict(
            "That handle or SKU was just taken in this shop.", code="already_taken"
        ) from error


async def _handle_taken(
    session: AsyncSession, shop_id: uuid.UUID, handle: str, product_id: uuid.UUID | None
) -> bool:
    statement = select(Product.id).where(Product.shop_id == shop_id, Product.handle == handle)
    found = await session.scalar(statement)
    return found is not None and found != product_id


async def _unique_handle(session: AsyncSession, shop_id: uuid.UUID, base: str) -> str:
    handle, counter = base, 1
    while await _handle_taken(session, shop_id, handle, None):
        counter += 1
        handle = f"{base[:190]}-{counter}"
    return handle


def _clean_options(options: list[str]) -> list[str]:
    return [" ".join(name.split()) for name in options]


def product_row(
    shop: Shop, product_in: ProductIn, *, handle: str, with_stock: bool = False
) -> Product:
    """The product row (with its variants) `product_in` makes for `shop`, once its fields were
    checked and `handle` chosen: names and option values with their spaces tidied, the
    description sanitised, tags normalised. Stock starts at 0 (the caller records it as
    movements) unless `with_stock`, for callers that write the movements themselves."""
    return Product(
        shop_id=shop.id,
        handle=handle,
        title=product_in.title.strip(),
        description_html=domain.sanitize_description(product_in.description_html),
        vendor=product_in.vendor.strip(),
        product_type=product_in.product_type.strip(),
        tags=domain.normalize_tags(product_in.tags),
        category_id=product_in.category_id,
        status=product_in.status,
        options=_clean_options(product_in.options),
        currency=shop.currency,
        variants=[
            _variant_from(
                variant_in,
                shop_id=shop.id,
                position=index,
                stock=(variant_in.stock or 0) if with_stock else 0,
            )
            for index, variant_in in enumerate(product_in.variants)
        ],
        images=[],
    )


def _variant_from(
    variant_in: VariantIn, *, shop_id: uuid.UUID, position: int, stock: int = 0
) -> Variant:
    return Variant(
        shop_id=shop_id,
        position=position,
        sku=(variant_in.sku or "").strip() or None,
        option_values=[" ".join(value.split()) for value in variant_in.option_values],
        price=variant_in.price,
        compare_at_price=variant_in.compare_at_price,
        weight_grams=variant_in.weight_grams,
        stock=stock,
    )


async def create_product(
    shop: Shop,
    product_in: ProductIn,
    *,
    actor: User | None,
    session: AsyncSession,
    stock_reason: str = "initial",
) -> Product:
    """Create a product with its variants; initial stock is recorded as movements."""
    errors = FieldErrors()
    title = product_in.title.strip()
    explicit_handle = product_in.handle is not None and product_in.handle.strip() != ""
    handle = (
        product_in.handle.strip().lower()
        if product_in.handle is not None and explicit_handle
        else domain.slugify_handle(title)
    )
    options = _clean_options(product_in.options)
    _check_product_fields(
        errors, title=title, handle=handle, options=options, category_id=product_in.category_id
    )
    _check_variants(errors, options, product_in.variants)
    errors.raise_if_any()
    if explicit_handle:
        if await _handle_taken(session, shop.id, handle, None):
            raise Conflict(
                "Another product of this shop has that handle.",
                code="handle_taken",
                data={"errors": [{"field": "handle", "message": "That handle is taken."}]},
            )
    else:
        handle = await _unique_handle(session, shop.id, handle)
    await _raise_if_sku_taken(session, shop.id, product_in.variants, None)
    product = product_row(shop, product_in, handle=handle)
    session.add(product)
    await _flush_or_conflict(session)
    for variant, variant_in in zip(product.variants, product_in.variants, strict=True):
        if variant_in.stock:
            await adjust_stock(
                variant,
                variant_in.stock,
                reason=stock_reason,
                actor_id=actor.id if actor else None,
                session=session,
            )
    await session.refresh(product, ["shop"])
    return product


def _match_variant(existing: list[Variant], variant_in: VariantIn) -> Variant | None:
    if variant_in.id is not None:
        return next((variant for variant in existing if variant.id == variant_in.id), None)
    sku = (variant_in.sku or "").strip()
    if sku:
        found = next((variant for variant in existing if variant.sku == sku), None)
        if found is not None:
            return found
    values = [" ".join(value.split()) for value in variant_in.option_values]
    return next(
        (variant for variant in existing if variant.option_values == values and not variant.sku),
        None,
    )


async def update_product(
    product: Product,
    product_in: ProductUpdateIn,
    *,
    actor: User | None,
    session: AsyncSession,
    stock_reason: str = "correction",
) -> Product:
    """Change a product; a new variant list replaces the old one (matched by id, SKU or option
    values), and stock differences are recorded as movements."""
    given = product_in.model_fields_set
    errors = FieldErrors()
    title = product.title if product_in.title is None else product_in.title.strip()
    handle = product.handle if not product_in.handle else product_in.handle.strip().lower()
    options = product.options if product_in.options is None else _clean_options(product_in.options)
    category_id = product_in.category_id if "category_id" in given else product.category_id
    _check_product_fields(
        errors, title=title, handle=handle, options=options, category_id=category_id
    )
    if product_in.variants is not None:
        _check_variants(errors, options, product_in.variants)
    elif product_in.options is not None and options != product.options:
        errors.add("variants", ["Give the variants again when the options change."])
    for index, variant_in in enumerate(product_in.variants or []):
        if variant_in.id is not None and not any(v.id == variant_in.id for v in product.variants):
            errors.add(f"variants.{index}.id", ["That variant is not part of this product."])
    errors.raise_if_any()
    if handle != product.handle and await _handle_taken(
        session, product.shop_id, handle, product.id
    ):
        raise Conflict(
            "Another product of this shop has that handle.",
            code="handle_taken",
            data={"errors": [{"field": "handle", "message": "That handle is taken."}]},
        )
    product.title, product.handle, product.options, product.category_id = (
        title,
        handle,
        options,
        category_id,
    )
    if product_in.description_html is not None:
        product.description_html = domain.sanitize_description(product_in.description_html)
    if product_in.vendor is not None:
        product.vendor = product_in.vendor.strip()
    if product_in.product_type is not None:
        product.product_type = product_in.product_type.strip()
    if product_in.tags is not None:
        product.tags = domain.normalize_tags(product_in.tags)
    if product_in.status is not None:
        product.status = product_in.status
    if product_in.variants is not None:
        await _raise_if_sku_taken(session, product.shop_id, product_in.variants, product.id)
        await _replace_variants(product, product_in.variants, actor, session, stock_reason)
    await _flush_or_conflict(session)
    return product


async def _replace_variants(
    product: Product,
    variants_in: list[VariantIn],
    actor: User | None,
    session: AsyncSession,
    stock_reason: str,
) -> None:
    existing = list(product.variants)
    kept: list[tuple[Variant, VariantIn]] = []
    for position, variant_in in enumerate(variants_in):
        variant = _match_variant(
            [v for v in existing if all(v is not k for k, _ in kept)], variant_in
        )
        if variant is None:
            variant = _variant_from(variant_in, shop_id=product.shop_id, position=position)
        else:
            variant.position = position
            variant.sku = (variant_in.sku or "").strip() or None
            variant.option_values = [" ".join(value.split()) for value in variant_in.option_values]
            variant.price = variant_in.price
            variant.compare_at_price = variant_in.compare_at_price
            variant.weight_grams = variant_in.weight_grams
        kept.append((variant, variant_in))
    # Removed variants go first so their SKUs are free for the new ones.
    for variant in existing:
        if all(variant is not k for k, _ in kept):
            if variant.stock > 0:
                # the log keeps the units that leave with the variant
                label = variant.sku or " / ".join(variant.option_values) or "default"
                await adjust_stock(
                    variant,
                    -variant.stock,
                    reason="correction",
                    actor_id=actor.id if actor else None,
                    session=session,
                    note=f"Variant {label} removed",
                )
            product.variants.remove(variant)
    await _flush_or_conflict(session)
    for variant, _ in kept:
        if variant not in product.variants:
            product.variants.append(variant)
    product.variants.sort(key=lambda variant: variant.position)
    await _flush_or_conflict(session)
    for variant, variant_in in kept:
        if variant_in.stock is not None:
            await set_stock(
                variant,
                variant_in.stock,
                reason=stock_reason,
                actor_id=actor.id if actor else None,
                session=session,
            )


# --- loading ------------------------------------------------------------------------------


async def get_product(product_id: uuid.UUID, *, session: AsyncSession) -> Product:
    """The product with this id, whatever its status (404 when there is none)."""
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound("There is no such product.", code="product_not_found")
    return product


async def get_product_for_viewer(
    viewer: User | None, product_id: uuid.UUID, *, session: AsyncSession
) -> Product:
    """A product the viewer may see: active ones for everyone, others for the shop's staff."""
    product = await get_product(product_id, session=session)
    if product.status == "active":
        return product
    if viewer is not None and await shops.is_shop_staff(
        viewer.id, product.shop_id, session=session
    ):
        return product
    raise NotFound("There is no such product.", code="product_not_found")


async def get_product_for_staff(
    user: User,
    product_id: uuid.UUID,
    *,
    session: AsyncSession,
    roles: frozenset[str] | None = CATALOG_ROLES,
) -> Product:
    """A product of a shop `user` works for (404 to outsiders, 403 when the role is too low)."""
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound("There is no such product.", code="product_not_found")
    role = await shops.staff_role(user.id, product.shop_id, session=session)
    if role is None:
        raise NotFound("There is no such product.", code="product_not_found")
    await shops.get_shop_by_id_for_staff(user, product.shop_id, session=session, roles=roles)
    return product


async def find_product_by_handle(
    shop_id: uuid.UUID, handle: str, *, session: AsyncSession
) -> Product | None:
    """The shop's product with this handle (Shopify's "Handle"), or None."""
    return await session.scalar(
        select(Product).where(Product.shop_id == shop_id, Product.handle == handle.strip().lower())
    )


def find_variant(product: Product, variant_id: uuid.UUID) -> Variant:
    """One of the product's variants (404 when it is not one of them)."""
    for variant in product.variants:
        if variant.id == variant_id:
            return variant
    raise NotFound("That variant is not part of this product.", code="variant_not_found")


async def get_variant_for_shop(
    shop: Shop, variant_id: uuid.UUID, *, session: AsyncSession
) -> Variant:
    """One of the shop's variants (404 when it belongs to another shop or none)."""
    variant = await session.get(Variant, variant_id)
    if variant is None or variant.shop_id != shop.id:
        raise NotFound("There is no such variant in this shop.", code="variant_not_found")
    return variant


# Built once: every feed page and product sheet reads products (building a statement costs
# about as much as running it).
_PRODUCTS_BY_ID = (
    select(Product)
    .where(Product.id.in_(bindparam("product_ids", expanding=True)))
    .options(selectinload(Product.variants), selectinload(Product.images))
)


async def products_by_ids(
    product_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, Product]:
    """The products with these ids, by id, with their shop, variants and images loaded: three
    queries however many products (unknown ids are left out; any status is returned, so the
    caller decides what may be shown)."""
    wanted = set(product_ids)
    if not wanted:
        return {}
    rows = await session.scalars(_PRODUCTS_BY_ID, {"product_ids": list(wanted)})
    return {product.id: product for product in rows}
