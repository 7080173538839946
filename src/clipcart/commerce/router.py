"""Cart, checkout and buyer order API under /api/v1. Placing and paying take an
Idempotency-Key; paying commits before the provider is called (see payment.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

import clipcart.commerce.payment_tasks  # noqa: F401  (registers the payments listener)
from clipcart.accounts.dependencies import CurrentUser, OptionalUser
from clipcart.commerce import cart, checkout, orders, payment
from clipcart.commerce.schemas import (
    CartItemIn,
    CartItemUpdateIn,
    CartOut,
    CheckoutIn,
    CheckoutOut,
    OrderOut,
    OrderPageOut,
    PayIn,
    PayOut,
    QuoteIn,
    QuoteOut,
)
from clipcart.core import idempotency
from clipcart.core.routing import DbSession, make_router
from clipcart.recs.router import VISITOR_COOKIE, VISITOR_COOKIE_MAX_AGE

router = make_router(prefix="/api/v1", tags=["commerce"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def _cookie_visitor(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.cookies.get(VISITOR_COOKIE, ""))
    except ValueError:
        return None


async def cart_owner(
    request: Request, response: Response, user: OptionalUser, session: AsyncSession
) -> cart.CartOwner:
    """Whose cart this request works on; a signed-in buyer's visitor cart is merged first,
    and a visitor without the cookie gets one."""
    visitor_id = _cookie_visitor(request)
    if user is not None:
        if visitor_id is not None:
            await cart.merge_visitor_cart(user.id, visitor_id, session=session)
        return cart.CartOwner(user_id=user.id)
    if visitor_id is None:
        visitor_id = uuid.uuid4()
        response.set_cookie(
            VISITOR_COOKIE,
            str(visitor_id),
            max_age=VISITOR_COOKIE_MAX_AGE,
            path="/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",
        )
    return cart.CartOwner(visitor_id=visitor_id)


@router.get("/cart")
async def get_cart(
    request: Request, response: Response, user: OptionalUser, db: DbSession
) -> CartOut:
    """The cart grouped by shop, with saved-for-later items (visitors too)."""
    owner = await cart_owner(request, response, user, db)
    return await cart.describe_cart(owner, session=db)


@router.post("/cart/items", status_code=status.HTTP_201_CREATED)
async def add_cart_item(
    data: CartItemIn, request: Request, response: Response, user: OptionalUser, db: DbSession
) -> CartOut:
    """Add a variant (to its line if there is one); 422 on quantity past stock or limit."""
    owner = await cart_owner(request, response, user, db)
    await cart.add_item(
        owner,
        data.variant_id,
        data.quantity,
        source=data.source.as_dict() if data.source else None,
        session=db,
    )
    return await cart.describe_cart(owner, session=db)


@router.patch("/cart/items/{item_id}")
async def update_cart_item(
    item_id: uuid.UUID,
    data: CartItemUpdateIn,
    request: Request,
    response: Response,
    user: OptionalUser,
    db: DbSession,
) -> CartOut:
    """Change a quantity, or save for later / move back to the cart."""
    owner = await cart_owner(request, response, user, db)
    await cart.update_item(
        owner,
        item_id,
        quantity=data.quantity,
        saved_for_later=data.saved_for_later,
        session=db,
    )
    return await cart.describe_cart(owner, session=db)


@router.delete("/cart/items/{item_id}")
async def delete_cart_item(
    item_id: uuid.UUID, request: Request, response: Response, user: OptionalUser, db: DbSession
) -> CartOut:
    """Take an item out of the cart."""
    owner = await cart_owner(request, response, user, db)
    await cart.remove_item(owner, item_id, session=db)
    return await cart.describe_cart(owner, session=db)


@router.post("/checkout/quote")
async def quote(data: QuoteIn, user: CurrentUser, db: DbSession) -> QuoteOut:
    """Per-shop totals (shipping, discounts, tax), the grand total, and what is missing."""
    return await checkout.quote_checkout(user, data, session=db)


@router.post("/checkout", status_code=status.HTTP_201_CREATED, response_model=CheckoutOut)
async def place(
    data: CheckoutIn,
    request: Request,
    user: CurrentUser,
    db: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Place one order per shop, stock reserved (Idempotency-Key required). 409
    prices_changed (the new quote in `quote`) or sold_out; nothing is kept on an error."""
    key = idempotency.check_key(idempotency_key)
    await checkout.refuse_sold_out(user.id, key, data, session=db)

    async def work() -> CheckoutOut:
        return await checkout.place_checkout(user, data, session=db)

    return await idempotency.run_idempotent(
        owner_id=user.id,
        key=key,
        request_hash=idempotency.fingerprint("POST", request.url.path, data),
        status_code=status.HTTP_201_CREATED,
        work=work,
        session=db,
    )


@router.post("/checkout/{checkout_id}/pay", response_model=PayOut)
async def pay(
    checkout_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    db: DbSession,
    data: PayIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Pay the checkout's pending orders (Idempotency-Key required): each order's status
    and, when the payment did not go through, why or what to do next."""
    key = idempotency.check_key(idempotency_key)
    body = data or PayIn()

    async def work() -> PayOut:
        return await payment.pay_checkout(
            user, checkout_id, payment_method=body.payment_method, session=db
        )

    return await idempotency.run_idempotent(
        owner_id=user.id,
        key=key,
        request_hash=idempotency.fingerprint("POST", request.url.path, body),
        status_code=status.HTTP_200_OK,
        work=work,
        session=db,
    )


@router.get("/orders")
async def list_orders(
    user: CurrentUser,
    db: DbSession,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> OrderPageOut:
    """The buyer's orders, newest first."""
    rows, next_cursor = await orders.list_orders_for_buyer(
        user.id, session=db, cursor=cursor, limit=limit
    )
    return OrderPageOut(
        items=await orders.describe_orders(rows, session=db), next_cursor=next_cursor
    )


@router.get("/orders/{order_id}")
async def get_order(order_id: uuid.UUID, user: CurrentUser, db: DbSession) -> OrderOut:
    """One order: lines, totals, ship-to, status, timeline, payment and tracking."""
    order = await orders.get_order_for(user, order_id, session=db)
    return await orders.describe_order(order, session=db)
