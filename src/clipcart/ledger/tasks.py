"""Ledger jobs: a daily check that the stored balances still match the entries."""

from __future__ import annotations

import logging

from huey import crontab

from clipcart.core.db import unit_of_work
from clipcart.core.jobs import huey, run_async
from clipcart.ledger.verification import verify_ledger

log = logging.getLogger(__name__)


async def check_ledger() -> int:
    """Run `verify_ledger` and log what it found; returns the number of discrepancies."""
    async with unit_of_work() as session:
        found = await verify_ledger(session=session)
    if not found:
        log.info("ledger check passed")
        return 0
    log.error(
        "ledger check found %d discrepancies",
        len(found),
        extra={"discrepancies": [item.model_dump() for item in found[:50]]},
    )
    return len(found)


verify_ledger_daily = huey.periodic_task(
    crontab(hour="3", minute="17"), name="ledger.verify_daily"
)(run_async(check_ledger))
