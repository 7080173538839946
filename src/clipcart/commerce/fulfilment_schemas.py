"""Shipping, cancelling, seller order lists and returns: API inputs and outputs."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from clipcart.commerce import return_photos, returns
from clipcart.commerce.models import Order, OrderLine, ReturnLine, ReturnRequest
from clipcart.commerce.schemas import OrderSummaryOut
from clipcart.core.money import Money
from clipcart.shops.schemas import MoneyOut


def money(amount: int, currency: str) -> MoneyOut:
    """An amount of the order's currency as the API shows it."""
    return MoneyOut.of(Money(amount, currency))


class CarrierOut(BaseModel):
    """A carrier a shop can ship with."""

    code: str
    name: str


class ShipIn(BaseModel):
    """Who carries the parcel and its tracking number (6-40 letters and digits)."""

    carrier: str = Field(max_length=40, examples=["ups"])
    tracking_number: str = Field(max_length=60, examples=["1Z999AA10123456784"])


class ShipmentIn(ShipIn):
    """One order of a bulk shipment."""

    order_id: uuid.UUID


class BulkShipIn(BaseModel):
    """Several orders shipped at once (each succeeds or fails on its own)."""

    shipments: list[ShipmentIn] = Field(min_length=1, max_length=100)


class ShipmentResultOut(BaseModel):
    """What happened to one order: shipped, or why not."""

    order_id: uuid.UUID
    ok: bool
    status: str | None = None
    code: str | None = None
    message: str | None = None


class BulkShipOut(BaseModel):
    """Per-order results, in the order given."""

    results: list[ShipmentResultOut]
    shipped: int
    failed: int


class CancelIn(BaseModel):
    """Why the order is cancelled (optional for the buyer, required for the shop)."""

    reason: str | None = Field(default=None, max_length=300)


class SellerOrderOut(OrderSummaryOut):
    """An order in the shop's list."""

    buyer_handle: str
    ship_to_city: str
    ship_to_country: str
    paid_at: datetime | None
    shipped_at: datetime | None
    carrier: str
    tracking_number: str


class SellerOrderPageOut(BaseModel):
    """A page of the shop's orders."""

    items: list[SellerOrderOut]
    next_cursor: str | None = None


class RejectIn(BaseModel):
    """Why the shop refuses the return (shown to the buyer)."""

    note: str = Field(max_length=500)


class ReturnLineOut(BaseModel):
    """How many of one order line go back, and the money that goes with them."""

    order_line_id: uuid.UUID
    title: str
    variant_title: str
    quantity: int
    amount: MoneyOut


class ReturnOut(BaseModel):
    """A return request and where it stands."""

    id: uuid.UUID
    order_id: uuid.UUID
    order_number: str
    status: str
    reason: str
    reason_label: str
    details: str
    photos: list[str]
    lines: list[ReturnLineOut]
    amount: MoneyOut
    shipping_refund: MoneyOut = Field(
        description="The part of `amount` beyond the lines: the order's shipping (and its tax), "
        "refunded when the shop was at fault and this return sends the last item back"
    )
    answer_due_at: datetime
    decided_at: datetime | None
    decided_automatically: bool
    decision_note: str
    refunded_at: datetime | None
    created_at: datetime

    @classmethod
    def of(
        cls,
        request: ReturnRequest,
        order: Order,
        lines: list[ReturnLine],
        order_lines: dict[uuid.UUID, OrderLine],
    ) -> ReturnOut:
        """From the stored rows."""
        shown = []
        for item in lines:
            line = order_lines.get(item.order_line_id)
            shown.append(
                ReturnLineOut(
                    order_line_id=item.order_line_id,
                    title=line.title if line else "",
                    variant_title=line.variant_title if line else "",
                    quantity=item.quantity,
                    amount=money(item.amount, order.currency),
                )
            )
        return cls(
            id=request.id,
            order_id=order.id,
            order_number=order.number,
            status=request.status,
            reason=request.reason,
            reason_label=returns.REASONS.get(request.reason, request.reason),
            details=request.details,
            photos=[return_photos.photo_url(request.id, key) for key in request.photo_keys],
            lines=shown,
            amount=money(request.amount, order.currency),
            shipping_refund=money(returns.beyond_lines_part(request, lines), order.currency),
            answer_due_at=request.answer_due_at,
            decided_at=request.decided_at,
            decided_automatically=request.decided_at is not None and request.decided_by is None,
            decision_note=request.decision_note,
            refunded_at=request.refunded_at,
            created_at=request.created_at,
        )


class ReturnPageOut(BaseModel):
    """A page of the shop's returns."""

    items: list[ReturnOut]
    next_cursor: str | None = None


class ReturnReasonOut(BaseModel):
    """A reason a buyer may give for a return."""

    code: str
    label: str
