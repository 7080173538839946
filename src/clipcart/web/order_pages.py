"""The buyer's orders: the list (/orders), one order (/orders/{id}) with its lines, totals,
ship-to, tracking and timeline, and the buyer's actions: cancel (before shipping), confirm
delivery (shipped), request a return (delivered, inside the window). Forms post here and call
the same commerce services as the API; money moves after the commit (refunds)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from clipcart.accounts.models import User
from clipcart.commerce import buyables, cancelling, domain, fulfilment, orders, returns
from clipcart.commerce.models import Order
from clipcart.core import clock, events
from clipcart.core.errors import AppError, NotFound
from clipcart.core.money import Money
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service as shops
from clipcart.web.flash import flash
from clipcart.web.forms import FORM_ERROR, FormErrors, errors_from_app_error, see_other
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer

router = make_router(include_in_schema=False)

STATUS_FILTERS = (
    ("", "All"),
    (domain.PENDING_PAYMENT, "Awaiting payment"),
    (domain.PAID, "Paid"),
    (domain.SHIPPED, "Shipped"),
    (domain.DELIVERED, "Delivered"),
    (domain.COMPLETED, "Completed"),
    (domain.CANCELLED, "Cancelled"),
    (domain.REFUNDED, "Refunded"),
)
RETURN_LABELS = {
    "requested": "Return requested",
    "approved": "Return approved",
    "rejected": "Return refused",
    "returned": "Items received",
    "refunded": "Refunded",
}


def money(amount: int, currency: str) -> str:
    """An amount as people read it, in the order's currency."""
    return Money(amount, currency).format()


def event_title(from_status: str | None, to_status: str) -> str:
    """How the timeline names a step."""
    if from_status is None:
        return "Order placed"
    return domain.buyer_label(to_status)


def _order_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as error:
        raise NotFound("There is no such order.", code="order_not_found") from error


async def order_context(order: Order, *, session: AsyncSession) -> dict[str, Any]:
    """Everything the buyer's and the seller's order pages show."""
    lines = await orders.list_order_lines(order.id, session=session)
    timeline = await orders.list_order_events(order.id, session=session)
    shop = await shops.get_shop(order.shop_id, session=session)
    order_returns = await returns.list_order_returns(order.id, session=session)
    return_lines = await returns.return_lines([item.id for item in order_returns], session=session)
    titles = {line.id: line.title for line in lines}
    deadline = fulfilment.return_deadline(order)
    returned: dict[uuid.UUID, int] = {}
    for request in order_returns:
        if request.status == "rejected":
            continue
        for item in return_lines[request.id]:
            returned[item.order_line_id] = returned.get(item.order_line_id, 0) + item.quantity
    product_ids = {line.product_id for line in lines if line.product_id is not None}
    return {
        "order": order,
        "shop": shop,
        "lines": lines,
        "images": await buyables.first_images(product_ids, session=session),
        "timeline": [
            {"title": event_title(event.from_status, event.to_status), "event": event}
            for event in timeline
        ],
        "returns": [
            {
                "request": request,
                "label": RETURN_LABELS.get(request.status, request.status),
                "lines": [
                    (titles.get(item.order_line_id, "Item"), item.quantity)
                    for item in return_lines[request.id]
                ],
                "photos": [returns.photo_url(request.id, key, 320) for key in request.photo_keys],
                "shipping": returns.beyond_lines_part(request, return_lines[request.id]),
            }
            for request in order_returns
        ],
        "returnable": {line.id: line.quantity - returned.get(line.id, 0) for line in lines},
        "return_deadline": deadline,
        "can_return": order.status == domain.DELIVERED
        and deadline is not None
        and clock.now() < deadline
        and any(line.quantity - returned.get(line.id, 0) > 0 for line in lines),
        "status_label": domain.buyer_label(order.status),
        "carrier": fulfilment.carrier_name(order.carrier) if order.carrier else "",
        "money": lambda amount: money(amount, order.currency),
    }


@router.get("/orders", response_class=HTMLResponse)
async def order_list(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Your orders, newest first, with a status chip; filter by status."""
    status = request.query_params.get("status") or None
    if status not in domain.ORDER_STATUSES:
        status = None
    rows, next_cursor = await orders.list_orders_for_buyer(
        viewer.id,
        session=session,
        cursor=request.query_params.get("cursor") or None,
        limit=20,
        status=status,
    )
    shop_names = {
        shop_id: shop.name
        for shop_id, shop in (
            await shops.shops_by_ids({row.shop_id for row in rows}, session=session)
        ).items()
    }
    lines = await orders.lines_by_order([row.id for row in rows], session=session)
    return render(
        request,
        "commerce/orders.html",
        {
            "orders": [
                {
                    "order": row,
                    "shop_name": shop_names.get(row.shop_id, ""),
                    "label": domain.buyer_label(row.status),
                    "total": money(row.total, row.currency),
                    "first_item": lines[row.id][0].title if lines[row.id] else "",
                    "first_quantity": lines[row.id][0].quantity if lines[row.id] else 0,
                    "count": len(lines[row.id]),
                }
                for row in rows
            ],
            "next_cursor": next_cursor,
            "status": status or "",
            "filters": STATUS_FILTERS,
        },
        viewer=viewer,
        tab="me",
    )


async def _order_page(
    request: Request,
    viewer: User,
    order: Order,
    session: AsyncSession,
    *,
    template: str = "commerce/order.html",
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = await order_context(order, session=session)
    context.update(
        {
            "errors": errors or {},
            "values": values or {},
            "is_buyer": order.buyer_id == viewer.id,
            "reasons": returns.REASONS,
            "photos_max": returns.PHOTOS_MAX,
        }
    )
    return render(request, template, context, viewer=viewer, status_code=status, tab="me")


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_detail(
    order_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """One order: lines, totals, ship-to, tracking, timeline and what you can do next."""
    order = await orders.get_order_for(viewer, _order_id(order_id), session=session)
    return await _order_page(request, viewer, order, session)


@router.post("/orders/{order_id}/cancel", response_class=HTMLResponse)
async def cancel(
    order_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Cancel your order before it ships; a paid order is refunded in full after commit."""
    form = await request.form()
    order = await fulfilment.get_own_order(viewer, _order_id(order_id), session=session, lock=True)
    reason_raw = form.get("reason")
    try:
        reason = cancelling.clean_reason(
            reason_raw if isinstance(reason_raw, str) else "", required=False
        )
        cancellation = await cancelling.cancel_order(
            order, actor=viewer, reason=reason or "Cancelled by the buyer", session=session
        )
    except AppError as error:
        errors = errors_from_app_error(error, known_fields={"reason"})
        return await _order_page(
            request, viewer, order, session, errors=errors, status=error.status
        )

    async def finish() -> None:
        await cancelling.finish_cancellation(cancellation)

    events.after_commit(session, finish)
    response = see_other(f"/orders/{order.id}")
    flash(
        response,
        "Order cancelled. Your money is on its way back to your card."
        if cancellation.refund_due
        else "Order cancelled.",
    )
    return response


@router.post("/orders/{order_id}/confirm-delivery", response_class=HTMLResponse)
async def confirm_delivery(
    order_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Say the parcel arrived."""
    order = await fulfilment.get_own_order(viewer, _order_id(order_id), session=session, lock=True)
    try:
        await fulfilment.confirm_delivery(order, actor=viewer, session=session)
    except AppError as error:
        return await _order_page(
            request, viewer, order, session, errors={FORM_ERROR: error.message}, status=error.status
        )
    response = see_other(f"/orders/{order.id}")
    flash(response, "Thanks! The order is marked delivered.")
    return response


@router.get("/orders/{order_id}/return", response_class=HTMLResponse)
async def return_form(
    order_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """The return request form: which items, how many, why, photos."""
    order = await fulfilment.get_own_order(viewer, _order_id(order_id), session=session)
    return await _order_page(request, viewer, order, session, template="commerce/return_form.html")


@router.post("/orders/{order_id}/return", response_class=HTMLResponse)
async def request_return(
    order_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Ask to send (part of) a delivered order back."""
    order = await fulfilment.get_own_order(viewer, _order_id(order_id), session=session, lock=True)
    form = await request.form()
    lines = await orders.list_order_lines(order.id, session=session)
    wanted: list[returns.ReturnLineIn] = []
    values: dict[str, Any] = {}
    errors: FormErrors = {}
    for line in lines:
        raw = form.get(f"qty-{line.id}")
        text = raw.strip() if isinstance(raw, str) else ""
        values[f"qty-{line.id}"] = text
        if not text or text == "0":
            continue
        if not text.isdigit():
            errors[f"qty-{line.id}"] = "Choose how many to send back."
            continue
        wanted.append(returns.ReturnLineIn(order_line_id=line.id, quantity=int(text)))
    reason = form.get("reason")
    details = form.get("details")
    values["reason"] = reason if isinstance(reason, str) else ""
    values["details"] = details if isinstance(details, str) else ""
    if not wanted and not errors:
        errors[FORM_ERROR] = "Choose at least one item to send back."
    photos: list[bytes] = []
    for upload in form.getlist("photos"):
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read(returns.PHOTO_MAX_BYTES + 1)
            if content:
                photos.append(content)
    if errors:
        return await _order_page(
            request,
            viewer,
            order,
            session,
            template="commerce/return_form.html",
            errors=errors,
            values=values,
            status=422,
        )
    try:
        await returns.request_return(
            order,
            buyer=viewer,
            lines_in=wanted,
            reason=values["reason"],
            details=values["details"],
            photos=photos,
            session=session,
        )
    except AppError as error:
        known = {"reason", "details", "photos", "lines"} | set(values)
        return await _order_page(
            request,
            viewer,
            order,
            session,
            template="commerce/return_form.html",
            errors=errors_from_app_error(error, known_fields=known),
            values=values,
            status=error.status,
        )
    response = see_other(f"/orders/{order.id}")
    flash(response, "Return requested. The shop answers within 48 hours.")
    return response
