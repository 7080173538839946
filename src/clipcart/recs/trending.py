"""Trending: each video's time-decayed engagement, added to as events arrive, read top first."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.db import fixed_limit
from clipcart.recs import domain
from clipcart.recs.models import VideoTrend

_TABLE = cast(Table, VideoTrend.__table__)


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
    insert: Any = postgresql.insert(_TABLE) if dialect == "postgresql" else sqlite.insert(_TABLE)
    statement = insert.values(video_id=bindparam("trend_video_id"), score=bindparam("trend_score"))
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
