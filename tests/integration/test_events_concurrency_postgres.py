"""Event batches on PostgreSQL, many at once over the same videos, some events retried in other
batches: no batch fails (no deadlock between the trend and view counters), every event is
stored once, and the trends and views count each stored event exactly once."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clipcart.accounts.models import User
from clipcart.core.clock import now
from clipcart.core.db import unit_of_work
from clipcart.media.models import Video
from clipcart.recs import domain
from clipcart.recs import service as recs_service
from clipcart.recs.models import RecsEvent, VideoTrend
from clipcart.recs.schemas import EventIn, event_adapter
from clipcart.social.models import VideoCounter
from tests.services import require_postgres

pytestmark = pytest.mark.postgres

KINDS = ("impression", "like", "replay", "watch", "share")


@pytest.fixture(autouse=True)
def _postgres() -> None:
    require_postgres()


async def _videos(count: int) -> list[uuid.UUID]:
    async with unit_of_work() as session:
        owner = User(
            email="owner@example.com", handle="owner", display_name="Owner", password_hash="-"
        )
        session.add(owner)
        await session.flush()
        videos = [
            Video(owner_id=owner.id, status="ready", visibility="public", ready_at=now())
            for _ in range(count)
        ]
        session.add_all(videos)
        await session.flush()
        return [video.id for video in videos]


def _event(chooser: random.Random, video_id: uuid.UUID) -> EventIn:
    kind = chooser.choice(KINDS)
    fields: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "video_id": str(video_id),
        "occurred_at": (now() - timedelta(minutes=chooser.randint(0, 3000))).isoformat(),
    }
    if kind == "watch":
        fields |= {"watch_ms": 3000, "duration_ms": 3000, "completed": chooser.random() < 0.5}
    if kind == "share":
        fields["channel"] = "copy_link"
    return event_adapter.validate_python(fields)


async def _ingest(events: list[EventIn]) -> tuple[int, int]:
    async with unit_of_work() as session:
        accepted, duplicates, rejected = await recs_service.record_events(
            list(enumerate(events)), user_id=None, visitor_id=uuid.uuid4(), session=session
        )
        assert rejected == []
        return accepted, duplicates


async def test_concurrent_batches_add_each_event_to_trends_and_views_once() -> None:
    videos = await _videos(8)
    chooser = random.Random(5)
    events = [_event(chooser, chooser.choice(videos)) for _ in range(900)]
    # 30 batches from 30 connections; a third of the events are sent again in another batch
    # (a retried beacon), so some batches add their trends in the insert and others after it.
    batches: list[list[EventIn]] = [[] for _ in range(30)]
    for index, item in enumerate(events):
        for batch in chooser.sample(batches, 2 if index % 3 == 0 else 1):
            batch.append(item)
    for batch in batches:
        chooser.shuffle(batch)

    outcomes = await asyncio.gather(*(_ingest(batch) for batch in batches))

    sent = sum(len(batch) for batch in batches)
    assert sum(accepted for accepted, _ in outcomes) == len(events)
    assert sum(duplicates for _, duplicates in outcomes) == sent - len(events)
    async with unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(RecsEvent)) == len(events)
        trends = dict((await session.execute(select(VideoTrend.video_id, VideoTrend.score))).all())
        views = dict(
            (await session.execute(select(VideoCounter.video_id, VideoCounter.views))).all()
        )
    expected_trends = domain.trend_increments(
        (
            domain.EVENT_TYPE_CODES[item.type],
            item.video_id,
            getattr(item, "completed", None),
            item.occurred_at,
        )
        for item in events
    )
    assert trends.keys() == expected_trends.keys()
    for video_id, score in expected_trends.items():
        assert trends[video_id] == pytest.approx(score, rel=1e-9)
    assert views == dict(Counter(item.video_id for item in events if item.type == "impression"))
