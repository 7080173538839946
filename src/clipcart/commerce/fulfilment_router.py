"""Orders after payment, under /api/v1 (thin): the shop ships (one or many), cancels, lists and
exports its orders and decides returns; the buyer confirms delivery, cancels and asks for a
return."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import date
from typing import Annotated

from fastapi import Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.dependencies import require_scope
from clipcart.accounts.models import User
from clipcart.commerce import cancelling, exporting, fulfilment, orders, return_photos, returns
from clipcart.commerce.fulfilment_schemas import (
    BulkShipIn,
    BulkShipOut,
    CancelIn,
    CarrierOut,
    RejectIn,
    ReturnOut,
    ReturnPageOut,
    ReturnReasonOut,
    SellerOrderOut,
    SellerOrderPageOut,
    ShipIn,
    ShipmentResultOut,
)
from clipcart.commerce.models import Order, ReturnRequest
from clipcart.commerce.schemas import OrderOut
from clipcart.core.errors import NotFound, ValidationFailed
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service as shops

log = logging.getLogger(__name__)
router = make_router(prefix="/api/v1", tags=["orders"])

OrdersReader = Annotated[User, Depends(require_scope("orders:read"))]
OrdersWriter = Annotated[User, Depends(require_scope("orders:write"))]


@router.get("/carriers")
async def carriers() -> list[CarrierOut]:
    """The carriers a shop can ship with ("other" for any else)."""
    return [CarrierOut(code=code, name=name) for code, name in fulfilment.CARRIERS.items()]


@router.get("/return-reasons")
async def return_reasons() -> list[ReturnReasonOut]:
    """The reasons a buyer may give for a return."""
    return [ReturnReasonOut(code=code, label=label) for code, label in returns.REASONS.items()]


# --- the shop ----------------------------------------------------------------------------


@router.get("/shops/{handle}/orders")
async def list_shop_orders(
    handle: str,
    user: OrdersReader,
    db: DbSession,
    status: str | None = None,
    q: Annotated[str | None, Query(max_length=60, description="Order number or buyer")] = None,
    placed_from: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> SellerOrderPageOut:
    """The shop's orders, newest first, by status, order number or buyer, and date placed."""
    shop = await shops.get_shop_for_staff(
        user, handle, session=db, roles=fulfilment.FULFILMENT_ROLES
    )
    rows, next_cursor = await exporting.list_shop_orders(
        exporting.ShopOrderFilters.for_days(
            shop.id, status=status, search=q, first_day=placed_from, last_day=to
        ),
        cursor=cursor,
        limit=limit,
        session=db,
    )
    summaries = await orders.describe_orders([order for order, _ in rows], session=db)
    items = [
        SellerOrderOut(
            **summary.model_dump(),
            buyer_handle=buyer_handle,
            ship_to_city=str((order.ship_to or {}).get("city", "")),
            ship_to_country=str((order.ship_to or {}).get("country", "")),
            paid_at=order.paid_at,
            shipped_at=order.shipped_at,
            carrier=order.carrier,
            tracking_number=order.tracking_number,
        )
        for (order, buyer_handle), summary in zip(rows, summaries, strict=True)
    ]
    return SellerOrderPageOut(items=items, next_cursor=next_cursor)


@router.get("/shops/{handle}/orders.csv", response_class=StreamingResponse)
async def export_shop_orders(
    handle: str,
    user: OrdersReader,
    db: DbSession,
    status: str | None = None,
    q: Annotated[str | None, Query(max_length=60)] = None,
    placed_from: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> StreamingResponse:
    """The shop's orders (same filters as the list) as a CSV file, streamed."""
    shop = await shops.get_shop_for_staff(
        user, handle, session=db, roles=fulfilment.FULFILMENT_ROLES
    )
    filters = exporting.ShopOrderFilters.for_days(
        shop.id, status=status, search=q, first_day=placed_from, last_day=to
    )
    filters.check()
    return StreamingResponse(
        exporting.export_csv(filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{shop.handle}-orders.csv"'},
    )


@router.post("/shops/{handle}/orders/ship")
async def ship_orders(
    handle: str, data: BulkShipIn, user: OrdersWriter, db: DbSession
) -> BulkShipOut:
    """Ship several orders at once; each answers on its own (one refusal stops nothing)."""
    results = await fulfilment.ship_orders(
        user,
        handle,
        [(item.order_id, item.carrier, item.tracking_number) for item in data.shipments],
        session=db,
    )
    shipped = sum(result.ok for result in results)
    return BulkShipOut(
        results=[
            ShipmentResultOut(
                order_id=r.order_id, ok=r.ok, status=r.status, code=r.code, message=r.message
            )
            for r in results
        ],
        shipped=shipped,
        failed=len(results) - shipped,
    )


@router.post("/shops/{handle}/orders/{order_id}/ship")
async def ship_order(
    handle: str, order_id: uuid.UUID, data: ShipIn, user: OrdersWriter, db: DbSession
) -> OrderOut:
    """Mark a paid order shipped with its carrier and tracking number."""
    order = await fulfilment.get_shop_order(user, handle, order_id, session=db, lock=True)
    await fulfilment.ship_order(
        order,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        actor=user,
        session=db,
    )
    return await orders.describe_order(order, session=db)


async def _cancel_and_answer(
    order: Order, *, user: User, reason: str, db: AsyncSession
) -> OrderOut:
    cancellation = await cancelling.cancel_order(order, actor=user, reason=reason, session=db)
    await db.commit()  # the money moves only once the cancellation is durable
    await cancelling.finish_cancellation(cancellation)
    fresh = await orders.get_order(order.id, session=db)
    return await orders.describe_order(fresh, session=db)


@router.post("/shops/{handle}/orders/{order_id}/cancel")
async def cancel_shop_order(
    handle: str, order_id: uuid.UUID, data: CancelIn, user: OrdersWriter, db: DbSession
) -> OrderOut:
    """Cancel an order before it ships, telling the buyer why; a paid one is refunded."""
    reason = cancelling.clean_reason(data.reason, required=True)
    order = await fulfilment.get_shop_order(user, handle, order_id, session=db, lock=True)
    return await _cancel_and_answer(
        order, user=user, reason=f"Cancelled by the shop: {reason}", db=db
    )


# --- the buyer ---------------------------------------------------------------------------


@router.post("/orders/{order_id}/confirm-delivery")
async def confirm_delivery(order_id: uuid.UUID, user: OrdersWriter, db: DbSession) -> OrderOut:
    """The parcel arrived (shipped orders only)."""
    order = await fulfilment.get_own_order(user, order_id, session=db, lock=True)
    await fulfilment.confirm_delivery(order, actor=user, session=db)
    return await orders.describe_order(order, session=db)


@router.post("/orders/{order_id}/cancel")
async def cancel_order(
    order_id: uuid.UUID, user: OrdersWriter, db: DbSession, data: CancelIn | None = None
) -> OrderOut:
    """Cancel your order before it ships; a paid one is refunded in full."""
    reason = cancelling.clean_reason(data.reason if data else None, required=False)
    order = await fulfilment.get_own_order(user, order_id, session=db, lock=True)
    note = f"Cancelled by the buyer: {reason}" if reason else "Cancelled by the buyer"
    return await _cancel_and_answer(order, user=user, reason=note, db=db)


def _return_lines(raw: str) -> list[returns.ReturnLineIn]:
    try:
        items = json.loads(raw)
        if not isinstance(items, list):
            raise ValueError
        return [
            returns.ReturnLineIn(
                order_line_id=uuid.UUID(str(item["order_line_id"])), quantity=int(item["quantity"])
            )
            for item in items
        ]
    except (ValueError, TypeError, KeyError) as error:
        raise ValidationFailed.field(
            "lines", 'Send lines as JSON: [{"order_line_id": "...", "quantity": 1}].'
        ) from error


async def _return_out(request: ReturnRequest, order: Order, db: AsyncSession) -> ReturnOut:
    lines = (await returns.return_lines([request.id], session=db))[request.id]
    order_lines = {line.id: line for line in await orders.list_order_lines(order.id, session=db)}
    return ReturnOut.of(request, order, lines, order_lines)


@router.post("/orders/{order_id}/returns", status_code=201)
async def request_return(
    order_id: uuid.UUID,
    user: OrdersWriter,
    db: DbSession,
    lines: Annotated[str, Form(max_length=20_000, description="JSON list of lines")],
    reason: Annotated[str, Form(max_length=40)],
    details: Annotated[str, Form(max_length=returns.DETAILS_MAX)] = "",
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> ReturnOut:
    """Ask to send items of a delivered order back, inside the return window (up to 4 photos)."""
    wanted = _return_lines(lines)
    uploads = [photo for photo in photos or [] if photo.filename or photo.size]
    if len(uploads) > returns.PHOTOS_MAX:
        raise ValidationFailed.field("photos", f"Add at most {returns.PHOTOS_MAX} photos.")
    contents = [await photo.read(returns.PHOTO_MAX_BYTES + 1) for photo in uploads]
    order = await fulfilment.get_own_order(user, order_id, session=db, lock=True)
    request = await returns.request_return(
        order,
        buyer=user,
        lines_in=wanted,
        reason=reason,
        details=details,
        photos=contents,
        session=db,
    )
    return await _return_out(request, order, db)


@router.get("/orders/{order_id}/returns")
async def list_order_returns(
    order_id: uuid.UUID, user: OrdersReader, db: DbSession
) -> list[ReturnOut]:
    """The returns of an order (its buyer and the shop's staff)."""
    order = await orders.get_order_for(user, order_id, session=db)
    return [
        await _return_out(request, order, db)
        for request in await returns.list_order_returns(order.id, session=db)
    ]


@router.get("/returns/{return_id}/photos/{name}", response_class=FileResponse)
async def return_photo(
    return_id: uuid.UUID, name: str, user: OrdersReader, db: DbSession
) -> FileResponse:
    """A photo of a return, for the order's buyer, the shop's staff and admins only."""
    request, _ = await returns.get_return_for(user, return_id, session=db)
    path = return_photos.photo_file(name, request.photo_keys)
    if path is None:
        raise NotFound("That return has no such photo.", code="photo_not_found")
    # Private: a shared cache must not keep it; the name never changes, so the browser may.
    headers = {"Cache-Control": "private, max-age=86400"}
    return FileResponse(path, media_type="image/webp", headers=headers)


# --- the shop's returns ------------------------------------------------------------------


@router.get("/shops/{handle}/returns")
async def list_shop_returns(
    handle: str,
    user: OrdersReader,
    db: DbSession,
    status: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> ReturnPageOut:
    """The shop's returns, newest first (one status, or all)."""
    if status is not None and status not in returns.RETURN_STATUSES:
        raise ValidationFailed.field("status", f"Use one of: {', '.join(returns.RETURN_STATUSES)}.")
    shop = await shops.get_shop_for_staff(
        user, handle, session=db, roles=fulfilment.FULFILMENT_ROLES
    )
    rows, next_cursor = await returns.list_shop_returns(
        shop, status=status, cursor=cursor, limit=limit, session=db
    )
    lines = await returns.return_lines([row.id for row in rows], session=db)
    order_ids = list({row.order_id for row in rows})
    order_lines = await orders.lines_by_order(order_ids, session=db)
    by_id = {order_id: await orders.get_order(order_id, session=db) for order_id in order_ids}
    items = [
        ReturnOut.of(
            row,
            by_id[row.order_id],
            lines[row.id],
            {line.id: line for line in order_lines[row.order_id]},
        )
        for row in rows
    ]
    return ReturnPageOut(items=items, next_cursor=next_cursor)


@router.post("/returns/{return_id}/approve")
async def approve_return(return_id: uuid.UUID, user: OrdersWriter, db: DbSession) -> ReturnOut:
    """Accept the return: the buyer sends the items back."""
    request, order = await returns.get_return_for_staff(user, return_id, session=db, lock=True)
    await returns.approve_return(request, order, actor=user, session=db)
    return await _return_out(request, order, db)


@router.post("/returns/{return_id}/reject")
async def reject_return(
    return_id: uuid.UUID, data: RejectIn, user: OrdersWriter, db: DbSession
) -> ReturnOut:
    """Refuse the return, telling the buyer why."""
    request, order = await returns.get_return_for_staff(user, return_id, session=db, lock=True)
    await returns.reject_return(request, order, actor=user, note=data.note, session=db)
    return await _return_out(request, order, db)


@router.post("/returns/{return_id}/received")
async def receive_return(return_id: uuid.UUID, user: OrdersWriter, db: DbSession) -> ReturnOut:
    """The items came back: stock goes on sale again and the buyer is refunded."""
    request, order = await returns.get_return_for_staff(user, return_id, session=db, lock=True)
    await returns.receive_return(request, session=db)
    await db.commit()  # the refund is asked of the provider with no transaction open
    try:
        await returns.refund_return(return_id)
    except Exception:
        # The return stays `returned` (refund due): the refunds job finishes it.
        log.warning("return refund failed", extra={"return_id": str(return_id)}, exc_info=True)
    request, order = await returns.get_return_for_staff(user, return_id, session=db)
    return await _return_out(request, order, db)
