"""Seller center pages: my shops, products (list, new, edit, images), stock, shop settings.

Each page loads the shop through `shops.get_shop_for_staff`, so outsiders get a 404 and staff
whose role is too low a 403, exactly as in the API."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from clipcart.accounts.models import User
from clipcart.catalog import domain as catalog_domain
from clipcart.catalog import service as catalog
from clipcart.catalog.images import IMAGE_MAX_BYTES
from clipcart.catalog.models import Product
from clipcart.catalog.schemas import (
    ProductIn,
    ProductOut,
    ProductUpdateIn,
    product_card,
)
from clipcart.core.errors import AppError, NotFound
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service as shops
from clipcart.shops.domain import CATALOG_ROLES
from clipcart.shops.models import Shop
from clipcart.web import product_form
from clipcart.web.flash import flash
from clipcart.web.forms import (
    FORM_ERROR,
    FormErrors,
    errors_from_app_error,
    errors_from_validation,
    see_other,
)
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer

router = make_router(include_in_schema=False)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.get("/seller", response_class=HTMLResponse)
async def seller_home(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """The seller center's front door: the shops you work for, or how to open one."""
    my_shops = await shops.list_shops_for_user(viewer, session=session)
    return render(request, "seller/index.html", {"shops": my_shops}, viewer=viewer, tab="me")


@router.get("/seller/{handle}/products", response_class=HTMLResponse)
async def product_list(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Every product of the shop, any status, newest first."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session)
    rows, next_cursor = await catalog.list_products(
        catalog.ProductFilters(shop_id=shop.id, statuses=catalog_domain.PRODUCT_STATUSES),
        session=session,
        cursor=request.query_params.get("cursor") or None,
        limit=50,
    )
    return render(
        request,
        "seller/products.html",
        {
            "shop": shop,
            "section": "products",
            "products": [product_card(product) for product in rows],
            "next_cursor": next_cursor,
        },
        viewer=viewer,
        tab="me",
    )


# --- product form -------------------------------------------------------------------------


def _form_page(
    request: Request,
    viewer: User,
    shop: Shop,
    values: dict[str, Any],
    errors: FormErrors,
    *,
    product: Product | None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "seller/product_form.html",
        {
            "shop": shop,
            "section": "products",
            "product": ProductOut.of(product) if product is not None else None,
            "values": values,
            "errors": errors,
            "categories": catalog_domain.listable_categories(),
            "statuses": catalog_domain.PRODUCT_STATUSES,
            "image_limit": catalog_domain.MAX_IMAGES_PER_PRODUCT,
            "image_max_bytes": IMAGE_MAX_BYTES,
        },
        viewer=viewer,
        status_code=status,
        tab="me",
    )


@router.get("/seller/{handle}/products/new", response_class=HTMLResponse)
async def new_product_form(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """The form for a new product."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    return _form_page(request, viewer, shop, product_form.product_values(None), {}, product=None)


@router.post("/seller/{handle}/products/new", response_class=HTMLResponse)
async def create_product(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Create the product, then go on to its pictures."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    form = await request.form()
    values, variants, rows, errors = product_form.parse_product_form(form, shop.currency)
    if errors:
        return _form_page(request, viewer, shop, values, errors, product=None, status=422)
    try:
        product = await catalog.create_product(
            shop,
            ProductIn(
                **product_form.product_fields(values, unknown_status="draft"), variants=variants
            ),
            actor=viewer,
            session=session,
        )
    except ValidationError as error:
        problems = product_form.remap_errors(errors_from_validation(error), rows)
        return _form_page(request, viewer, shop, values, problems, product=None, status=422)
    except AppError as error:
        problems = product_form.remap_errors(
            errors_from_app_error(error, known_fields=product_form.known_fields(values)), rows
        )
        return _form_page(
            request, viewer, shop, values, problems, product=None, status=error.status
        )
    response = see_other(f"/seller/{shop.handle}/products/{product.id}/edit")
    flash(response, f"{product.title} is saved. Add pictures below.")
    return response


async def _staff_product(
    viewer: User, handle: str, product_id: str, session: Any
) -> tuple[Shop, Product]:
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    try:
        identifier = uuid.UUID(product_id)
    except ValueError as error:
        raise NotFound("There is no such product.", code="product_not_found") from error
    product = await catalog.get_product_for_staff(viewer, identifier, session=session)
    if product.shop_id != shop.id:
        raise NotFound("There is no such product.", code="product_not_found")
    return shop, product


@router.get("/seller/{handle}/products/{product_id}/edit", response_class=HTMLResponse)
async def edit_product_form(
    handle: str, product_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """The form to change a product, its variants and pictures."""
    shop, product = await _staff_product(viewer, handle, product_id, session)
    return _form_page(
        request, viewer, shop, product_form.product_values(product), {}, product=product
    )


@router.post("/seller/{handle}/products/{product_id}/edit", response_class=HTMLResponse)
async def update_product(
    handle: str, product_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Save the product; changed stock is recorded as a correction."""
    shop, product = await _staff_product(viewer, handle, product_id, session)
    form = await request.form()
    values, variants, rows, errors = product_form.parse_product_form(form, shop.currency)
    if errors:
        return _form_page(request, viewer, shop, values, errors, product=product, status=422)
    try:
        await catalog.update_product(
            product,
            ProductUpdateIn(
                **product_form.product_fields(values, unknown_status=None), variants=variants
            ),
            actor=viewer,
            session=session,
        )
    except ValidationError as error:
        problems = product_form.remap_errors(errors_from_validation(error), rows)
        return _form_page(request, viewer, shop, values, problems, product=product, status=422)
    except AppError as error:
        problems = product_form.remap_errors(
            errors_from_app_error(error, known_fields=product_form.known_fields(values)), rows
        )
        return _form_page(
            request, viewer, shop, values, problems, product=product, status=error.status
        )
    response = see_other(f"/seller/{shop.handle}/products/{product.id}/edit")
    flash(response, "Product saved.")
    return response


@router.post("/seller/{handle}/products/{product_id}/images", response_class=HTMLResponse)
async def upload_image(
    handle: str, product_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Add a picture to the product."""
    shop, product = await _staff_product(viewer, handle, product_id, session)
    form = await request.form()
    upload = form.get("image")
    content = await upload.read(IMAGE_MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
    try:
        await catalog.add_product_image(product, content, session=session, alt=_text(form, "alt"))
    except AppError as error:
        errors = {"image": error.message}
        listed = error.data.get("errors")
        if isinstance(listed, list) and listed:
            errors = {"image": str(listed[0].get("message", error.message))}
        return _form_page(
            request,
            viewer,
            shop,
            product_form.product_values(product),
            errors | {FORM_ERROR: "The picture was not added: " + errors["image"]},
            product=product,
            status=error.status,
        )
    response = see_other(f"/seller/{shop.handle}/products/{product.id}/edit#images")
    flash(response, "Picture added.")
    return response


@router.post(
    "/seller/{handle}/products/{product_id}/images/{image_id}/delete",
    response_class=HTMLResponse,
)
async def delete_image(
    handle: str,
    product_id: str,
    image_id: uuid.UUID,
    request: Request,
    viewer: SignedInViewer,
    session: DbSession,
) -> Response:
    """Remove a picture from the product."""
    shop, product = await _staff_product(viewer, handle, product_id, session)
    await catalog.remove_product_image(product, image_id, session=session)
    response = see_other(f"/seller/{shop.handle}/products/{product.id}/edit#images")
    flash(response, "Picture removed.")
    return response


# --- stock --------------------------------------------------------------------------------


async def _stock_page(
    request: Request,
    viewer: User,
    shop: Shop,
    session: Any,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    products, _ = await catalog.list_products(
        catalog.ProductFilters(shop_id=shop.id, statuses=catalog_domain.PRODUCT_STATUSES),
        session=session,
        limit=100,
    )
    variants = {
        variant.id: (product, variant) for product in products for variant in product.variants
    }
    movements, next_cursor = await catalog.list_stock_movements(
        shop, session=session, cursor=request.query_params.get("cursor") or None, limit=30
    )
    return render(
        request,
        "seller/stock.html",
        {
            "shop": shop,
            "section": "stock",
            "rows": list(variants.values()),
            "movements": [
                (movement, variants.get(movement.variant_id) if movement.variant_id else None)
                for movement in movements
            ],
            "next_cursor": next_cursor,
            "reasons": [reason for reason in catalog_domain.STOCK_REASONS if reason != "initial"],
            "values": values or {},
            "errors": errors or {},
        },
        viewer=viewer,
        status_code=status,
        tab="me",
    )


@router.get("/seller/{handle}/stock", response_class=HTMLResponse)
async def stock(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Stock per variant and the movement log; adjust with a reason."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session)
    return await _stock_page(request, viewer, shop, session)


@router.post("/seller/{handle}/stock", response_class=HTMLResponse)
async def change_stock(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Add or remove units of one variant, with a reason and a note."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    form = await request.form()
    values = {name: _text(form, name) for name in ("variant_id", "delta", "reason", "note")}
    errors: FormErrors = {}
    try:
        delta = int(values["delta"])
    except ValueError:
        delta = 0
    if delta == 0:
        errors["delta"] = "Enter how many units to add (like 5) or remove (like -2)."
    try:
        variant_id = uuid.UUID(values["variant_id"])
    except ValueError:
        variant_id = None
        errors["variant_id"] = "Choose a product variant."
    if values["reason"] not in catalog_domain.STOCK_REASONS:
        errors["reason"] = "Choose a reason."
    if errors or variant_id is None:
        return await _stock_page(
            request, viewer, shop, session, values=values, errors=errors, status=422
        )
    try:
        variant = await catalog.get_variant_for_shop(shop, variant_id, session=session)
        await catalog.adjust_stock(
            variant,
            delta,
            reason=values["reason"],
            actor_id=viewer.id,
            session=session,
            note=values["note"],
        )
    except AppError as error:
        problems = errors_from_app_error(error, known_fields={"variant_id", "delta", "reason"})
        if error.code == "insufficient_stock":
            problems = {"delta": "There are not that many units in stock."}
        return await _stock_page(
            request, viewer, shop, session, values=values, errors=problems, status=error.status
        )
    response = see_other(f"/seller/{shop.handle}/stock")
    flash(response, f"Stock updated: {delta:+d} ({values['reason']}).")
    return response
