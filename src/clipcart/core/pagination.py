"""Cursor (keyset) pagination with a stable order."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import BigInteger, Integer, Select, SmallInteger, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from clipcart.core.db import UTCDateTime
from clipcart.core.errors import BadRequest

T = TypeVar("T")
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    """One page of results and the cursor for the next one (null at the end)."""

    items: list[T]
    next_cursor: str | None = None


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "t" in value:
        return datetime.fromisoformat(value["t"])
    if isinstance(value, dict) and "u" in value:
        return uuid.UUID(value["u"])
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor for the position after a row with these sort-key values."""
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[Any]:
    """The sort-key values inside `cursor`; a malformed cursor is a 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != width:
            raise ValueError
        return [_decode_value(v) for v in values]
    except (ValueError, TypeError, AttributeError, json.JSONDecodeError) as error:
        raise BadRequest("That cursor is not valid.", code="invalid_cursor") from error


def _fits(value: Any, column: InstrumentedAttribute[Any]) -> bool:
    column_type = column.type
    if value is None:
        return True  # a nullable sort key; SQL compares it without error
    if isinstance(column_type, UTCDateTime):
        return isinstance(value, datetime) and value.tzinfo is not None
    try:
        expected = column_type.python_type
    except NotImplementedError:
        return True
    if not isinstance(value, expected):
        return False
    if isinstance(column_type, Integer):
        bits = 32  # what the column holds on PostgreSQL
        if isinstance(column_type, BigInteger):
            bits = 64
        elif isinstance(column_type, SmallInteger):
            bits = 16
        return -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)
    return True


def _check_cursor_values(values: Sequence[Any], order_by: Sequence[Any]) -> None:
    # A tampered cursor, or one from another listing, must be a 400, not a database error.
    if not all(_fits(value, column) for value, column in zip(values, order_by, strict=True)):
        raise BadRequest("That cursor is not valid.", code="invalid_cursor")


def clamp_limit(limit: int | None, default: int = 20) -> int:
    """A page size between 1 and MAX_LIMIT."""
    if limit is None:
        return default
    return max(1, min(MAX_LIMIT, limit))


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    *,
    order_by: Sequence[InstrumentedAttribute[Any]],
    cursor: str | None,
    limit: int | None,
    descending: bool = True,
) -> tuple[list[Any], str | None]:
    """Rows after `cursor` ordered by `order_by` (its last key unique), and the next cursor."""
    size = clamp_limit(limit)
    if cursor:
        values = decode_cursor(cursor, len(order_by))
        _check_cursor_values(values, order_by)
        conditions = []
        for index, column in enumerate(order_by):
            equal = [order_by[i] == values[i] for i in range(index)]
            beyond = column < values[index] if descending else column > values[index]
            conditions.append(and_(*equal, beyond))
        statement = statement.where(or_(*conditions))
    ordering = [column.desc() if descending else column.asc() for column in order_by]
    rows = list((await session.scalars(statement.order_by(*ordering).limit(size + 1))).all())
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, column.key) for column in order_by])
    return rows, next_cursor
