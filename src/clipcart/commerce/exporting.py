"""A shop's orders: the filtered list for the seller center, and the same list as a CSV file
streamed a batch at a time."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.commerce import domain, orders
from clipcart.commerce.models import Order, OrderLine
from clipcart.core.db import get_sessionmaker
from clipcart.core.errors import ValidationFailed
from clipcart.core.money import Money
from clipcart.core.pagination import paginate

BATCH = 500
CSV_COLUMNS = (
    "number", "placed", "status", "buyer", "ship_to", "lines", "currency", "subtotal",
    "shipping", "discount", "tax", "total", "refunded", "carrier", "tracking_number",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ShopOrderFilters:
    """Which of a shop's orders to list."""

    shop_id: uuid.UUID
    status: str | None = None
    search: str | None = None  # an order number (or its start) or the buyer's handle
    placed_from: datetime | None = None
    placed_to: datetime | None = None

    @classmethod
    def for_days(
        cls,
        shop_id: uuid.UUID,
        *,
        status: str | None = None,
        search: str | None = None,
        first_day: date | None = None,
        last_day: date | None = None,
    ) -> ShopOrderFilters:
        """Orders placed from the start of `first_day` to the end of `last_day` (UTC)."""
        after_last = _day_start(last_day + timedelta(days=1)) if last_day else None
        return cls(
            shop_id=shop_id,
            status=status or None,
            search=search or None,
            placed_from=_day_start(first_day),
            placed_to=after_last - timedelta(microseconds=1) if after_last else None,
        )

    def check(self) -> None:
        """422 for a status that does not exist or an empty date range."""
        if self.status is not None and self.status not in domain.ORDER_STATUSES:
            raise ValidationFailed.field(
                "status", f"Use one of: {', '.join(domain.ORDER_STATUSES)}."
            )
        if self.placed_from and self.placed_to and self.placed_from > self.placed_to:
            raise ValidationFailed.field("from", "The start date is after the end date.")


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def _filtered(filters: ShopOrderFilters, *columns: Any) -> Select[Any]:
    statement = (
        select(*columns)
        .select_from(Order)
        .join(User, User.id == Order.buyer_id)
        .where(Order.shop_id == filters.shop_id)
    )
    if filters.status is not None:
        statement = statement.where(Order.status == filters.status)
    search = (filters.search or "").strip()
    if search:
        number = search.upper()
        handle = search.removeprefix("@").lower()
        statement = statement.where(
            or_(Order.number == number, Order.number.startswith(number), User.handle == handle)
        )
    if filters.placed_from is not None:
        statement = statement.where(Order.created_at >= filters.placed_from)
    if filters.placed_to is not None:
        statement = statement.where(Order.created_at <= filters.placed_to)
    return statement


async def list_shop_orders(
    filters: ShopOrderFilters,
    *,
    session: AsyncSession,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[tuple[Order, str]], str | None]:
    """The shop's orders matching `filters`, newest first, with each buyer's handle."""
    filters.check()
    page, next_cursor = await paginate(
        session,
        _filtered(filters, Order),
        order_by=[Order.created_at, Order.id],
        cursor=cursor,
        limit=limit,
    )
    buyers = await accounts.users_by_ids({order.buyer_id for order in page}, session=session)
    return [
        (order, buyers[order.buyer_id].handle if order.buyer_id in buyers else "") for order in page
    ], next_cursor


def _cell(value: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula: quote it.
    return "'" + value if value.startswith(_FORMULA_START) else value


def _amount(amount: int, currency: str) -> str:
    return str(Money(amount, currency).to_decimal())


def ship_to_text(ship_to: dict[str, Any]) -> str:
    """An address snapshot on one line."""
    parts = ("name", "line1", "line2", "city", "region", "postal_code", "country")
    return ", ".join(str(ship_to[part]) for part in parts if ship_to.get(part))


def lines_text(lines: list[OrderLine]) -> str:
    """The order's lines on one line: "2 x Serum (50 ml) [SKU-1]; ..."."""
    shown = []
    for line in lines:
        text = f"{line.quantity} x {line.title}"
        if line.variant_title:
            text += f" ({line.variant_title})"
        if line.sku:
            text += f" [{line.sku}]"
        shown.append(text)
    return "; ".join(shown)


def csv_row(order: Order, buyer_handle: str, lines: list[OrderLine]) -> list[str]:
    """One order as a row of the export."""
    currency = order.currency
    row = [
        order.number,
        order.created_at.isoformat(),
        order.status,
        buyer_handle,
        ship_to_text(order.ship_to or {}),
        lines_text(lines),
        currency,
        _amount(order.subtotal, currency),
        _amount(order.shipping, currency),
        _amount(order.discount, currency),
        _amount(order.tax, currency),
        _amount(order.total, currency),
        _amount(order.refunded, currency),
        order.carrier,
        order.tracking_number,
    ]
    return [_cell(value) for value in row]


def _text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


async def export_csv(filters: ShopOrderFilters) -> AsyncIterator[str]:
    """The shop's orders matching `filters` as CSV text, oldest first, a batch at a time.
    Reads in its own session, so the response can stream after the request's is closed."""
    filters.check()
    yield _text([list(CSV_COLUMNS)])
    after: tuple[datetime, uuid.UUID] | None = None
    async with get_sessionmaker()() as session:
        while True:
            statement = _filtered(filters, Order, User.handle)
            if after is not None:
                statement = statement.where(
                    (Order.created_at > after[0])
                    | ((Order.created_at == after[0]) & (Order.id > after[1]))
                )
            result = await session.execute(
                statement.order_by(Order.created_at, Order.id).limit(BATCH)
            )
            batch: list[tuple[Order, str]] = [(row[0], row[1]) for row in result]
            if not batch:
                return
            lines = await orders.lines_by_order([order.id for order, _ in batch], session=session)
            yield _text([csv_row(order, handle, lines[order.id]) for order, handle in batch])
            if len(batch) < BATCH:
                return
            last = batch[-1][0]
            after = (last.created_at, last.id)
            session.expunge_all()
