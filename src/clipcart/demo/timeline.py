"""The demo's backdated history, played in the order it happened.

Each step of the story (an order paid, shipped, delivered, a return window closing, a commission
released, a payout sent or paid) is planned at the moment it happened and then run, oldest
first, with the one clock frozen at that moment. The ledger numbers an account's entries in the
order they are written and dates them by the clock, so playing every step in time order is what
makes a statement read the way it happened."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from clipcart.core import clock

Step = Callable[[], Awaitable[None]]


@asynccontextmanager
async def clock_at(moment: datetime) -> AsyncIterator[clock.FrozenClock]:
    """Run the block as if it were `moment` (the clock moves only when told)."""
    with clock.frozen_at(moment) as frozen:
        yield frozen


@dataclass
class Timeline:
    """Steps of the demo's past, each at its moment; `run` plays them oldest first."""

    now: datetime
    _steps: list[tuple[datetime, int, Step]] = field(default_factory=list)

    def add(self, moment: datetime, step: Step) -> None:
        """Plan `step` to happen at `moment` (not after `now`: the demo has no future)."""
        if moment > self.now:
            raise ValueError(f"a demo step at {moment} is after the seeding's now {self.now}")
        self._steps.append((moment, len(self._steps), step))

    def __len__(self) -> int:
        return len(self._steps)

    async def run(self) -> int:
        """Play every planned step at its moment, oldest first (planned order breaks ties);
        how many ran."""
        steps, self._steps = sorted(self._steps, key=lambda planned: planned[:2]), []
        for moment, _, step in steps:
            async with clock_at(moment):
                await step()
        return len(steps)
