"""Affiliate periodic job, hourly: record approved samples whose 14-day deadline passed
without a video. The plain async function is what the tests call."""

from __future__ import annotations

from huey import crontab

from clipcart.affiliate import samples
from clipcart.core.db import unit_of_work
from clipcart.core.jobs import huey, run_async


async def record_missed_samples() -> int:
    """Mark overdue approved samples missed; how many."""
    async with unit_of_work() as session:
        return await samples.record_missed_samples(session=session)


missed_samples_job = huey.periodic_task(crontab(minute="7"), name="affiliate.missed_samples")(
    run_async(record_missed_samples)
)
