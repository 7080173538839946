"""Turning parsed CSV records into the catalogue's product inputs, and the catalogue's refusals
into the row problems an import report shows."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from clipcart.catalog import domain
from clipcart.catalog import service as catalog
from clipcart.catalog.csv_format import (
    ProductRecord,
    RowProblem,
)
from clipcart.catalog.models import Product
from clipcart.catalog.schemas import ProductIn, VariantIn
from clipcart.core.errors import AppError
from clipcart.shops.models import Shop


def _variants_in(record: ProductRecord) -> list[VariantIn]:
    return [
        VariantIn(
            sku=variant.sku,
            option_values=variant.option_values,
            price=variant.price,
            compare_at_price=variant.compare_at_price,
            weight_grams=variant.weight_grams,
            stock=variant.stock,
        )
        for variant in record.variants
    ]


def category_id_for(record: ProductRecord, warnings: list[RowProblem]) -> int | None:
    """The taxonomy id of the record's category; an unknown one is a warning, not an error."""
    if not record.category:
        return None
    category = domain.find_category(record.category)
    if category is None:
        warnings.append(
            RowProblem(
                record.row,
                "Product Category",
                f"“{record.category}” is not in the ClipCart taxonomy; category left empty.",
            )
        )
        return None
    return category.id


def product_fields(record: ProductRecord, category_id: int | None) -> dict[str, Any]:
    """The product fields (variants included) a record sets."""
    return {
        "title": record.title,
        "description_html": record.description_html,
        "vendor": record.vendor,
        "product_type": record.product_type,
        "tags": record.tags,
        "category_id": category_id,
        "status": record.status,
        "options": record.options,
        "variants": _variants_in(record),
    }


def new_product(shop: Shop, product_in: ProductIn) -> Product:
    """A product row as catalogue.create_product makes it, from input the CSV reader and
    ProductIn have already checked (handle, title, options, prices, SKUs unique in the file),
    with its stock (the import writes the movements in bulk)."""
    handle = (product_in.handle or "").strip().lower()
    return catalog.product_row(shop, product_in, handle=handle, with_stock=True)


def is_unchanged(product: Product, record: ProductRecord, category_id: int | None) -> bool:
    """Whether importing the record would change nothing on the product."""
    same_product = (
        product.title == record.title
        and product.description_html == domain.sanitize_description(record.description_html)
        and product.vendor == record.vendor
        and product.product_type == record.product_type
        and product.tags == domain.normalize_tags(record.tags)
        and product.category_id == category_id
        and product.status == record.status
        and product.options == record.options
        and len(product.variants) == len(record.variants)
    )
    if not same_product:
        return False
    return all(
        variant.sku == given.sku
        and variant.option_values == given.option_values
        and variant.price == given.price
        and variant.compare_at_price == given.compare_at_price
        and variant.weight_grams == given.weight_grams
        and (given.stock is None or variant.stock == given.stock)
        for variant, given in zip(product.variants, record.variants, strict=True)
    )


def _first_error(error: Exception) -> tuple[str, str]:
    if isinstance(error, ValidationError):
        detail = error.errors()[0]
        return ".".join(str(part) for part in detail["loc"]), str(detail["msg"])
    if isinstance(error, AppError):
        items = error.data.get("errors") or []
        if items:
            return str(items[0].get("field", "")), str(items[0].get("message", error.message))
        return "", error.message
    return "", str(error)


_FIELD_COLUMNS = {
    "title": "Title",
    "handle": "Handle",
    "description_html": "Body (HTML)",
    "category_id": "Product Category",
    "options": "Option1 Name",
    "price": "Variant Price",
    "sku": "Variant SKU",
    "stock": "Variant Inventory Qty",
    "compare_at_price": "Variant Compare At Price",
    "weight_grams": "Variant Grams",
    "option_values": "Option1 Value",
}


def problem_for(record: ProductRecord, error: Exception) -> RowProblem:
    """The row problem for a record the catalogue refused: its row, column and message."""
    where, message = _first_error(error)
    parts = where.split(".")
    row, column = record.row, "Handle"
    if len(parts) >= 2 and parts[0] == "variants" and parts[1].isdigit():
        index = int(parts[1])
        if index < len(record.variants):
            row = record.variants[index].row
    for part in reversed(parts):
        if part in _FIELD_COLUMNS:
            column = _FIELD_COLUMNS[part]
            break
    return RowProblem(row, column, message)
