"""Use cases of the event log: ingest a batch from a page, read events back for learning."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Row, Table, and_, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import clock
from clipcart.core.errors import PayloadTooLarge, ValidationFailed
from clipcart.recs import domain, serving, trending
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
            bounds = windows[id(zone)] = _window_in(zone, window)
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
    ids, types, videos = columns["id"], columns["type"], columns["video_id"]
    completed, occurred = columns["completed"], columns["occurred_at"]
    # What the batch adds to the trends if every event is new (the usual case): PostgreSQL adds
    # it in the insert's own statement, which saves a round trip and a statement.
    trend = domain.trend_increments(zip(types, videos, completed, occurred, strict=True))
    inserted, trend_added = await _insert_columns(columns, trend=trend, session=session)
    if inserted is not None:
        # Some were stored before (a retried batch): only the new ones count.
        trend = domain.trend_increments(
            (code, video_id, done, at)
            for event_id, code, video_id, done, at in zip(
                ids, types, videos, completed, occurred, strict=True
            )
            if event_id in inserted
        )
    if trend and not trend_added:
        await trending.add_engagement(trend, session=session)
    # Counters after trends, in every case: concurrent batches lock the tables' rows in the
    # same order.
    views = domain.count_views(
        (code, video_id)
        for event_id, code, video_id in zip(ids, types, videos, strict=True)
        if code in domain.VIEW_TYPE_CODES and (inserted is None or event_id in inserted)
    )
    if views:
        # Views of videos that do not exist (deleted, mistyped, made up) are dropped there.
        await social_service.record_views(views, session=session)
    stored = len(kept) if inserted is None else len(inserted)
    return stored, duplicates + len(kept) - stored, rejected


def _window_in(zone: tzinfo | None, window: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    """The clock window's bounds in a fixed-offset zone, else as they are.

    Aware datetimes that share one tzinfo compare without asking it for their offsets, a call
    into pydantic's Rust for each; pydantic gives the values of a body that have the same
    offset one shared tzinfo. A zone with rules (a DST change) answers no fixed offset.
    """
    if zone is None or zone.utcoffset(None) is None:
        return window
    return window[0].astimezone(zone), window[1].astimezone(zone)


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
# Columns with one value for the whole batch go as one parameter each, not as an array of
# copies: asyncpg encodes every array element in turn, with an isinstance check against
# collections.abc (a Python-level call) for each, even a None.
_PG_BATCH_CONSTANTS = ("received_at", "user_id", "visitor_id")
_PG_ARRAY_COLUMNS = [name for name in _COLUMNS if name not in _PG_BATCH_CONSTANTS]
# The other columns (but the id) go as an array, or as one value when the batch has the same
# one in every event (often: no target, no share code, one session): then the array is NULL,
# which unnest reads as all NULLs, and COALESCE takes the value instead.
_PG_SAME_COLUMNS = _PG_ARRAY_COLUMNS[1:]
_PG_TREND_IDS, _PG_TREND_SCORES, _PG_EXPECTED = (
    len(_PG_ARRAY_COLUMNS) + len(_PG_SAME_COLUMNS) + len(_PG_BATCH_CONSTANTS) + 1 + n
    for n in range(3)
)


def _pg_selected(name: str) -> str:
    """The SQL of one inserted column: from the arrays, the same-value parameters or the
    batch's constants ($n in the order _insert_columns sends them)."""
    sql_type = _PG_ARRAY_TYPES[name]
    if name in _PG_BATCH_CONSTANTS:
        number = len(_PG_ARRAY_COLUMNS) + len(_PG_SAME_COLUMNS) + 1
        return f"CAST(${number + _PG_BATCH_CONSTANTS.index(name)} AS {sql_type})"
    if name in _PG_SAME_COLUMNS:
        number = len(_PG_ARRAY_COLUMNS) + 1 + _PG_SAME_COLUMNS.index(name)
        return f"COALESCE(batch.{name}, CAST(${number} AS {sql_type}))"
    return f"batch.{name}"


# Built once from the table's own metadata: no outside text reaches this SQL.
# Sent to the driver as it is: SQLAlchemy's text() parameter handling cost more than asyncpg's
# encoding. The trend increments are added in the same statement only when every event was
# new (then they are exactly what the stored events add); otherwise nothing is added here and
# the caller adds what the new events alone add. It answers one row: how many events were
# stored, and which ones only when not all (building a row per event cost more than the rest).
_PG_ARRAYS = ", ".join(
    f"CAST(${number} AS {_PG_ARRAY_TYPES[name]}[])"
    for number, name in enumerate(_PG_ARRAY_COLUMNS, 1)
)
_PG_TREND_SQL = trending.postgres_add_sql(
    video_ids=f"${_PG_TREND_IDS}",
    scores=f"${_PG_TREND_SCORES}",
    condition=f"(SELECT count(*) FROM stored) = CAST(${_PG_EXPECTED} AS INTEGER)",  # noqa: S608
)
_PG_INSERT_SQL = (
    f"WITH stored AS (INSERT INTO {_TABLE.name} ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"SELECT {', '.join(_pg_selected(name) for name in _COLUMNS)} FROM unnest({_PG_ARRAYS}) "
    f"AS batch({', '.join(_PG_ARRAY_COLUMNS)}) ON CONFLICT (id) DO NOTHING RETURNING id), "
    f"trend AS ({_PG_TREND_SQL}) SELECT count(*), CASE WHEN count(*) < "
    f"CAST(${_PG_EXPECTED} AS INTEGER) THEN array_agg(id) END FROM stored"
)


def _array_or_same(values: list[Any]) -> tuple[list[Any] | None, Any]:
    """(None, the value) when every value is the same one, else (the values, None)."""
    first = values[0]
    if values[-1] == first and values.count(first) == len(values):
        return None, first
    return values, None


async def _insert_columns(
    columns: dict[str, list[Any]], *, trend: dict[uuid.UUID, float], session: AsyncSession
) -> tuple[set[uuid.UUID] | None, bool]:
    """Insert the rows whose id is new (ON CONFLICT DO NOTHING): the ids inserted (None: all
    of them), and whether `trend` (what every row adds to the trends) was added with them
    (PostgreSQL, when every row was new).

    The rows come in id order (see _columns): two batches resending some of the same events (a
    retried beacon) then wait on each other's keys in the same order instead of deadlocking.
    """
    if session.get_bind().dialect.name != "postgresql":
        inserted = await _insert_sqlite(columns, session=session)
        return (None if len(inserted) == len(columns["id"]) else inserted), False
    # The commit waits for the WAL flush like every other: attribution (and so creator
    # commission) is read from these events, so an answered batch must survive a crash.
    arrays: list[list[Any] | None] = [columns["id"]]
    same: list[Any] = []
    for name in _PG_SAME_COLUMNS:
        array, value = _array_or_same(columns[name])
        arrays.append(array)
        same.append(value)
    constants = [columns[name][0] for name in _PG_BATCH_CONSTANTS]
    count = len(columns["id"])
    arguments = (*arrays, *same, *constants, *trending.increment_arrays(trend), count)
    connection = await session.connection()
    result = await connection.exec_driver_sql(_PG_INSERT_SQL, arguments)
    stored, stored_ids = cast(tuple[int, list[uuid.UUID] | None], tuple(result.one()))
    if stored == count:
        return None, True
    # asyncpg's UUIDs subclass uuid.UUID and hash alike: no conversion needed to match rows.
    return set(stored_ids or ()), False


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
