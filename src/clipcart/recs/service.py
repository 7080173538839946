"""Use cases of the event log: ingest a batch from a page, read events back for learning."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Row, Table, and_, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import clock
from clipcart.core.errors import PayloadTooLarge, ValidationFailed
from clipcart.recs import domain
from clipcart.recs.models import RecsEvent
from clipcart.recs.schemas import (
    MAX_BATCH,
    EventBatchOut,
    EventIn,
    RejectedEvent,
    batch_adapter,
    event_adapter,
)
from clipcart.social import service as social_service

_TABLE = cast(Table, RecsEvent.__table__)
_COLUMNS = [column.name for column in _TABLE.columns]


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One stored event, as the recommender and analytics read it."""

    id: uuid.UUID
    type: str
    occurred_at: datetime
    received_at: datetime
    user_id: uuid.UUID | None
    visitor_id: uuid.UUID | None
    session_id: str | None
    surface: str | None
    position: int | None
    video_id: uuid.UUID | None
    product_id: uuid.UUID | None
    variant_id: uuid.UUID | None
    target_id: uuid.UUID | None
    watch_ms: int | None
    duration_ms: int | None
    completed: bool | None
    channel: str | None
    share_code: str | None
    sharer_id: uuid.UUID | None


def parse_batch(body: bytes) -> tuple[list[tuple[int, EventIn]], list[RejectedEvent]]:
    """The valid events of a request body (with their index) and the rejected ones.

    A body that is not `{"events": [...]}` is a 422; more than MAX_BATCH events a 413.
    """
    try:
        batch = batch_adapter.validate_json(body)
    except ValidationError as error:
        if any(e["loc"] == ("events",) and e["type"] == "too_long" for e in error.errors()):
            raise _too_many() from None
    else:
        return list(enumerate(batch.events)), []
    return _parse_one_by_one(body)


def _too_many() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Send at most {MAX_BATCH} events per request.",
        code="too_many_events",
        data={"max_events": MAX_BATCH},
    )


def _parse_one_by_one(body: bytes) -> tuple[list[tuple[int, EventIn]], list[RejectedEvent]]:
    try:
        document = json.loads(body)
    except ValueError:
        raise ValidationFailed.field("body", "The body is not JSON.") from None
    items = document.get("events") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ValidationFailed.field("events", 'Send a JSON object {"events": [...]}.')
    if not items:
        raise ValidationFailed.field("events", "Send at least one event.")
    if len(items) > MAX_BATCH:
        raise _too_many()
    valid: list[tuple[int, EventIn]] = []
    rejected: list[RejectedEvent] = []
    for index, item in enumerate(items):
        try:
            valid.append((index, event_adapter.validate_python(item)))
        except ValidationError as error:
            reasons = [domain.describe_error(e["loc"], e["msg"]) for e in error.errors()]
            raw_id = item.get("id") if isinstance(item, dict) else None
            rejected.append(
                RejectedEvent(
                    index=index,
                    id=raw_id[:64] if isinstance(raw_id, str) else None,
                    reason="; ".join(reasons),
                )
            )
    return valid, rejected


async def record_events(
    events: Sequence[tuple[int, EventIn]],
    *,
    user_id: uuid.UUID | None,
    visitor_id: uuid.UUID | None,
    session: AsyncSession,
) -> tuple[int, int, list[RejectedEvent]]:
    """Store validated events once each, add their views to the counters.

    Returns (accepted, duplicates, rejected by the clock window).
    """
    now = clock.now()
    rejected: list[RejectedEvent] = []
    rows: list[dict[str, Any]] = []
    seen: set[uuid.UUID] = set()
    duplicates = 0
    earliest, latest = domain.clock_window(now)
    for index, event in events:
        occurred_at = event.occurred_at
        problem = None
        if not earliest <= occurred_at <= latest:  # the bounds once per batch, not per event
            problem = domain.clock_problem(occurred_at, now=now)
        if problem is not None:
            rejected.append(RejectedEvent(index=index, id=str(event.id), reason=problem))
            continue
        if event.id in seen:
            duplicates += 1
            continue
        seen.add(event.id)
        rows.append(_row(event, user_id=user_id, visitor_id=visitor_id, now=now))
    if not rows:
        return 0, duplicates, rejected
    await _credit_sharers(rows, session=session)
    inserted = await _insert_rows(rows, session=session)
    views = domain.count_views(
        (row["type"], row["video_id"]) for row in rows if row["id"] in inserted
    )
    if views:
        # Views of videos that do not exist (deleted, mistyped, made up) are dropped there.
        await social_service.record_views(views, session=session)
    return len(inserted), duplicates + len(rows) - len(inserted), rejected


async def ingest(
    body: bytes,
    *,
    user_id: uuid.UUID | None,
    visitor_id: uuid.UUID | None,
    session: AsyncSession,
) -> EventBatchOut:
    """Validate a request body and store its good events; the bad ones come back with reasons."""
    valid, rejected = parse_batch(body)
    accepted, duplicates, late = await record_events(
        valid, user_id=user_id, visitor_id=visitor_id, session=session
    )
    rejected = sorted([*rejected, *late], key=lambda rejection: rejection.index)
    return EventBatchOut(accepted=accepted, duplicates=duplicates, rejected=rejected)


# PostgreSQL: the whole batch as one array per column, unnested into rows by the server. One
# small prepared statement whatever the batch size, and asyncpg encodes the arrays in C, where
# a multi-row VALUES list costs SQLAlchemy and the driver ~19 parameters per row.
_PG_ARRAY_TYPES = {
    column.name: column.type.compile(dialect=postgresql.dialect()) for column in _TABLE.columns
}
# Built once from the table's own metadata: no outside text reaches this SQL.
_PG_ARRAYS = ", ".join(f"CAST(:{name} AS {_PG_ARRAY_TYPES[name]}[])" for name in _COLUMNS)
_PG_INSERT_SQL = f"INSERT INTO {_TABLE.name} ({', '.join(_COLUMNS)}) SELECT * FROM unnest({_PG_ARRAYS}) ON CONFLICT (id) DO NOTHING RETURNING id"  # noqa: E501, S608
_PG_INSERT = text(_PG_INSERT_SQL)


async def _insert_rows(rows: list[dict[str, Any]], *, session: AsyncSession) -> set[uuid.UUID]:
    """Insert the rows whose id is new (ON CONFLICT DO NOTHING); the ids inserted.

    The rows go in id order: two batches resending some of the same events (a retried beacon)
    then wait on each other's keys in the same order instead of deadlocking.
    """
    rows = sorted(rows, key=lambda row: row["id"].bytes)  # bytes compare in C, UUIDs do not
    if session.get_bind().dialect.name == "postgresql":
        # The commit waits for the WAL flush like every other: attribution (and so creator
        # commission) is read from these events, so an answered batch must survive a crash.
        columns = {name: [row[name] for row in rows] for name in _COLUMNS}
        result = await session.execute(_PG_INSERT, columns)
        # asyncpg's UUIDs subclass uuid.UUID and hash alike: no conversion needed to match rows.
        return set(result.scalars())
    statement = (
        sqlite.insert(_TABLE).on_conflict_do_nothing(index_elements=["id"]).returning(_TABLE.c.id)
    )
    return set((await session.execute(statement, rows)).scalars())


def _row(
    event: EventIn, *, user_id: uuid.UUID | None, visitor_id: uuid.UUID | None, now: datetime
) -> dict[str, Any]:
    # Every row carries every column: one executemany statement for the whole batch. The
    # model's __dict__ is read directly: getattr on a field a variant lacks is slow in Pydantic.
    fields = event.__dict__
    surface = fields["surface"]
    return {
        "id": fields["id"],
        "type": domain.EVENT_TYPE_CODES[fields["type"]],
        "occurred_at": fields["occurred_at"],
        "received_at": now,
        "user_id": user_id,
        "visitor_id": visitor_id,
        "session_id": fields["session_id"],
        "surface": domain.SURFACE_CODES[surface] if surface else None,
        "position": fields["position"],
        "video_id": fields["video_id"],
        "product_id": fields["product_id"],
        "variant_id": fields["variant_id"],
        "target_id": fields.get("target_id"),
        "watch_ms": fields.get("watch_ms"),
        "duration_ms": fields.get("duration_ms"),
        "completed": fields.get("completed"),
        "channel": fields.get("channel"),
        "share_code": fields.get("share_code"),
        "sharer_id": None,
    }


async def _credit_sharers(rows: list[dict[str, Any]], *, session: AsyncSession) -> None:
    codes = {row["share_code"] for row in rows if row["share_code"]}
    if not codes:
        return
    sharers = {code: await social_service.resolve_share(code, session=session) for code in codes}
    for row in rows:
        if row["share_code"]:
            row["sharer_id"] = sharers[row["share_code"]]


def _record(row: Row[Any]) -> EventRecord:
    values = dict(row._mapping)
    values["type"] = domain.EVENT_TYPE_NAMES.get(values["type"], "unknown")
    surface = values["surface"]
    values["surface"] = domain.SURFACE_NAMES.get(surface) if surface is not None else None
    return EventRecord(**values)


async def recent_events_for_user(
    user_id: uuid.UUID, *, since: datetime, limit: int = 500, session: AsyncSession
) -> list[EventRecord]:
    """A user's events that happened at or after `since`, newest first (at most `limit`)."""
    statement = (
        select(_TABLE)
        .where(_TABLE.c.user_id == user_id, _TABLE.c.occurred_at >= since)
        .order_by(_TABLE.c.occurred_at.desc(), _TABLE.c.id.desc())
        .limit(limit)
    )
    return [_record(row) for row in await session.execute(statement)]


async def iter_events(
    *, since: datetime, until: datetime, batch_size: int = 1000, session: AsyncSession
) -> AsyncIterator[list[EventRecord]]:
    """Every event with since <= occurred_at < until, oldest first, in keyset-paged batches."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    occurred_at, event_id = _TABLE.c.occurred_at, _TABLE.c.id
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        statement = select(_TABLE).where(occurred_at >= since, occurred_at < until)
        if after is not None:
            statement = statement.where(
                or_(occurred_at > after[0], and_(occurred_at == after[0], event_id > after[1]))
            )
        statement = statement.order_by(occurred_at, event_id).limit(batch_size)
        batch = [_record(row) for row in await session.execute(statement)]
        if not batch:
            return
        yield batch
        if len(batch) < batch_size:
            return
        after = (batch[-1].occurred_at, batch[-1].id)


_TOUCH_TYPES = tuple(
    domain.EVENT_TYPE_CODES[name] for name in ("chip_tap", "sheet_open", "add_to_cart")
)


async def last_product_touch(
    user_id: uuid.UUID, product_id: uuid.UUID, *, since: datetime, session: AsyncSession
) -> EventRecord | None:
    """The user's latest chip tap, sheet open or add to cart of the product since `since`."""
    statement = (
        select(_TABLE)
        .where(
            _TABLE.c.user_id == user_id,
            _TABLE.c.occurred_at >= since,
            _TABLE.c.product_id == product_id,
            _TABLE.c.type.in_(_TOUCH_TYPES),
        )
        .order_by(_TABLE.c.occurred_at.desc(), _TABLE.c.id.desc())
        .limit(1)
    )
    row = (await session.execute(statement)).first()
    return _record(row) if row is not None else None
