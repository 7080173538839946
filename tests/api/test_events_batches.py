"""POST /api/v1/events stores each column as sent however a batch is shaped (values shared by
every event, mixed with missing ones, one event alone), and adds each new event to the trends
exactly once (a retried batch adds only its new events)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.recs import domain
from clipcart.recs.models import VideoTrend
from tests.api.test_accounts_auth import signup
from tests.api.test_events import event, frozen, make_video, post, stored

__all__ = ["frozen"]  # the fixture, used by name below

# Columns a client sends, with how the stored row shows them.
SENT_COLUMNS = (
    "session_id",
    "position",
    "video_id",
    "product_id",
    "variant_id",
    "target_id",
    "watch_ms",
    "duration_ms",
    "completed",
    "channel",
    "share_code",
)
UUID_COLUMNS = {"video_id", "product_id", "variant_id", "target_id"}


def expected_row(sent: dict[str, Any]) -> dict[str, Any]:
    """What the stored row of one sent event holds, column by column."""
    row: dict[str, Any] = {
        "type": domain.EVENT_TYPE_CODES[sent["type"]],
        "occurred_at": datetime.fromisoformat(sent["occurred_at"]),
        "surface": domain.SURFACE_CODES[sent["surface"]] if sent.get("surface") else None,
    }
    for name in SENT_COLUMNS:
        value = sent.get(name)
        row[name] = uuid.UUID(value) if name in UUID_COLUMNS and value else value
    if sent["type"] == "watch":
        row["completed"] = sent.get("completed", False)
    return row


async def stored_rows() -> dict[str, dict[str, Any]]:
    """Every stored event by id, with the columns expected_row describes."""
    return {
        str(row.id): {name: getattr(row, name) for name in ("type", "occurred_at", "surface")}
        | {name: getattr(row, name) for name in SENT_COLUMNS}
        for row in await stored()
    }


async def test_every_column_is_stored_as_sent_whatever_the_batch_shares(
    client: httpx.AsyncClient, frozen: clock.FrozenClock
) -> None:
    video, other_video, product = (str(uuid.uuid4()) for _ in range(3))
    now = clock.now()

    def at(seconds: int) -> str:
        return (now - timedelta(seconds=seconds)).isoformat()

    # Every optional column the same in every event (and the time too).
    shared = [
        event("watch", video_id=video, watch_ms=1000, duration_ms=3000, product_id=product)
        for _ in range(4)
    ]
    # The same value first and last with another between, missing values among present ones,
    # columns that only some types have, and no session or surface at all on some.
    mixed = [
        event("watch", video_id=video, watch_ms=500, occurred_at=at(1), position=2),
        event("impression", video_id=other_video, occurred_at=at(2), position=5),
        event("share", video_id=video, channel="copy_link", session_id="s-2", occurred_at=at(1)),
        event("watch", video_id=video, watch_ms=500, completed=True, occurred_at=at(3)),
        event("chip_tap", product_id=product, target_id=str(uuid.uuid4()), surface="profile"),
        event("visit", share_code="code1", surface=None, session_id=None, position=None),
        event("watch", video_id=video, watch_ms=500, occurred_at=at(1), position=2),
    ]
    # One event alone: every column has one value for the batch.
    alone = [event("add_to_cart", product_id=product, variant_id=str(uuid.uuid4()))]
    for batch in (shared, mixed, alone):
        response = await post(client, batch)
        assert response.json() == {"accepted": len(batch), "duplicates": 0, "rejected": []}

    rows = await stored_rows()
    sent = [*shared, *mixed, *alone]
    assert rows == {item["id"]: expected_row(item) for item in sent}


async def trend_scores() -> dict[uuid.UUID, float]:
    async with unit_of_work() as session:
        result = await session.execute(select(VideoTrend.video_id, VideoTrend.score))
        return {video_id: score for video_id, score in result.all()}


def trend_of(events: list[dict[str, Any]]) -> dict[uuid.UUID, float]:
    """What these events add to each video's trend, by the domain's rule."""
    return domain.trend_increments(
        (
            domain.EVENT_TYPE_CODES[item["type"]],
            uuid.UUID(item["video_id"]) if item.get("video_id") else None,
            item.get("completed", False) if item["type"] == "watch" else None,
            datetime.fromisoformat(item["occurred_at"]),
        )
        for item in events
    )


def assert_trends(actual: dict[uuid.UUID, float], expected: dict[uuid.UUID, float]) -> None:
    assert actual.keys() == expected.keys()
    for video_id, score in expected.items():
        assert actual[video_id] == pytest.approx(score, rel=1e-12)


async def test_each_new_event_adds_to_the_trends_once(
    client: httpx.AsyncClient, frozen: clock.FrozenClock
) -> None:
    await signup(client, "creator")
    hit, other = str(await make_video("creator")), str(await make_video("creator"))
    earlier = (clock.now() - timedelta(hours=30)).isoformat()
    first = [
        event("like", video_id=hit),
        event("share", video_id=hit, channel="native", occurred_at=earlier),
        event("watch", video_id=hit, completed=True),
        event("watch", video_id=other),  # not completed: no engagement
        event("chip_tap", video_id=other),
        event("impression", video_id=other),  # a view, not engagement
    ]
    assert (await post(client, first)).json()["accepted"] == len(first)
    assert_trends(await trend_scores(), trend_of(first))

    # A retried batch with one new event: only the new one adds.
    new = event("replay", video_id=other)
    retry = await post(client, [*first[:3], new])
    assert retry.json() == {"accepted": 1, "duplicates": 3, "rejected": []}
    totals = trend_of(first)
    for video_id, score in trend_of([new]).items():
        totals[video_id] = totals.get(video_id, 0.0) + score
    assert_trends(await trend_scores(), totals)

    # The whole batch again: nothing new, nothing added.
    assert (await post(client, first)).json()["duplicates"] == len(first)
    assert_trends(await trend_scores(), totals)


async def test_the_clock_window_holds_to_the_microsecond_in_every_zone(
    client: httpx.AsyncClient, frozen: clock.FrozenClock
) -> None:
    now = frozen.now()
    tiny = timedelta(microseconds=1)
    edges = {
        "ahead": now + timedelta(hours=1),
        "back": now - timedelta(days=7),
        "too far": now + timedelta(hours=1) + tiny,
        "too old": now - timedelta(days=7) - tiny,
    }
    zones = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
    sent = [
        (name, event(occurred_at=at.astimezone(zone).isoformat()))
        for zone in zones
        for name, at in edges.items()
    ]
    body = (await post(client, [item for _, item in sent])).json()
    assert body["accepted"] == 2 * len(zones)
    rejected = {item["index"] for item in body["rejected"]}
    assert rejected == {index for index, (name, _) in enumerate(sent) if name.startswith("too")}
