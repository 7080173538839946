"""Automatic payouts: once per payee and period above the minimums, whatever runs the job."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy import select

from clipcart.core.db import unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service, tasks
from clipcart.ledger.domain import Owner
from clipcart.ledger.models import LedgerPayout
from clipcart.ledger.payouts import schedule_period
from clipcart.ledger.schemas import PayoutScheduleIn

MONDAY = datetime(2026, 11, 23, 9, 7, tzinfo=UTC)


async def earn_commission(creator: Owner, commission: int, currency: str = "USD") -> None:
    """A released order that pays `creator` a commission."""
    order_ref = f"ord_{uuid.uuid4().hex[:12]}"
    async with unit_of_work() as session:
        await service.hold_payment(
            order_ref=order_ref,
            amount=Money(commission * 4, currency),
            shop_id=uuid.uuid4(),
            creator_id=creator.id,
            commission=Money(commission, currency),
            fee_rate=Decimal("0.05"),
            session=session,
        )
    async with unit_of_work() as session:
        await service.release_order_funds(order_ref=order_ref, session=session)


async def set_schedule(
    payee: Owner, frequency: Literal["off", "daily", "weekly"], minimum: int = 0
) -> None:
    async with unit_of_work() as session:
        await service.set_payout_schedule(
            payee,
            PayoutScheduleIn(currency="USD", frequency=frequency, minimum=minimum),
            session=session,
        )


async def available(payee: Owner) -> int:
    async with unit_of_work() as session:
        return (await service.get_payee_balance(payee, "USD", session=session)).available.amount


async def payouts_of(payee: Owner) -> list[LedgerPayout]:
    async with unit_of_work() as session:
        rows = await session.scalars(
            select(LedgerPayout).where(LedgerPayout.owner_id == payee.id).order_by(LedgerPayout.id)
        )
        return list(rows.all())


def test_periods_are_utc_days_and_iso_weeks() -> None:
    assert schedule_period("daily", MONDAY) == "daily:2026-11-23"
    assert schedule_period("weekly", MONDAY) == "weekly:2026-W48"
    assert schedule_period("weekly", MONDAY + timedelta(days=6, hours=14)) == "weekly:2026-W48"
    assert schedule_period("weekly", MONDAY + timedelta(days=7)) == "weekly:2026-W49"
    assert schedule_period("off", MONDAY) is None


async def test_daily_payout_pays_the_whole_balance_once_a_day() -> None:
    creator = Owner.creator(uuid.uuid4())
    await set_schedule(creator, "daily", minimum=2_000)
    await earn_commission(creator, 3_000)

    first = await tasks.run_scheduled_payouts(MONDAY)
    again = await tasks.run_scheduled_payouts(MONDAY + timedelta(hours=5))
    assert len(first) == 1 and again == []
    [payout] = await payouts_of(creator)
    assert (payout.amount, payout.schedule_period) == (3_000, "daily:2026-11-23")
    assert await available(creator) == 0

    await earn_commission(creator, 2_500)
    assert await tasks.run_scheduled_payouts(MONDAY + timedelta(hours=6)) == []  # same day
    assert len(await tasks.run_scheduled_payouts(MONDAY + timedelta(days=1))) == 1
    assert [p.amount for p in await payouts_of(creator)] == [3_000, 2_500]
    async with unit_of_work() as session:
        assert await service.verify_ledger(session=session) == []


async def test_weekly_payout_once_per_iso_week() -> None:
    creator = Owner.creator(uuid.uuid4())
    await set_schedule(creator, "weekly")
    await earn_commission(creator, 1_500)
    assert len(await tasks.run_scheduled_payouts(MONDAY)) == 1
    await earn_commission(creator, 1_800)
    assert await tasks.run_scheduled_payouts(MONDAY + timedelta(days=6)) == []  # Sunday
    assert len(await tasks.run_scheduled_payouts(MONDAY + timedelta(days=7))) == 1
    assert [p.schedule_period for p in await payouts_of(creator)] == [
        "weekly:2026-W48",
        "weekly:2026-W49",
    ]


async def test_nothing_is_paid_when_off_or_below_a_minimum() -> None:
    off = Owner.creator(uuid.uuid4())
    await set_schedule(off, "daily")
    await earn_commission(off, 5_000)
    await set_schedule(off, "off")
    under_own_minimum = Owner.creator(uuid.uuid4())
    await set_schedule(under_own_minimum, "daily", minimum=10_000)
    await earn_commission(under_own_minimum, 9_999)
    under_platform_minimum = Owner.creator(uuid.uuid4())
    await set_schedule(under_platform_minimum, "daily")
    await earn_commission(under_platform_minimum, 999)  # the configured minimum is $10
    never_set = Owner.creator(uuid.uuid4())
    await earn_commission(never_set, 5_000)

    assert await tasks.run_scheduled_payouts(MONDAY) == []
    for payee, left in [
        (off, 5_000),
        (under_own_minimum, 9_999),
        (under_platform_minimum, 999),
        (never_set, 5_000),
    ]:
        assert await available(payee) == left
        assert await payouts_of(payee) == []


async def test_one_payee_in_debt_does_not_stop_the_others() -> None:
    seller = Owner.shop(uuid.uuid4())
    order_ref = "ord_debt"
    async with unit_of_work() as session:
        await service.hold_payment(
            order_ref=order_ref, amount=Money(10_000, "USD"), shop_id=seller.id,
            fee_rate=Decimal("0.05"), session=session,
        )  # fmt: skip
    async with unit_of_work() as session:
        await service.release_order_funds(order_ref=order_ref, session=session)
    async with unit_of_work() as session:
        await service.create_payout(payee=seller, amount=Money(9_500, "USD"), session=session)
    async with unit_of_work() as session:
        await service.refund_order(
            order_ref=order_ref, amount=Money(10_000, "USD"), refund_ref="r", session=session
        )
    await set_schedule(seller, "daily")
    creator = Owner.creator(uuid.uuid4())
    await set_schedule(creator, "daily")
    await earn_commission(creator, 4_000)

    created = await tasks.run_scheduled_payouts(MONDAY)
    assert len(created) == 1
    assert await available(seller) == -9_500
    assert [p.amount for p in await payouts_of(creator)] == [4_000]


async def test_two_workers_running_at_once_pay_once() -> None:
    creators = [Owner.creator(uuid.uuid4()) for _ in range(3)]
    for creator in creators:
        await set_schedule(creator, "daily")
        await earn_commission(creator, 2_000)
    results = await asyncio.gather(
        tasks.run_scheduled_payouts(MONDAY), tasks.run_scheduled_payouts(MONDAY)
    )
    assert sum(len(result) for result in results) == 3
    for creator in creators:
        assert [p.amount for p in await payouts_of(creator)] == [2_000]
        assert await available(creator) == 0
    async with unit_of_work() as session:
        assert await service.verify_ledger(session=session) == []


def test_payout_jobs_are_registered_with_the_scheduler() -> None:
    from clipcart.core.jobs import huey, load_task_modules

    load_task_modules()
    at_seven = {task.name for task in huey.read_periodic(datetime(2030, 1, 1, 15, 7))}
    at_eight = {task.name for task in huey.read_periodic(datetime(2030, 1, 1, 15, 8))}
    assert {"ledger.scheduled_payouts", "ledger.advance_payouts"} <= at_seven
    assert "ledger.advance_payouts" in at_eight
    assert "ledger.scheduled_payouts" not in at_eight
