"""Trending: each video's time-decayed engagement, added to as events arrive, read top first."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.db import fixed_limit, insert_for
from clipcart.recs import domain
from clipcart.recs.models import VideoTrend

_TABLE = cast(Table, VideoTrend.__table__)


def postgres_add_events_sql(events: str) -> str:
    """PostgreSQL: add to the trends what the events of `events` (a relation with the columns
    type, video_id, completed and occurred_at of recs_events) add, in one statement.

    The rule of `domain.trend_increments` written in SQL from the same constants, so the insert
    of a batch counts exactly the rows it stored in its own statement (a step of its WITH).
    Each event's units are computed as trend_units does (seconds since the epoch as an exact
    numeric, then double precision and pow()), so they come out the same to the last bit.
    Rows go in video id order so that concurrent batches take the row locks in the same order.
    """
    table = _TABLE.name
    weights = " ".join(
        f"WHEN {code} THEN CAST({weight!r} AS DOUBLE PRECISION)"
        for code, weight in sorted(domain.TREND_WEIGHTS.items())
    )
    weight = (
        f"CASE WHEN type = {domain.WATCH_CODE} AND completed "
        f"THEN CAST({domain.TREND_COMPLETED_WATCH!r} AS DOUBLE PRECISION) "
        f"ELSE CASE type {weights} ELSE CAST(0 AS DOUBLE PRECISION) END END"
    )
    hours = (
        f"CAST(EXTRACT(EPOCH FROM engaged.occurred_at) - {domain.TREND_EPOCH.timestamp()!r} "
        "AS DOUBLE PRECISION) / CAST(3600 AS DOUBLE PRECISION)"
    )
    units = (
        f"power(CAST(2 AS DOUBLE PRECISION), ({hours}) / "
        f"CAST({domain.TREND_HALF_LIFE_HOURS!r} AS DOUBLE PRECISION))"
    )
    # Built from the domain's constants and the caller's relation: no outside text.
    return (
        f"INSERT INTO {table} (video_id, score) SELECT engaged.video_id, "  # noqa: S608
        f"sum(engaged.weight * {units}) FROM (SELECT video_id, occurred_at, {weight} AS weight "
        f"FROM {events} WHERE video_id IS NOT NULL) AS engaged "
        "WHERE engaged.weight > 0 GROUP BY engaged.video_id ORDER BY engaged.video_id "
        f"ON CONFLICT (video_id) DO UPDATE SET score = {table}.score + excluded.score"
    )


async def add_engagement(increments: dict[uuid.UUID, float], *, session: AsyncSession) -> None:
    """Add a batch's engagement (in trend units) to the videos' counters.

    One statement, built once and run for all rows (executemany): building a multi-row
    statement per batch cost more than the event insert itself. Rows go in video id order so
    that concurrent batches take the row locks in the same order.
    """
    rows = [
        {"trend_video_id": video_id, "trend_score": increments[video_id]}
        for video_id in sorted(increments)
        if increments[video_id] > 0
    ]
    if rows:
        dialect = session.get_bind().dialect.name
        await session.execute(_upsert(dialect), rows)


@functools.cache
def _upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (video_id) DO UPDATE SET score = score + excluded.score."""
    statement = insert_for(dialect)(_TABLE).values(
        video_id=bindparam("trend_video_id"), score=bindparam("trend_score")
    )
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.video_id],
        set_={"score": _TABLE.c.score + statement.excluded.score},
    )


async def top_videos(
    *, limit: int, now: datetime, session: AsyncSession
) -> list[tuple[uuid.UUID, float]]:
    """The `limit` most trending videos with their decayed engagement at `now`, highest first."""
    statement = select(_TABLE.c.video_id, _TABLE.c.score).order_by(_TABLE.c.score.desc())
    rows = await session.execute(statement.limit(fixed_limit(limit)))
    return [(video_id, domain.current_trend(score, now)) for video_id, score in rows]


async def trend_of(
    video_ids: Collection[uuid.UUID], *, now: datetime, session: AsyncSession
) -> dict[uuid.UUID, float]:
    """The decayed engagement at `now` of these videos (absent: no engagement yet)."""
    if not video_ids:
        return {}
    statement = select(_TABLE.c.video_id, _TABLE.c.score).where(
        _TABLE.c.video_id.in_(set(video_ids))
    )
    rows = await session.execute(statement)
    return {video_id: domain.current_trend(score, now) for video_id, score in rows}
