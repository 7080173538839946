"""Writing the Shopify product CSV back out: one product's rows, the header, whole files, and
money as the plain decimal Shopify writes. Pure and framework-free; reading is csv_format.py."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from clipcart.catalog.csv_format import (
    DEFAULT_OPTION_NAME,
    DEFAULT_OPTION_VALUE,
    EXPORT_COLUMNS,
    ProductRecord,
    VariantRecord,
)
from clipcart.core.money import minor_unit_exponent


def format_money(minor: int, currency: str) -> str:
    """Minor units as the plain decimal Shopify writes ("12.50")."""
    exponent = minor_unit_exponent(currency)
    return str(Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))


def _product_cells(product: ProductRecord) -> dict[str, str]:
    options = product.options or [DEFAULT_OPTION_NAME]
    cells = {
        "Title": product.title,
        "Body (HTML)": product.description_html,
        "Vendor": product.vendor,
        "Product Category": product.category,
        "Type": product.product_type,
        "Tags": ", ".join(product.tags),
        "Published": "TRUE" if product.status == "active" else "FALSE",
        "Status": product.status,
    }
    for number, name in enumerate(options, start=1):
        cells[f"Option{number} Name"] = name
    return cells


def _variant_cells(variant: VariantRecord, has_options: bool, currency: str) -> dict[str, str]:
    values = variant.option_values if has_options else [DEFAULT_OPTION_VALUE]
    cells = {f"Option{number} Value": value for number, value in enumerate(values, start=1)}
    cells.update(
        {
            "Variant SKU": variant.sku or "",
            "Variant Grams": str(variant.weight_grams),
            "Variant Inventory Qty": "" if variant.stock is None else str(variant.stock),
            "Variant Price": format_money(variant.price, currency),
            "Variant Compare At Price": (
                ""
                if variant.compare_at_price is None
                else format_money(variant.compare_at_price, currency)
            ),
        }
    )
    return cells


def product_rows(product: ProductRecord, *, currency: str) -> list[list[str]]:
    """The CSV rows of one product: variants and images side by side, like Shopify."""
    rows = []
    for index in range(max(len(product.variants), len(product.images), 1)):
        cells = {"Handle": product.handle}
        if index == 0:
            cells.update(_product_cells(product))
        if index < len(product.variants):
            cells.update(_variant_cells(product.variants[index], bool(product.options), currency))
        if index < len(product.images):
            image = product.images[index]
            cells.update(
                {
                    "Image Src": image.src,
                    "Image Position": str(image.position),
                    "Image Alt Text": image.alt,
                }
            )
        rows.append([cells.get(column, "") for column in EXPORT_COLUMNS])
    return rows


def header_line() -> str:
    """The header row as CSV text."""
    return _to_csv([list(EXPORT_COLUMNS)])


def rows_text(product: ProductRecord, *, currency: str) -> str:
    """One product's rows as CSV text (for streaming exports)."""
    return _to_csv(product_rows(product, currency=currency))


def _to_csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def write_products(products: Iterable[ProductRecord], *, currency: str) -> str:
    """The whole file for `products` (prices written in major units of `currency`)."""
    parts = [header_line()]
    parts.extend(rows_text(product, currency=currency) for product in products)
    return "".join(parts)
