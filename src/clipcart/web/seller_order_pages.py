"""Seller center commerce pages: orders (filters, search, pages, bulk Mark shipped, CSV
export), one order (ship, cancel with a reason), returns (approve, reject, received), flash
deals and coupons. Shops are loaded through shops.get_shop_for_staff and orders through
fulfilment.get_shop_order, so other shops' orders are a 404 here as in the API."""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.commerce import (
    cancelling,
    domain,
    exporting,
    fulfilment,
    orders,
    returns,
)
from clipcart.core import events
from clipcart.core.errors import AppError, NotFound
from clipcart.core.money import Money
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service as shops
from clipcart.shops.models import Shop
from clipcart.web.flash import flash
from clipcart.web.forms import (
    FormErrors,
    errors_from_app_error,
    form_values,
    see_other,
)
from clipcart.web.order_pages import STATUS_FILTERS, order_context
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer

log = logging.getLogger(__name__)
router = make_router(include_in_schema=False)

PAGE_SIZE = 25


def _uuid(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as error:
        raise NotFound(f"There is no such {what}.", code=f"{what}_not_found") from error


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _day_range(request: Request) -> tuple[tuple[date | None, date | None], dict[str, str]]:
    """The `from` and `to` days of the filter form; a day that cannot be read, or a range that
    ends before it starts, is left out with a message for its field."""
    days: list[date | None] = []
    errors: dict[str, str] = {}
    for name in ("from", "to"):
        raw = (request.query_params.get(name) or "").strip()
        try:
            days.append(date.fromisoformat(raw) if raw else None)
        except ValueError:
            days.append(None)
            errors[name] = "Use a date like 2026-11-24."
    first, last = days
    if first and last and first > last:
        errors["to"] = "The last day is before the first day."
        first = last = None
    return (first, last), errors


async def _shop(viewer: User, handle: str, session: AsyncSession) -> Shop:
    return await shops.get_shop_for_staff(
        viewer, handle, session=session, roles=fulfilment.FULFILMENT_ROLES
    )


# --- orders ----------------------------------------------------------------------------


@router.get("/seller/{handle}/orders", response_class=HTMLResponse)
async def order_list(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Incoming orders: filter by status, search by number or buyer, ship in bulk."""
    shop = await _shop(viewer, handle, session)
    status = request.query_params.get("status") or None
    if status not in domain.ORDER_STATUSES:
        status = None
    search = (request.query_params.get("q") or "").strip()[:60]
    days, errors = _day_range(request)
    filters = exporting.ShopOrderFilters.for_days(
        shop.id, status=status, search=search, first_day=days[0], last_day=days[1]
    )
    rows, next_cursor = await exporting.list_shop_orders(
        filters,
        session=session,
        cursor=request.query_params.get("cursor") or None,
        limit=PAGE_SIZE,
    )
    picked = (("status", status), ("q", search), ("from", days[0]), ("to", days[1]))
    query = {key: str(value) for key, value in picked if value}
    return render(
        request,
        "seller/orders.html",
        {
            "shop": shop,
            "section": "orders",
            "rows": [
                {
                    "order": order,
                    "buyer": buyer,
                    "label": domain.buyer_label(order.status),
                    "total": Money(order.total, order.currency).format(),
                    "city": str((order.ship_to or {}).get("city", "")),
                }
                for order, buyer in rows
            ],
            "next_cursor": next_cursor,
            "status": status or "",
            "search": search,
            "first_day": request.query_params.get("from", "")[:10] if errors else days[0] or "",
            "last_day": request.query_params.get("to", "")[:10] if errors else days[1] or "",
            "errors": errors,
            "filters": STATUS_FILTERS,
            "carriers": fulfilment.CARRIERS,
            "query": urlencode(query),
            "csv_url": f"/api/v1/shops/{shop.handle}/orders.csv"
            + (f"?{urlencode(query)}" if query else ""),
        },
        viewer=viewer,
        tab="me",
    )


@router.post("/seller/{handle}/orders/ship", response_class=HTMLResponse)
async def ship_many(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Mark the ticked orders shipped, each with its own carrier and tracking number."""
    shop = await _shop(viewer, handle, session)
    form = await request.form()
    shipments: list[tuple[uuid.UUID, str, str]] = []
    for raw in form.getlist("order_id")[: fulfilment.BULK_SHIP_MAX]:
        try:
            order_id = uuid.UUID(str(raw))
        except ValueError:
            continue
        shipments.append(
            (order_id, _text(form, f"carrier-{order_id}"), _text(form, f"tracking-{order_id}"))
        )
    back = see_other(f"/seller/{shop.handle}/orders?{_text(form, 'back')}")
    if not shipments:
        flash(back, "Tick the orders to mark shipped.", kind="error")
        return back
    results = await fulfilment.ship_orders(viewer, shop.handle, shipments, session=session)
    shipped = sum(1 for result in results if result.ok)
    failed = [result for result in results if not result.ok]
    if failed:
        numbers = await _numbers([result.order_id for result in failed], session)
        detail = " ".join(
            f"{numbers.get(result.order_id, 'An order')}: {result.message}" for result in failed
        )
        flash(back, f"{shipped} shipped, {len(failed)} not. {detail}", kind="error")
    else:
        flash(back, f"{shipped} {'order' if shipped == 1 else 'orders'} marked shipped.")
    return back


async def _numbers(order_ids: list[uuid.UUID], session: AsyncSession) -> dict[uuid.UUID, str]:
    found: dict[uuid.UUID, str] = {}
    for order_id in order_ids:
        try:
            found[order_id] = (await orders.get_order(order_id, session=session)).number
        except AppError:
            continue
    return found


async def _order_page(
    request: Request,
    viewer: User,
    shop: Shop,
    order_id: uuid.UUID,
    session: AsyncSession,
    *,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    order = await fulfilment.get_shop_order(viewer, shop.handle, order_id, session=session)
    context = await order_context(order, session=session)
    context.update(
        {
            "section": "orders",
            "errors": errors or {},
            "values": values or {},
            "carriers": fulfilment.CARRIERS,
        }
    )
    return render(
        request, "seller/order.html", context, viewer=viewer, status_code=status, tab="me"
    )


@router.get("/seller/{handle}/orders/{order_id}", response_class=HTMLResponse)
async def order_detail(
    handle: str, order_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """One order of the shop: what to pack, where to send it, ship or cancel."""
    shop = await _shop(viewer, handle, session)
    return await _order_page(request, viewer, shop, _uuid(order_id, "order"), session)


@router.post("/seller/{handle}/orders/{order_id}/ship", response_class=HTMLResponse)
async def ship_one(
    handle: str, order_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Mark the order shipped with its carrier and tracking number."""
    shop = await _shop(viewer, handle, session)
    form = await request.form()
    values = form_values(form, "carrier", "tracking_number")
    identifier = _uuid(order_id, "order")
    order = await fulfilment.get_shop_order(
        viewer, shop.handle, identifier, session=session, lock=True
    )
    try:
        await fulfilment.ship_order(
            order,
            carrier=values["carrier"],
            tracking_number=values["tracking_number"],
            actor=viewer,
            session=session,
        )
    except AppError as error:
        errors = errors_from_app_error(error, known_fields={"carrier", "tracking_number"})
        return await _order_page(
            request,
            viewer,
            shop,
            identifier,
            session,
            errors=errors,
            values=values,
            status=error.status,
        )
    response = see_other(f"/seller/{shop.handle}/orders/{order.id}")
    flash(response, f"Order {order.number} is marked shipped.")
    return response


@router.post("/seller/{handle}/orders/{order_id}/cancel", response_class=HTMLResponse)
async def cancel_one(
    handle: str, order_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Cancel the order with a reason for the buyer; a paid order is refunded in full."""
    shop = await _shop(viewer, handle, session)
    form = await request.form()
    values = form_values(form, "reason")
    identifier = _uuid(order_id, "order")
    order = await fulfilment.get_shop_order(
        viewer, shop.handle, identifier, session=session, lock=True
    )
    try:
        reason = cancelling.clean_reason(values["reason"], required=True)
        cancellation = await cancelling.cancel_order(
            order, actor=viewer, reason=reason, session=session
        )
    except AppError as error:
        return await _order_page(
            request,
            viewer,
            shop,
            identifier,
            session,
            errors=errors_from_app_error(error, known_fields={"reason"}),
            values=values,
            status=error.status,
        )

    async def finish() -> None:
        await cancelling.finish_cancellation(cancellation)

    events.after_commit(session, finish)
    response = see_other(f"/seller/{shop.handle}/orders/{order.id}")
    flash(response, f"Order {order.number} is cancelled; the buyer is told why.")
    return response


# --- returns ---------------------------------------------------------------------------


@router.get("/seller/{handle}/returns", response_class=HTMLResponse)
async def return_list(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Returns to decide (approve, reject with a note) and to receive (refunds the buyer)."""
    shop = await _shop(viewer, handle, session)
    status = request.query_params.get("status") or None
    if status not in returns.RETURN_STATUSES:
        status = None
    rows, next_cursor = await returns.list_shop_returns(
        shop,
        session=session,
        status=status,
        cursor=request.query_params.get("cursor") or None,
        limit=PAGE_SIZE,
    )
    # A constant number of queries whatever the page size: lines, orders and titles in bulk.
    lines = await returns.return_lines([row.id for row in rows], session=session)
    orders_by_id = await orders.orders_by_ids({row.order_id for row in rows}, session=session)
    order_lines = await orders.lines_by_order(list(orders_by_id), session=session)
    titles = {line.id: line.title for group in order_lines.values() for line in group}
    items = []
    for row in rows:
        order = orders_by_id[row.order_id]
        items.append(
            {
                "request": row,
                "order": order,
                "amount": Money(row.amount, order.currency).format(),
                "reason": returns.REASONS.get(row.reason, row.reason),
                "lines": [
                    (titles.get(item.order_line_id, "Item"), item.quantity)
                    for item in lines[row.id]
                ],
                "photos": [returns.photo_url(row.id, key, 320) for key in row.photo_keys],
                "shipping": (
                    Money(shipping, order.currency).format()
                    if (shipping := returns.beyond_lines_part(row, lines[row.id]))
                    else ""
                ),
            }
        )
    return render(
        request,
        "seller/returns.html",
        {
            "shop": shop,
            "section": "returns",
            "items": items,
            "status": status or "",
            "statuses": returns.RETURN_STATUSES,
            "next_cursor": next_cursor,
        },
        viewer=viewer,
        tab="me",
    )


@router.post("/seller/{handle}/returns/{return_id}/{action}", response_class=HTMLResponse)
async def decide_return(
    handle: str,
    return_id: str,
    action: str,
    request: Request,
    viewer: SignedInViewer,
    session: DbSession,
) -> Response:
    """approve, reject (with a note for the buyer) or received (refund after commit)."""
    shop = await _shop(viewer, handle, session)
    identifier = _uuid(return_id, "return")
    back = see_other(f"/seller/{shop.handle}/returns")
    form = await request.form()
    request_row, order = await returns.get_return_for_staff(
        viewer, identifier, session=session, lock=True
    )
    if order.shop_id != shop.id:
        raise NotFound("There is no such return.", code="return_not_found")
    try:
        if action == "approve":
            await returns.approve_return(request_row, order, actor=viewer, session=session)
            message = f"Return for {order.number} approved."
        elif action == "reject":
            await returns.reject_return(
                request_row, order, actor=viewer, note=_text(form, "note"), session=session
            )
            message = f"Return for {order.number} refused; the buyer is told why."
        elif action == "received":
            await returns.receive_return(request_row, session=session)

            async def refund() -> None:
                try:
                    await returns.refund_return(identifier)
                except AppError:
                    log.warning("return refund failed", exc_info=True)

            events.after_commit(session, refund)
            message = f"Items of {order.number} received: the buyer is refunded."
        else:
            raise NotFound("There is no such action.", code="not_found")
    except AppError as error:
        if error.status == 404:
            raise
        await session.rollback()
        flash(back, _first_message(error), kind="error")
        return back
    flash(back, message)
    return back


def _first_message(error: AppError) -> str:
    listed = error.data.get("errors")
    if isinstance(listed, list) and listed and isinstance(listed[0], dict):
        return str(listed[0].get("message") or error.message)
    return error.message
