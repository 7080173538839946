"""The reading side of the event log: a user's recent events, and keyset iteration over time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.recs import service
from clipcart.recs.schemas import EventIn, event_adapter

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


def _event(minutes_ago: float, kind: str = "impression", **fields: object) -> EventIn:
    return event_adapter.validate_python(
        {
            "id": str(uuid.uuid4()),
            "type": kind,
            "occurred_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
            "video_id": str(uuid.uuid4()),
            "surface": "following",
            **fields,
        }
    )


async def _store(events: list[EventIn], user_id: uuid.UUID | None) -> None:
    async with unit_of_work() as session:
        accepted, _, rejected = await service.record_events(
            list(enumerate(events)), user_id=user_id, visitor_id=None, session=session
        )
    assert accepted == len(events) and rejected == []


async def test_recent_events_for_user_are_theirs_newest_first_since_a_time() -> None:
    me, someone = uuid.uuid4(), uuid.uuid4()
    mine = [_event(minutes) for minutes in (50, 5, 30, 90)]
    mine.append(_event(20, "watch", watch_ms=1200, completed=True))
    await _store(mine, me)
    await _store([_event(1), _event(2)], someone)
    async with unit_of_work() as session:
        recent = await service.recent_events_for_user(
            me, since=NOW - timedelta(hours=1), session=session
        )
        limited = await service.recent_events_for_user(
            me, since=NOW - timedelta(days=1), limit=2, session=session
        )
    assert [e.occurred_at for e in recent] == [NOW - timedelta(minutes=m) for m in (5, 20, 30, 50)]
    assert {e.user_id for e in recent} == {me}
    watch = recent[1]
    assert (watch.type, watch.watch_ms, watch.completed, watch.surface) == (
        "watch",
        1200,
        True,
        "following",
    )
    assert [e.id for e in limited] == [recent[0].id, recent[1].id]


async def test_iter_events_walks_a_window_in_order_across_ties_and_batches() -> None:
    # Several events share one instant: no batch boundary may skip or repeat any of them.
    events = [_event(minutes) for minutes in (10, 10, 10, 10, 10, 8, 6, 6, 3, 200, 0)]
    await _store(events, None)
    since, until = NOW - timedelta(minutes=10), NOW
    expected = sorted(
        ((e.occurred_at, e.id) for e in events if since <= e.occurred_at < until),
    )
    for batch_size in (1, 2, 3, 4, 100):
        seen: list[tuple[datetime, uuid.UUID]] = []
        async with unit_of_work() as session:
            async for batch in service.iter_events(
                since=since, until=until, batch_size=batch_size, session=session
            ):
                assert 0 < len(batch) <= batch_size
                seen.extend((e.occurred_at, e.id) for e in batch)
        assert seen == expected, batch_size
    assert len(expected) == 9


async def test_iter_events_on_an_empty_window_yields_nothing() -> None:
    async with unit_of_work() as session:
        batches = [b async for b in service.iter_events(since=NOW, until=NOW, session=session)]
        assert batches == []
        with pytest.raises(ValueError):
            async for _ in service.iter_events(since=NOW, until=NOW, batch_size=0, session=session):
                pass
