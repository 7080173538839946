"""Use cases of the event log: ingest a batch from a page, read events back for learning."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import clock
from clipcart.core.errors import PayloadTooLarge, ValidationFailed
from clipcart.recs import domain, postgres_store, serving, trending
from clipcart.recs.models import RecsEvent
from clipcart.recs.online import UserSignals as UserSignals
from clipcart.recs.online import load_signals as load_signals
from clipcart.recs.preferences import Preferences as Preferences
from clipcart.recs.preferences import get_preferences as get_preferences
from clipcart.recs.preferences import set_preferences as set_preferences
from clipcart.recs.schemas import (
    MAX_BATCH,
    EventBatchOut,
    EventIn,
    RejectedEvent,
    batch_adapter,
    event_adapter,
)
from clipcart.recs.serving import ServedModel as ServedModel
from clipcart.recs.trending import trend_of as trend_of
from clipcart.social import service as social_service

# The feed's reads of the model and the trends, under the names it uses.
model_holder = serving.holder
trending_videos = trending.top_videos
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
    """Store validated events once each, add their views to the counters and their engagement
    to the trends.

    Returns (accepted, duplicates, rejected by the clock window).
    """
    now = clock.now()
    rejected: list[RejectedEvent] = []
    kept: list[dict[str, Any]] = []
    seen: set[uuid.UUID] = set()
    window = domain.clock_window(now)
    windows: dict[int, tuple[datetime, datetime]] = {}  # by id of the events' tzinfo
    for index, event in events:
        # The model's __dict__ is read directly: attribute access on Pydantic models is slow.
        fields = event.__dict__
        occurred_at = fields["occurred_at"]
        zone = occurred_at.tzinfo
        bounds = windows.get(id(zone))
        if bounds is None:  # the bounds once per zone and batch, not per event
            bounds = windows[id(zone)] = (
                domain.in_fixed_zone(window[0], zone),
                domain.in_fixed_zone(window[1], zone),
            )
        if not bounds[0] <= occurred_at <= bounds[1]:
            problem = domain.clock_problem(occurred_at, now=now)
            if problem is not None:
                rejected.append(RejectedEvent(index=index, id=str(fields["id"]), reason=problem))
                continue
        event_id = fields["id"]
        if event_id not in seen:
            seen.add(event_id)
            kept.append(fields)
    duplicates = len(events) - len(rejected) - len(kept)
    if not kept:
        return 0, duplicates, rejected
    columns = _columns(kept, user_id=user_id, visitor_id=visitor_id, now=now)
    await _credit_sharers(columns, session=session)
    if session.get_bind().dialect.name == "postgresql":
        stored = await postgres_store.store(columns, session=session)
    else:
        stored = await _store_sqlite(columns, session=session)
    return stored, duplicates + len(kept) - stored, rejected


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


async def _store_sqlite(columns: dict[str, list[Any]], *, session: AsyncSession) -> int:
    """SQLite: insert the rows whose id is new, then add what they add to the trends and the
    view counters (one statement each); how many rows were new."""
    inserted = await _insert_sqlite(columns, session=session)
    ids, types, videos = columns["id"], columns["type"], columns["video_id"]
    completed, occurred = columns["completed"], columns["occurred_at"]
    every = len(inserted) == len(ids)
    trend = domain.trend_increments(
        (code, video_id, done, at)
        for event_id, code, video_id, done, at in zip(
            ids, types, videos, completed, occurred, strict=True
        )
        if every or event_id in inserted
    )
    if trend:
        await trending.add_engagement(trend, session=session)
    # Counters after trends, in every case: concurrent batches lock the tables' rows in the
    # same order.
    views = domain.count_views(
        (code, video_id)
        for event_id, code, video_id in zip(ids, types, videos, strict=True)
        if code in domain.VIEW_TYPE_CODES and (every or event_id in inserted)
    )
    if views:
        # Views of videos that do not exist (deleted, mistyped, made up) are dropped there.
        await social_service.record_views(views, session=session)
    return len(inserted)


async def _insert_sqlite(columns: dict[str, list[Any]], *, session: AsyncSession) -> set[uuid.UUID]:
    """SQLite: one multi-row INSERT ... RETURNING sent to the driver as it is.

    The columns' own bind processors (UUID as hex, UTC datetimes naive) run column by column;
    SQLAlchemy's per-row parameter machinery was most of the cost of a batch.
    """
    connection = await session.connection()
    dialect = connection.dialect
    values = []
    for column, given in zip(_TABLE.columns, columns.values(), strict=True):
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        values.append(given if process is None else [process(value) for value in given])
    count = len(values[0])
    parameters = tuple(value for row in zip(*values, strict=True) for value in row)
    result = await connection.exec_driver_sql(_sqlite_insert_sql(count), parameters)
    stored_ids = dict(zip(values[0], columns["id"], strict=True))
    return {stored_ids[stored_id] for (stored_id,) in result}


@functools.lru_cache(maxsize=32)
def _sqlite_insert_sql(count: int) -> str:
    """The INSERT of `count` rows (at most MAX_BATCH * 19 parameters, under SQLite's limit)."""
    row = f"({', '.join('?' * len(_COLUMNS))})"
    # Built from the table's own metadata and a count: no outside text reaches this SQL.
    return (
        f"INSERT INTO {_TABLE.name} ({', '.join(_COLUMNS)}) VALUES {', '.join([row] * count)} "  # noqa: S608
        "ON CONFLICT (id) DO NOTHING RETURNING id"
    )


def _columns(
    events: list[dict[str, Any]],
    *,
    user_id: uuid.UUID | None,
    visitor_id: uuid.UUID | None,
    now: datetime,
) -> dict[str, list[Any]]:
    """The events (their models' fields) as one list per column, in id order, every column."""
    # A UUID's int orders like its bytes (big-endian), as the databases compare ids; ints compare
    # in C and .int is a plain attribute where .bytes is a Python property.
    events = sorted(events, key=lambda fields: fields["id"].int)
    count = len(events)
    type_codes, surface_codes = domain.EVENT_TYPE_CODES, domain.SURFACE_CODES
    columns = {
        "id": [fields["id"] for fields in events],
        "type": [type_codes[fields["type"]] for fields in events],
        "occurred_at": [fields["occurred_at"] for fields in events],
        "received_at": [now] * count,
        "user_id": [user_id] * count,
        "visitor_id": [visitor_id] * count,
        "session_id": [fields["session_id"] for fields in events],
        "surface": [surface_codes.get(fields["surface"]) for fields in events],
        "position": [fields["position"] for fields in events],
        "video_id": [fields["video_id"] for fields in events],
        "product_id": [fields["product_id"] for fields in events],
        "variant_id": [fields["variant_id"] for fields in events],
        # Fields only some types have: .get on the dict, not getattr on the model.
        "target_id": [fields.get("target_id") for fields in events],
        "watch_ms": [fields.get("watch_ms") for fields in events],
        "duration_ms": [fields.get("duration_ms") for fields in events],
        "completed": [fields.get("completed") for fields in events],
        "channel": [fields.get("channel") for fields in events],
        "share_code": [fields.get("share_code") for fields in events],
        "sharer_id": [None] * count,
    }
    assert list(columns) == _COLUMNS, "every column of the table, in its order"
    return columns


async def _credit_sharers(columns: dict[str, list[Any]], *, session: AsyncSession) -> None:
    codes = {code for code in columns["share_code"] if code}
    if not codes:
        return
    sharers = {code: await social_service.resolve_share(code, session=session) for code in codes}
    columns["sharer_id"] = [sharers[code] if code else None for code in columns["share_code"]]


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
    """Every event with since <= occurred_at < until, oldest first (ties in id order), in
    batches of at most `batch_size`.

    One query streamed through a server-side cursor: the window is found through the BRIN
    index on occurred_at and sorted once (keyset pages would sort the rest of it again for
    every page).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    statement = (
        select(_TABLE)
        .where(_TABLE.c.occurred_at >= since, _TABLE.c.occurred_at < until)
        .order_by(_TABLE.c.occurred_at, _TABLE.c.id)
        .execution_options(yield_per=batch_size)
    )
    result = await session.stream(statement)
    try:
        async for rows in result.partitions(batch_size):
            yield [_record(row) for row in rows]
    finally:  # a reader that stops early closes the cursor now, not when it is collected
        await result.close()


_TOUCH_TYPES = tuple(
    domain.EVENT_TYPE_CODES[name] for name in ("chip_tap", "sheet_open", "add_to_cart")
)


async def product_touches(
    user_id: uuid.UUID,
    product_id: uuid.UUID,
    *,
    since: datetime,
    limit: int = 20,
    session: AsyncSession,
) -> list[EventRecord]:
    """The user's latest chip taps, sheet opens and adds to cart of the product since `since`,
    newest first (at most `limit`)."""
    statement = (
        select(_TABLE)
        .where(
            _TABLE.c.user_id == user_id,
            _TABLE.c.occurred_at >= since,
            _TABLE.c.product_id == product_id,
            _TABLE.c.type.in_(_TOUCH_TYPES),
        )
        .order_by(_TABLE.c.occurred_at.desc(), _TABLE.c.id.desc())
        .limit(limit)
    )
    return [_record(row) for row in await session.execute(statement)]


async def video_event_times(
    video_ids: Sequence[uuid.UUID], *, types: Sequence[str], since: datetime, session: AsyncSession
) -> list[tuple[uuid.UUID, str, uuid.UUID | None, datetime]]:
    """(video, type, product, when) of the events of these types on these videos since
    `since`: what the creator center counts per day (views, product taps)."""
    if not video_ids:
        return []
    codes = [domain.EVENT_TYPE_CODES[name] for name in types]
    statement = select(
        _TABLE.c.video_id, _TABLE.c.type, _TABLE.c.product_id, _TABLE.c.occurred_at
    ).where(
        _TABLE.c.video_id.in_(list(video_ids)),
        _TABLE.c.type.in_(codes),
        _TABLE.c.occurred_at >= since,
    )
    rows = await session.execute(statement)
    return [
        (video_id, domain.EVENT_TYPE_NAMES.get(code, "unknown"), product_id, occurred_at)
        for video_id, code, product_id, occurred_at in rows.all()
    ]
