"""Public shop and catalogue pages: open a shop, a shop's page, the Shop tab, product pages.

They call the same services as the JSON API; a form with a problem is rendered again with a
4xx status (so the unit of work rolls back), a successful POST answers 303."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from clipcart.catalog import domain as catalog_domain
from clipcart.catalog import service as catalog
from clipcart.catalog.schemas import ProductOut, product_card, product_json_ld
from clipcart.core.config import get_settings
from clipcart.core.errors import AppError, NotFound
from clipcart.core.money import Money
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import domain as shop_domain
from clipcart.shops import service as shops
from clipcart.shops.domain import CATALOG_ROLES
from clipcart.shops.models import Shop
from clipcart.shops.schemas import ShopIn, ShopUpdateIn, StaffIn, shop_summary
from clipcart.web.flash import flash
from clipcart.web.forms import (
    FormErrors,
    errors_from_app_error,
    errors_from_validation,
    form_values,
    purchase_source,
    purchase_source_params,
    see_other,
)
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer, Viewer

router = make_router(include_in_schema=False)

SHOP_FIELDS = {
    "handle",
    "name",
    "description",
    "country",
    "currency",
    "return_policy",
    "shipping_flat_rate",
    "free_shipping_threshold",
    "processing_days",
}
COMMON_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CNY", "INR", "BRL", "MXN", "CHF")


def parse_amount(raw: str, currency: str, field: str, errors: FormErrors) -> int | None:
    """A major-unit amount typed in a form ("19.99") as minor units, or None when blank."""
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


def browse_categories() -> list[catalog_domain.Category]:
    """Categories offered in the Shop tab's filter: the top two levels."""
    return [
        category
        for category in catalog_domain.listable_categories()
        if category.path.count(" > ") <= 1
    ]


def _decimal(raw: str | None) -> Decimal | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


@router.get("/shop", response_class=HTMLResponse)
async def shop_tab(request: Request, viewer: Viewer, session: DbSession) -> Response:
    """The Shop tab: active products of every shop, with category and price filters."""
    params = request.query_params
    category_raw = params.get("category", "")
    category = catalog_domain.find_category(category_raw) if category_raw.isdigit() else None
    min_major, max_major = _decimal(params.get("min")), _decimal(params.get("max"))
    in_stock = params.get("in_stock") == "1"
    filters = catalog.ProductFilters(
        category_id=category.id if category else None,
        min_major=min_major,
        max_major=max_major,
        in_stock=True if in_stock else None,
        search=(params.get("q") or "").strip()[:100] or None,
        open_shops_only=True,
    )
    rows, next_cursor = await catalog.list_products(
        filters, session=session, cursor=params.get("cursor") or None, limit=24
    )
    next_params = {key: value for key, value in params.items() if key != "cursor" and value}
    return render(
        request,
        "catalog/browse.html",
        {
            "products": [product_card(product) for product in rows],
            "categories": browse_categories(),
            "selected_category": category.id if category else None,
            "values": {
                "min": params.get("min", ""),
                "max": params.get("max", ""),
                "q": params.get("q", ""),
                "in_stock": in_stock,
            },
            "next_cursor": next_cursor,
            "next_params": next_params,
            "filtered": bool(category or min_major or max_major or in_stock or filters.search),
        },
        viewer=viewer,
        tab="shop",
    )


@router.get("/shops/new", response_class=HTMLResponse)
async def new_shop_form(request: Request, viewer: SignedInViewer) -> Response:
    """The form to open a shop."""
    return _new_shop_page(request, viewer, {"currency": "USD", "processing_days": "2"}, {})


def _new_shop_page(
    request: Request, viewer: Any, values: dict[str, str], errors: FormErrors, status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "shops/new.html",
        {
            "values": values,
            "errors": errors,
            "countries": shop_domain.countries(),
            "currencies": COMMON_CURRENCIES,
        },
        viewer=viewer,
        status_code=status,
        tab="me",
    )


@router.post("/shops/new", response_class=HTMLResponse)
async def open_shop(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Open the shop and go to its seller center."""
    form = await request.form()
    values = form_values(form, *SHOP_FIELDS)
    errors: FormErrors = {}
    currency = values["currency"].upper() or "USD"
    if shop_domain.currency_problems(currency):
        errors["currency"] = "Choose a currency."
        currency = "USD"
    flat = parse_amount(values["shipping_flat_rate"], currency, "shipping_flat_rate", errors)
    free = parse_amount(
        values["free_shipping_threshold"], currency, "free_shipping_threshold", errors
    )
    days_text = values["processing_days"] or "2"
    if not days_text.isdigit():
        errors["processing_days"] = "Enter a whole number of days."
    if errors:
        return _new_shop_page(request, viewer, values, errors, 422)
    try:
        shop = await shops.open_shop(
            viewer,
            ShopIn(
                handle=values["handle"],
                name=values["name"],
                description=values["description"],
                country=values["country"],
                currency=currency,
                return_policy=values["return_policy"],
                shipping_flat_rate=flat or 0,
                free_shipping_threshold=free,
                processing_days=int(days_text),
            ),
            session=session,
        )
    except ValidationError as error:
        return _new_shop_page(request, viewer, values, errors_from_validation(error), 422)
    except AppError as error:
        problems = errors_from_app_error(error, known_fields=SHOP_FIELDS)
        return _new_shop_page(request, viewer, values, problems, error.status)
    response = see_other(f"/seller/{shop.handle}/products")
    flash(response, f"{shop.name} is open. Add your first product.")
    return response


@router.get("/shop/{handle}", response_class=HTMLResponse)
async def shop_page(handle: str, request: Request, viewer: Viewer, session: DbSession) -> Response:
    """A shop's page: logo, description, policies and its active products."""
    shop = await shops.get_shop_by_handle(handle, session=session)
    is_staff = viewer is not None and await shops.is_shop_staff(viewer.id, shop.id, session=session)
    rows, next_cursor = await catalog.list_products(
        catalog.ProductFilters(shop_id=shop.id, open_shops_only=not is_staff),
        session=session,
        cursor=request.query_params.get("cursor") or None,
        limit=24,
    )
    return render(
        request,
        "shops/shop.html",
        {
            "shop": shop,
            "shop_info": shop_summary(shop),
            "products": [product_card(product) for product in rows],
            "next_cursor": next_cursor,
            "is_staff": is_staff,
        },
        viewer=viewer,
        tab="shop",
    )


@router.get("/p/{product_id}", response_class=HTMLResponse)
async def product_page(
    product_id: str, request: Request, viewer: Viewer, session: DbSession
) -> Response:
    """A product: pictures, variant picker, price, stock, the shop, structured data."""
    try:
        identifier = uuid.UUID(product_id)
    except ValueError as error:
        raise NotFound("There is no such product.", code="product_not_found") from error
    product = await catalog.get_product_for_viewer(viewer, identifier, session=session)
    data = ProductOut.of(product)
    selected = request.query_params.get("variant")
    chosen = next(
        (variant for variant in data.variants if str(variant.id) == selected),
        next((variant for variant in data.variants if variant.stock > 0), data.variants[0]),
    )
    base_url = get_settings().base_url.rstrip("/")
    is_staff = viewer is not None and await shops.is_shop_staff(
        viewer.id, product.shop_id, session=session
    )
    # Where the buyer came from (a video, a share link ?s=, a creator's showcase), carried by
    # the buy form so that the purchase is credited to whoever led to it.
    query = dict(request.query_params)
    query.setdefault("share", query.get("s", ""))
    carried = purchase_source_params(purchase_source(query))
    return render(
        request,
        "catalog/product.html",
        {
            "buy_source": carried,
            "product": data,
            "chosen": chosen,
            "summary": catalog_domain.plain_text(product.description_html, 200),
            "json_ld": product_json_ld(product, data, base_url),
            "canonical": f"{base_url}/p/{product.id}",
            "price_amount": str(Money(chosen.price.amount, product.currency).to_decimal()),
            "og_image": base_url + data.images[0].urls["1200"] if data.images else None,
            "shop": product.shop,
            "shop_info": shop_summary(product.shop),
            "is_staff": is_staff,
            "variant_data": [
                {
                    "id": str(variant.id),
                    "title": variant.title,
                    "price": variant.price.formatted,
                    "compare_at": variant.compare_at_price.formatted
                    if variant.compare_at_price
                    and variant.compare_at_price.amount > variant.price.amount
                    else None,
                    "stock": variant.stock,
                    "stock_state": variant.stock_state,
                    "sku": variant.sku or "",
                }
                for variant in data.variants
            ],
        },
        viewer=viewer,
        tab="shop",
    )


# --- seller center: shop settings, logo and staff -------------------------------------------

SETTINGS_FIELDS = SHOP_FIELDS - {"handle", "currency"}
OWNER_ONLY = frozenset({"owner"})


def _settings_values(shop: Shop) -> dict[str, str]:
    threshold = shop.free_shipping_threshold
    return {
        "name": shop.name,
        "description": shop.description,
        "country": shop.country,
        "return_policy": shop.return_policy,
        "shipping_flat_rate": ""
        if shop.shipping_flat_rate == 0
        else str(Money(shop.shipping_flat_rate, shop.currency).to_decimal()),
        "free_shipping_threshold": ""
        if threshold is None
        else str(Money(threshold, shop.currency).to_decimal()),
        "processing_days": str(shop.processing_days),
    }


async def _settings_page(
    request: Request,
    viewer: Any,
    shop: Shop,
    session: Any,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    role = await shops.staff_role(viewer.id, shop.id, session=session)
    return render(
        request,
        "seller/settings.html",
        {
            "shop": shop,
            "section": "settings",
            "shop_info": shop_summary(shop),
            "values": values or _settings_values(shop),
            "errors": errors or {},
            "countries": shop_domain.countries(),
            "staff": await shops.list_staff(shop, session=session),
            "is_owner": role == "owner",
        },
        viewer=viewer,
        status_code=status,
        tab="me",
    )


@router.get("/seller/{handle}/settings", response_class=HTMLResponse)
async def shop_settings(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """The shop's settings: profile, shipping, returns, logo and staff."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    return await _settings_page(request, viewer, shop, session)


@router.post("/seller/{handle}/settings", response_class=HTMLResponse)
async def save_shop_settings(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Save the shop's settings."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    form = await request.form()
    values = form_values(form, *SETTINGS_FIELDS)
    errors: FormErrors = {}
    flat = parse_amount(values["shipping_flat_rate"], shop.currency, "shipping_flat_rate", errors)
    free = parse_amount(
        values["free_shipping_threshold"], shop.currency, "free_shipping_threshold", errors
    )
    if not values["processing_days"].isdigit():
        errors["processing_days"] = "Enter a whole number of days."
    if errors:
        return await _settings_page(
            request, viewer, shop, session, values=values, errors=errors, status=422
        )
    try:
        await shops.update_shop(
            shop,
            ShopUpdateIn(
                name=values["name"],
                description=values["description"],
                country=values["country"],
                return_policy=values["return_policy"],
                shipping_flat_rate=flat or 0,
                free_shipping_threshold=free,
                clear_free_shipping_threshold=free is None,
                processing_days=int(values["processing_days"]),
            ),
            session=session,
        )
    except AppError as error:
        problems = errors_from_app_error(error, known_fields=SETTINGS_FIELDS)
        return await _settings_page(
            request, viewer, shop, session, values=values, errors=problems, status=error.status
        )
    response = see_other(f"/seller/{shop.handle}/settings")
    flash(response, "Shop settings saved.")
    return response


@router.post("/seller/{handle}/settings/logo", response_class=HTMLResponse)
async def upload_logo(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Replace the shop's logo."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    form = await request.form()
    upload = form.get("logo")
    content = await upload.read(shops.LOGO_MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
    try:
        await shops.set_logo(shop, content, session=session)
    except AppError as error:
        problems = errors_from_app_error(error, known_fields={"logo"})
        if "logo" not in problems:
            problems = {"logo": error.message}
        return await _settings_page(
            request, viewer, shop, session, errors=problems, status=error.status
        )
    response = see_other(f"/seller/{shop.handle}/settings")
    flash(response, "Logo updated.")
    return response


@router.post("/seller/{handle}/staff", response_class=HTMLResponse)
async def add_staff(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Add someone to the staff by their @handle (owner only)."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=OWNER_ONLY)
    form = await request.form()
    values = form_values(form, "user_handle", "role")
    try:
        await shops.add_staff(
            shop, StaffIn(user_handle=values["user_handle"], role=values["role"]), session=session
        )
    except AppError as error:
        problems = errors_from_app_error(error, known_fields={"role"})
        message = problems.get("role") or problems.get("__form__") or error.message
        if isinstance(error, NotFound):
            message = "There is no ClipCart account with that handle."
        return await _settings_page(
            request, viewer, shop, session, errors={"user_handle": message}, status=error.status
        )
    response = see_other(f"/seller/{shop.handle}/settings#staff")
    flash(response, f"@{values['user_handle'].removeprefix('@')} is now on the staff.")
    return response


@router.post("/seller/{handle}/staff/{user_handle}/remove", response_class=HTMLResponse)
async def remove_staff(
    handle: str, user_handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Take someone off the staff (owner only)."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=OWNER_ONLY)
    await shops.remove_staff(shop, user_handle, session=session)
    response = see_other(f"/seller/{shop.handle}/settings#staff")
    flash(response, f"@{user_handle} is no longer on the staff.")
    return response
