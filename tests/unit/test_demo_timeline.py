"""The demo's timeline plays its planned steps oldest first, each with the clock at its moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clipcart.core import clock
from clipcart.demo.timeline import Step, Timeline

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_steps_run_oldest_first_at_their_moment_and_ties_keep_the_planned_order() -> None:
    timeline = Timeline(NOW)
    seen: list[tuple[str, datetime]] = []

    def step(name: str) -> Step:
        async def run() -> None:
            seen.append((name, clock.now()))

        return run

    timeline.add(NOW - timedelta(days=1), step("shipped"))
    timeline.add(NOW - timedelta(days=3), step("paid"))
    timeline.add(NOW, step("payout"))
    timeline.add(NOW - timedelta(days=1), step("second at the same moment"))
    before = clock.now()
    assert await timeline.run() == 4
    assert seen == [
        ("paid", NOW - timedelta(days=3)),
        ("shipped", NOW - timedelta(days=1)),
        ("second at the same moment", NOW - timedelta(days=1)),
        ("payout", NOW),
    ]
    assert clock.now() >= before  # the real clock is back
    assert len(timeline) == 0 and await timeline.run() == 0  # played once


def test_a_step_after_now_is_refused() -> None:
    async def nothing() -> None:
        return None

    with pytest.raises(ValueError, match="after the seeding"):
        Timeline(NOW).add(NOW + timedelta(seconds=1), nothing)
