"""The product form of the seller center: typed text in, ProductIn variants out, and errors
keyed by the form's own field names (one row of inputs per variant)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from clipcart.catalog import domain
from clipcart.catalog.models import Product
from clipcart.catalog.schemas import VariantIn
from clipcart.core.money import Money

FormErrors = dict[str, str]


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def split_list(text: str) -> list[str]:
    """Comma-separated text as a list of trimmed, non-empty parts."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _amount(raw: str, currency: str, field: str, errors: FormErrors) -> int | None:
    text = raw.strip().replace(",", "")
    if not text:
        return None
    try:
        amount = Money.from_decimal(text, currency).amount
    except ValueError:
        errors[field] = f"Enter an amount like 19.99 in {currency}."
        return None
    if amount < 0:
        errors[field] = "The amount cannot be negative."
        return None
    return amount


PRODUCT_FIELDS = {
    "title",
    "handle",
    "description_html",
    "vendor",
    "product_type",
    "tags",
    "category_id",
    "status",
    "options",
}
VARIANT_FIELDS = ("id", "sku", "values", "price", "compare", "weight", "stock")
BLANK_ROWS = 3


def product_values(product: Product | None) -> dict[str, Any]:
    """The form's text for `product` (blank rows for a new one), plus empty rows to add more."""
    if product is None:
        return {"status": "draft", "variants": [{} for _ in range(BLANK_ROWS + 2)]}
    currency = product.currency
    rows: list[dict[str, str]] = [
        {
            "id": str(variant.id),
            "sku": variant.sku or "",
            "values": ", ".join(variant.option_values),
            "price": str(Money(variant.price, currency).to_decimal()),
            "compare": ""
            if variant.compare_at_price is None
            else str(Money(variant.compare_at_price, currency).to_decimal()),
            "weight": str(variant.weight_grams),
            "stock": str(variant.stock),
        }
        for variant in product.variants
    ]
    return {
        "title": product.title,
        "handle": product.handle,
        "description_html": product.description_html,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "tags": ", ".join(product.tags),
        "category_id": str(product.category_id or ""),
        "status": product.status,
        "options": ", ".join(product.options),
        "variants": rows + [{} for _ in range(BLANK_ROWS)],
    }


def parse_product_form(
    form: Mapping[str, Any], currency: str
) -> tuple[dict[str, Any], list[VariantIn], list[int], FormErrors]:
    """The typed values (to show again), the variants, each variant's row and form errors."""
    values: dict[str, Any] = {name: _text(form, name) for name in PRODUCT_FIELDS}
    errors: FormErrors = {}
    rows: list[dict[str, str]] = []
    variants: list[VariantIn] = []
    row_of_variant: list[int] = []
    row = 0
    while f"variants.{row}.price" in form and row < domain.MAX_VARIANTS_PER_PRODUCT:
        typed = {name: _text(form, f"variants.{row}.{name}") for name in VARIANT_FIELDS}
        rows.append(typed)
        if any(typed[name] for name in ("sku", "values", "price", "stock")):
            prefix = f"variants.{row}"
            price = _amount(typed["price"], currency, f"{prefix}.price", errors)
            if price is None and f"{prefix}.price" not in errors:
                errors[f"{prefix}.price"] = "Enter a price."
            compare = _amount(typed["compare"], currency, f"{prefix}.compare", errors)
            weight, stock = typed["weight"] or "0", typed["stock"]
            if not weight.isdigit():
                errors[f"{prefix}.weight"] = "Enter the weight in whole grams."
            if stock and not stock.isdigit():
                errors[f"{prefix}.stock"] = "Enter a whole number, 0 or more."
            try:
                variant_id = uuid.UUID(typed["id"]) if typed["id"] else None
            except ValueError:
                variant_id = None
            if not any(key.startswith(prefix + ".") for key in errors):
                variants.append(
                    VariantIn(
                        id=variant_id,
                        sku=typed["sku"] or None,
                        option_values=split_list(typed["values"]),
                        price=price or 0,
                        compare_at_price=compare,
                        weight_grams=int(weight),
                        stock=int(stock) if stock else None,
                    )
                )
                row_of_variant.append(row)
        row += 1
    values["variants"] = rows + [{} for _ in range(BLANK_ROWS if len(rows) < 2 else 1)]
    if not variants and not errors:
        errors["variants.0.price"] = "Add at least one variant with a price."
    category = values["category_id"]
    if category and not category.isdigit():
        errors["category_id"] = "Choose a category from the list."
    return values, variants, row_of_variant, errors


def remap_errors(errors: FormErrors, row_of_variant: list[int]) -> FormErrors:
    """Service errors name variants by their index among those sent; the form, by row."""
    mapped: FormErrors = {}
    for key, message in errors.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "variants" and parts[1].isdigit():
            index = int(parts[1])
            row = row_of_variant[index] if index < len(row_of_variant) else index
            field = {"compare_at_price": "compare", "weight_grams": "weight"}.get(
                parts[2] if len(parts) > 2 else "price", parts[2] if len(parts) > 2 else "price"
            )
            field = "values" if field == "option_values" else field
            mapped[f"variants.{row}.{field}"] = message
        else:
            mapped[key] = message
    return mapped


def known_fields(values: dict[str, Any]) -> set[str]:
    """Every field name the form has, so errors land next to their inputs."""
    rows = range(len(values.get("variants", [])) + 1)
    names = (*VARIANT_FIELDS, "option_values", "compare_at_price", "weight_grams")
    return PRODUCT_FIELDS | {f"variants.{row}.{name}" for row in rows for name in names}


def product_fields(values: dict[str, Any], *, unknown_status: str | None) -> dict[str, Any]:
    """The product's own fields (all but the variants) from the form's values; a status the
    catalogue does not know becomes `unknown_status`."""
    status = values["status"]
    return {
        "title": values["title"],
        "handle": values["handle"] or None,
        "description_html": values["description_html"],
        "vendor": values["vendor"],
        "product_type": values["product_type"],
        "tags": split_list(values["tags"]),
        "category_id": int(values["category_id"]) if values["category_id"] else None,
        "status": status if status in domain.PRODUCT_STATUSES else unknown_status,
        "options": split_list(values["options"]),
    }
