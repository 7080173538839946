"""Recommender jobs: retrain the collaborative model from the event log every half hour."""

from __future__ import annotations

import logging

from huey import crontab

from clipcart.core.db import unit_of_work
from clipcart.core.jobs import huey, run_async
from clipcart.recs import training

log = logging.getLogger(__name__)


async def retrain() -> training.TrainingReport | None:
    """Train and publish a new model (serving processes pick it up within seconds)."""
    async with unit_of_work() as session:
        return await training.train(session=session)


async def retrain_recommender() -> None:
    """The periodic retraining: a new model every half hour, nothing when there is no data."""
    report = await retrain()
    if report is None:
        log.info("recommender not trained: no interactions yet")


retrain_recommender_job = huey.periodic_task(crontab(minute="*/30"), name="recs.retrain")(
    run_async(retrain_recommender)
)
