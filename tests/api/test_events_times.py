"""Every event is stored at the instant it happened, whatever zone its time was given in: fixed
offsets (what a page sends) and, through the service, zones with rules across a DST change
(PostgreSQL receives the times as microseconds since its epoch, counted per zone)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.recs import service
from clipcart.recs.models import RecsEvent
from clipcart.recs.schemas import event_adapter

# The day Paris leaves summer time (+02:00 -> +01:00 at 01:00 UTC), held still.
NOW = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def after_dst_change() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


async def test_each_event_is_stored_at_its_instant_in_any_zone(after_dst_change: None) -> None:
    paris = ZoneInfo("Europe/Paris")
    instants = [
        NOW - timedelta(days=2, microseconds=1),  # summer time in Paris
        NOW - timedelta(hours=11, minutes=30),  # just before the change
        NOW - timedelta(hours=10, minutes=30),  # just after it
        NOW - timedelta(minutes=1, microseconds=999_999),
    ]
    zones = [paris, timezone(timedelta(hours=5, minutes=45)), timezone(-timedelta(hours=3)), UTC]
    sent: dict[uuid.UUID, datetime] = {}
    events = []
    for zone in zones:
        for instant in instants:
            event_id = uuid.uuid4()
            item = event_adapter.validate_python(
                {
                    "id": str(event_id),
                    "type": "impression",
                    "occurred_at": NOW,
                    "video_id": str(uuid.uuid4()),
                }
            )
            # The service is given the time in the zone as it is (pydantic would fix the offset).
            events.append(item.model_copy(update={"occurred_at": instant.astimezone(zone)}))
            sent[event_id] = instant
    async with unit_of_work() as session:
        accepted, duplicates, rejected = await service.record_events(
            list(enumerate(events)), user_id=None, visitor_id=uuid.uuid4(), session=session
        )
    assert (accepted, duplicates, rejected) == (len(events), 0, [])

    async with unit_of_work() as session:
        rows = (await session.execute(select(RecsEvent.id, RecsEvent.occurred_at))).all()
    assert {event_id: occurred_at for event_id, occurred_at in rows} == sent
