"""`clipcart simulate` against the app in-process: simulated buyers watch, like and buy through
the API, the shops' sellers ship, the buyers confirm, and it all lands in the database."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from clipcart.commerce.models import Order
from clipcart.core.db import unit_of_work
from clipcart.demo.simulation import simulate
from clipcart.demo.world import WorldSize, build_world
from clipcart.recs.models import RecsEvent
from clipcart.social.models import VideoCounter, VideoLike
from tests.commerce_factories import commerce_sandbox

__all__ = ["commerce_sandbox"]  # the fixture this module uses

TINY = WorldSize(shops=2, products=6, creators=2, videos=10, users=3, events=200, media=False)


async def _count(statement: Any) -> int:
    async with unit_of_work() as session:
        return int(await session.scalar(statement) or 0)


async def test_simulated_people_watch_like_buy_ship_and_confirm(app: Any) -> None:
    report = await build_world(TINY, seed=3)
    orders_before = await _count(select(func.count()).select_from(Order))
    events_before = await _count(select(func.count()).select_from(RecsEvent))
    stats = await simulate(
        "http://testserver",
        users=2,
        minutes=0.05,
        pace=0,
        buy_chance=0.5,
        transport=httpx.ASGITransport(app=app),
    )
    assert stats.logins >= 2 and stats.feed_pages > 0, stats
    assert stats.errors == 0, stats.last_error
    assert stats.orders >= 1 and stats.shipped >= 1 and stats.confirmed >= 1, stats
    # What they did is in the database, not only in the simulator's tally.
    placed = await _count(select(func.count()).select_from(Order)) - orders_before
    assert placed == stats.orders
    delivered = await _count(
        select(func.count()).select_from(Order).where(Order.status == "delivered")
    )
    assert delivered == stats.confirmed
    assert await _count(select(func.count()).select_from(RecsEvent)) >= events_before + stats.events
    likes = await _count(select(func.count()).select_from(VideoLike))
    counted = await _count(select(func.coalesce(func.sum(VideoCounter.likes), 0)))
    assert likes == counted  # counters stay exact with the API adding likes
    assert report.counts["videos"] == TINY.videos
