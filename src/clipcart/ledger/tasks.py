"""Ledger jobs: the daily balance check, payouts moving through the provider, automatic payouts."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from huey import crontab
from sqlalchemy.exc import IntegrityError

from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.core.errors import AppError
from clipcart.core.jobs import huey, run_async
from clipcart.ledger import payouts
from clipcart.ledger.config import get_ledger_settings
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


async def check_payout(payout_id: str) -> str | None:
    """Move one payout a step on (submit it, or learn whether it arrived)."""
    async with unit_of_work() as session:
        status = await payouts.advance_payout(uuid.UUID(payout_id), session=session)
    if status == "in_transit":
        schedule_payout_check(uuid.UUID(payout_id))
    return status


async def advance_open_payouts() -> dict[str, int]:
    """One step for every payout not yet paid or failed; how many ended in each status."""
    async with unit_of_work() as session:
        open_ids = await payouts.open_payout_ids(session=session)
    counts: dict[str, int] = {}
    for payout_id in open_ids:
        try:
            async with unit_of_work() as session:
                status = await payouts.advance_payout(payout_id, session=session)
        except Exception:
            log.exception("payout step failed", extra={"payout_id": str(payout_id)})
            continue
        if status is not None:
            counts[status] = counts.get(status, 0) + 1
    return counts


async def run_scheduled_payouts(now: datetime | None = None) -> list[uuid.UUID]:
    """Pay out every automatic payee once per period; each payee in its own transaction, so
    running this twice (or on two workers) pays each payee once."""
    when = now or clock.now()
    async with unit_of_work() as session:
        due = await payouts.active_schedules(session=session)
    created: list[uuid.UUID] = []
    for payee, currency in due:
        try:
            async with unit_of_work() as session:
                payout = await payouts.pay_out_on_schedule(
                    payee, currency, now=when, session=session
                )
                if payout is not None:
                    created.append(payout.id)
        except IntegrityError:
            log.info("automatic payout already made by another worker", extra={"payee": str(payee)})
        except AppError as error:
            log.warning(
                "automatic payout skipped",
                extra={"payee": str(payee), "currency": currency, "reason": error.message},
            )
    return created


check_payout_job = huey.task(retries=5, retry_delay=60, name="ledger.check_payout")(
    run_async(check_payout)
)

advance_payouts_job = huey.periodic_task(crontab(minute="*"), name="ledger.advance_payouts")(
    run_async(advance_open_payouts)
)

scheduled_payouts_job = huey.periodic_task(crontab(minute="7"), name="ledger.scheduled_payouts")(
    run_async(run_scheduled_payouts)
)


def schedule_payout_check(payout_id: uuid.UUID) -> None:
    """Look at the payout again a little later (the provider answers asynchronously)."""
    delay = get_ledger_settings().payout_check_delay_seconds
    check_payout_job.schedule(args=(str(payout_id),), delay=delay)
