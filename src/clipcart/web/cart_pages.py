"""The cart page (/cart) and its no-JavaScript forms: add (the product page's form), change
quantity, save for later / move back, remove. They call the same commerce.cart service as
the JSON API, for signed-in buyers and for visitors (their cart is keyed by the visitor
cookie and merged into the buyer's cart at log-in)."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.catalog import service as catalog
from clipcart.commerce import cart as carts
from clipcart.commerce import flash_deals
from clipcart.core.errors import AppError, NotFound
from clipcart.core.routing import DbSession, make_router
from clipcart.recs.router import VISITOR_COOKIE, VISITOR_COOKIE_MAX_AGE
from clipcart.web.flash import flash
from clipcart.web.forms import purchase_source, purchase_source_params, see_other
from clipcart.web.templating import render
from clipcart.web.viewer import Viewer

router = make_router(include_in_schema=False)

MAX_FORM_QUANTITY = 99


async def _owner(
    request: Request, viewer: Viewer, session: AsyncSession
) -> tuple[carts.CartOwner, uuid.UUID | None]:
    """Whose cart this browser sees, and a new visitor id to set as a cookie (or None).
    A signed-in buyer's visitor cart (from before logging in) is merged first."""
    try:
        visitor_id: uuid.UUID | None = uuid.UUID(request.cookies.get(VISITOR_COOKIE, ""))
    except ValueError:
        visitor_id = None
    if viewer is not None:
        if visitor_id is not None:
            await carts.merge_visitor_cart(viewer.id, visitor_id, session=session)
        return carts.CartOwner(user_id=viewer.id), None
    if visitor_id is None:
        fresh = uuid.uuid4()
        return carts.CartOwner(visitor_id=fresh), fresh
    return carts.CartOwner(visitor_id=visitor_id), None


def _remember_visitor(request: Request, response: Response, visitor_id: uuid.UUID | None) -> None:
    if visitor_id is not None:
        response.set_cookie(
            VISITOR_COOKIE,
            str(visitor_id),
            max_age=VISITOR_COOKIE_MAX_AGE,
            path="/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",
        )


def _quantity(raw: object, default: int = 1) -> int | None:
    try:
        value = int(str(raw).strip()) if raw not in (None, "") else default
    except ValueError:
        return None
    return value if 1 <= value <= MAX_FORM_QUANTITY else None


@router.get("/cart", response_class=HTMLResponse)
async def cart_page(request: Request, viewer: Viewer, session: DbSession) -> Response:
    """The cart: one group per shop, steppers, save for later, totals, Checkout."""
    owner, fresh = await _owner(request, viewer, session)
    described = (
        await carts.describe_cart(owner, session=session)
        if fresh is None
        else None  # a brand-new visitor has no cart yet
    )
    response = render(request, "commerce/cart.html", {"cart": described}, viewer=viewer, tab="shop")
    return response


@router.post("/cart/items", response_class=HTMLResponse)
async def add_to_cart(request: Request, viewer: Viewer, session: DbSession) -> Response:
    """The product page's form: Add to cart (then the cart) or Buy now (then checkout)."""
    form = await request.form()
    quantity = _quantity(form.get("quantity"))
    try:
        variant_id = uuid.UUID(str(form.get("variant") or ""))
    except ValueError:
        response = see_other("/cart")
        flash(response, "Choose a product option first.", kind="error")
        return response
    if quantity is None:
        response = see_other("/cart")
        flash(response, f"Choose a quantity from 1 to {MAX_FORM_QUANTITY}.", kind="error")
        return response
    source = purchase_source(form)  # the video, share link or showcase the page came from
    if form.get("action") == "buy":
        carried = purchase_source_params(source)
        query = {"variant": str(variant_id), "quantity": str(quantity), **carried}
        return see_other("/checkout?" + urlencode(query))
    owner, fresh = await _owner(request, viewer, session)
    try:
        await carts.add_item(owner, variant_id, quantity, source=source or None, session=session)
    except AppError as error:
        response = see_other("/cart")
        flash(response, _message(error), kind="error")
        return response
    response = see_other("/cart")
    flash(response, "Added to your cart.")
    _remember_visitor(request, response, fresh)
    return response


def _message(error: AppError) -> str:
    listed = error.data.get("errors")
    if isinstance(listed, list) and listed:
        return "; ".join(str(item.get("message", "")) for item in listed if isinstance(item, dict))
    return error.message


@router.post("/cart/items/{item_id}", response_class=HTMLResponse)
async def change_item(
    item_id: uuid.UUID, request: Request, viewer: Viewer, session: DbSession
) -> Response:
    """Change a line: a new quantity (the steppers), save for later or move back."""
    form = await request.form()
    owner, _ = await _owner(request, viewer, session)
    quantity = _quantity(form.get("quantity"), default=0) if form.get("quantity") else None
    saved_raw = form.get("saved_for_later")
    saved = None if saved_raw in (None, "") else saved_raw == "1"
    if form.get("quantity") and quantity is None:
        response = see_other("/cart")
        flash(response, f"Choose a quantity from 1 to {MAX_FORM_QUANTITY}.", kind="error")
        return response
    try:
        await carts.update_item(
            owner, item_id, quantity=quantity, saved_for_later=saved, session=session
        )
    except AppError as error:
        response = see_other("/cart")
        flash(response, _message(error), kind="error")
        return response
    response = see_other("/cart")
    if saved is True:
        flash(response, "Saved for later.")
    elif saved is False:
        flash(response, "Moved to your cart.")
    return response


@router.post("/cart/items/{item_id}/remove", response_class=HTMLResponse)
async def remove_item(
    item_id: uuid.UUID, request: Request, viewer: Viewer, session: DbSession
) -> Response:
    """Take a line out of the cart."""
    owner, _ = await _owner(request, viewer, session)
    await carts.remove_item(owner, item_id, session=session)
    response = see_other("/cart")
    flash(response, "Removed from your cart.")
    return response


@router.get("/p/{product_id}/deals")
async def product_deals(product_id: str, viewer: Viewer, session: DbSession) -> JSONResponse:
    """The live flash deal of each variant of a product (for the sheet and the product page:
    one answer, never a 404 per variant without a deal)."""
    try:
        identifier = uuid.UUID(product_id)
    except ValueError as error:
        raise NotFound("There is no such product.", code="product_not_found") from error
    product = await catalog.get_product_for_viewer(viewer, identifier, session=session)
    deals = await flash_deals.active_deals_for_variants(
        [variant.id for variant in product.variants], session=session
    )
    return JSONResponse(
        {"deals": {str(key): flash_deals.deal_view(deal) for key, deal in deals.items()}},
        headers={"Cache-Control": "no-store"},
    )
