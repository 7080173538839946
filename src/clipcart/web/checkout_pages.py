"""Checkout and the address book pages.

The checkout page is rendered with what the buyer already has (addresses, saved cards, the
items) and its script quotes, places and pays through the JSON API (POST /api/v1/checkout/quote,
/api/v1/checkout, /api/v1/checkout/{id}/pay), so the page and the API share every rule. The
address book works without JavaScript: its forms post here and call the same service."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.commerce import address_book
from clipcart.commerce.address_rules import COUNTRY_NAMES, FIELDS
from clipcart.core.errors import AppError
from clipcart.core.routing import DbSession, make_router
from clipcart.payments import service as payments
from clipcart.web.flash import flash
from clipcart.web.forms import (
    FormErrors,
    errors_from_app_error,
    form_values,
    purchase_source,
    see_other,
)
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer

router = make_router(include_in_schema=False)

FIRST_COUNTRIES = ("US", "GB", "DE", "FR", "CN")


def country_choices() -> list[tuple[str, str]]:
    """Countries for the address form: the common ones first, then A to Z."""
    first = [(code, COUNTRY_NAMES[code]) for code in FIRST_COUNTRIES if code in COUNTRY_NAMES]
    rest = sorted(
        ((code, name) for code, name in COUNTRY_NAMES.items() if code not in FIRST_COUNTRIES),
        key=lambda pair: pair[1],
    )
    return first + rest


# --- address book (settings) --------------------------------------------------------------


async def _addresses_page(
    request: Request,
    viewer: User,
    session: AsyncSession,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "commerce/addresses.html",
        {
            "addresses": await address_book.list_addresses(viewer, session=session),
            "values": values or {},
            "errors": errors or {},
            "countries": country_choices(),
        },
        viewer=viewer,
        status_code=status,
        tab="me",
    )


@router.get("/settings/addresses", response_class=HTMLResponse)
async def addresses(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Your saved shipping addresses: list, add, make default, delete."""
    return await _addresses_page(request, viewer, session)


@router.post("/settings/addresses", response_class=HTMLResponse)
async def add_address(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Save a new address (every field's problem shown at once)."""
    form = await request.form()
    values = form_values(form, *FIELDS, "is_default")
    try:
        await address_book.save_address(
            viewer,
            {field: values[field] for field in FIELDS},
            session=session,
            make_default=bool(values["is_default"]),
        )
    except AppError as error:
        errors = errors_from_app_error(error, known_fields=set(FIELDS))
        return await _addresses_page(
            request, viewer, session, values=values, errors=errors, status=error.status
        )
    response = see_other("/settings/addresses")
    flash(response, "Address saved.")
    return response


@router.post("/settings/addresses/{address_id}/default", response_class=HTMLResponse)
async def make_default(
    address_id: uuid.UUID, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Make one of your addresses the default."""
    await address_book.set_default_address(viewer, address_id, session=session)
    response = see_other("/settings/addresses")
    flash(response, "Default address changed.")
    return response


@router.post("/settings/addresses/{address_id}/delete", response_class=HTMLResponse)
async def delete_address(
    address_id: uuid.UUID, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Delete one of your addresses."""
    await address_book.delete_address(viewer, address_id, session=session)
    response = see_other("/settings/addresses")
    flash(response, "Address deleted.")
    return response


# --- checkout ---------------------------------------------------------------------------


def _buy_now_items(request: Request) -> list[dict[str, Any]] | None:
    """The Buy now item from the query (?variant=&quantity=&video=&live=&share=&showcase=), or None
    to check out the cart."""
    raw = request.query_params.get("variant")
    if not raw:
        return None
    try:
        variant_id = uuid.UUID(raw)
    except ValueError:
        return None
    try:
        quantity = max(1, min(99, int(request.query_params.get("quantity") or 1)))
    except ValueError:
        quantity = 1
    item: dict[str, Any] = {"variant_id": str(variant_id), "quantity": quantity}
    source = purchase_source(request.query_params)
    if source:
        item["source"] = source
    return [item]


def _coupon_codes(request: Request) -> list[str]:
    """Coupon codes handed over from the cart page (?coupon=CODE), cleaned."""
    codes = []
    for raw in request.query_params.getlist("coupon")[:5]:
        code = raw.strip().upper()
        if code and len(code) <= 40 and code not in codes:
            codes.append(code)
    return codes


@router.get("/checkout", response_class=HTMLResponse)
async def checkout(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Checkout: ship to, pay with, coupons, one order per shop with its totals, and Pay."""
    items = _buy_now_items(request)
    saved = await address_book.list_addresses(viewer, session=session)
    cards = await payments.list_payment_methods(viewer.id, session=session)
    return render(
        request,
        "commerce/checkout.html",
        {
            "addresses": saved,
            "cards": cards,
            "checkout_data": {"items": items, "coupons": _coupon_codes(request)},
            "buy_now": items is not None,
            "values": {"country": saved[0].country if saved else "US"},
            "errors": {},
            "countries": country_choices(),
        },
        viewer=viewer,
        tab="shop",
    )
