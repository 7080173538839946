"""What stored events add to the trends and the view counters: every event type by the domain's
rule (PostgreSQL counts them in the insert's own statement, from the rows it stored), only the
new events of a retried batch, and the same whether or not the request read the database before
(a signed-in caller's session is looked up first)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.social.models import VideoCounter
from tests.api.test_accounts_auth import new_client, signup
from tests.api.test_events import event, frozen, make_video, post
from tests.api.test_events_batches import assert_trends, trend_of, trend_scores

__all__ = ["frozen"]  # the fixture, used by name below


async def view_counts() -> dict[uuid.UUID, int]:
    async with unit_of_work() as session:
        result = await session.execute(select(VideoCounter.video_id, VideoCounter.views))
        return {video_id: views for video_id, views in result.all()}


async def test_every_event_type_adds_to_the_trends_by_the_domain_rule(
    client: httpx.AsyncClient, frozen: clock.FrozenClock
) -> None:
    now = clock.now()
    sent: list[dict[str, Any]] = []
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("impression", {}),
        ("watch", {"completed": True}),
        ("watch", {"completed": False, "watch_ms": 2999}),
        ("replay", {}),
        ("chip_tap", {}),
        ("sheet_open", {"product_id": str(uuid.uuid4())}),
        ("add_to_cart", {}),
        ("share", {}),
        ("follow", {}),
        ("like", {}),
        ("comment", {}),
        ("visit", {}),
    ]
    for step, (kind, fields) in enumerate(kinds):
        # One video per event (a sum of one), each at its own moment over the last week.
        at = now - timedelta(days=6, hours=23) + timedelta(hours=13 * step, microseconds=step)
        sent.append(event(kind, video_id=str(uuid.uuid4()), occurred_at=at.isoformat(), **fields))
    sent.append(event("chip_tap"))  # no video: no trend
    answer = (await post(client, sent)).json()
    assert answer == {"accepted": len(sent), "duplicates": 0, "rejected": []}

    expected = trend_of(sent)
    # The rule gives weight to these and to nothing else sent here.
    weighted = {"watch", "replay", "chip_tap", "add_to_cart", "share", "follow", "like", "comment"}
    assert len(expected) == len(weighted)
    assert_trends(await trend_scores(), expected)


async def test_a_retried_batch_counts_only_its_new_impressions(
    client: httpx.AsyncClient, app: Any, frozen: clock.FrozenClock
) -> None:
    await signup(client, "creator")
    first, second = await make_video("creator"), await make_video("creator")
    seen = [event(video_id=str(first)), event(video_id=str(first))]
    async with new_client(app) as visitor:
        assert (await post(visitor, seen)).json()["accepted"] == 2
        # Sent again with new ones: the stored two are duplicates and add no views.
        retried = [*seen, event(video_id=str(first)), event(video_id=str(second))]
        answer = (await post(visitor, retried)).json()
    assert answer == {"accepted": 2, "duplicates": 2, "rejected": []}
    assert await view_counts() == {first: 3, second: 1}


async def test_a_signed_in_batch_counts_like_a_visitors(
    client: httpx.AsyncClient, app: Any, frozen: clock.FrozenClock
) -> None:
    # The signed-in caller's session is read from the database before the events are stored.
    await signup(client, "viewer")
    video = await make_video("viewer")
    mine = [event(video_id=str(video)), event("like", video_id=str(video))]
    theirs = [event(video_id=str(video)), event("like", video_id=str(video))]
    assert (await post(client, mine)).json()["accepted"] == 2
    async with new_client(app) as visitor:
        assert (await post(visitor, theirs)).json()["accepted"] == 2

    assert await view_counts() == {video: 2}
    assert_trends(await trend_scores(), trend_of([*mine, *theirs]))
