"""Races on PostgreSQL: real concurrent transactions on separate connections."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.db import unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service
from clipcart.ledger.domain import (
    AccountKey,
    AccountKind,
    Owner,
    TransferKind,
    simple_transfer,
    split_transfer,
)
from clipcart.ledger.errors import (
    AlreadyResolved,
    InsufficientFunds,
    InvalidTransfer,
    WrongState,
)
from clipcart.ledger.models import LedgerTransfer
from clipcart.ledger.schemas import TransferOut
from tests.services import require_postgres

pytestmark = pytest.mark.postgres
USD = "USD"


@pytest.fixture(autouse=True)
def _postgres() -> None:
    require_postgres()


def usd(amount: int) -> Money:
    return Money(amount, USD)


async def _in_own_transaction(work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    async with unit_of_work() as session:
        return await work(session)


async def _race(works: list[Callable[[AsyncSession], Awaitable[Any]]]) -> list[Any]:
    return await asyncio.gather(
        *(_in_own_transaction(work) for work in works), return_exceptions=True
    )


async def _verify() -> None:
    async with unit_of_work() as session:
        assert await service.verify_ledger(session=session) == []


async def _released_order(order_ref: str, shop: uuid.UUID, amount: int) -> None:
    async with unit_of_work() as session:
        await service.hold_payment(
            order_ref=order_ref,
            amount=usd(amount),
            shop_id=shop,
            fee_rate=Decimal("0.05"),
            session=session,
        )
    async with unit_of_work() as session:
        await service.release_order_funds(order_ref=order_ref, session=session)


async def test_sixty_concurrent_payouts_never_exceed_the_available_balance() -> None:
    shop = uuid.uuid4()
    await _released_order("big-order", shop, 100_000)  # seller available: 95_000
    seller = Owner.shop(shop)

    def payout(number: int) -> Callable[[AsyncSession], Awaitable[TransferOut]]:
        async def work(session: AsyncSession) -> TransferOut:
            return await service.request_payout(
                payee=seller, amount=usd(2_000), payout_ref=f"p-{number}", session=session
            )

        return work

    results = await _race([payout(number) for number in range(60)])
    succeeded = [r for r in results if isinstance(r, TransferOut)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(succeeded) + len(refused) == 60, [r for r in results if isinstance(r, Exception)]
    assert len(succeeded) == 47  # every payout that fits goes through, none beyond
    async with unit_of_work() as session:
        balance = await service.get_account_balance(
            AccountKey(AccountKind.SELLER_BALANCE, seller, USD), session=session
        )
    assert balance is not None and balance.posted == 95_000 - 47 * 2_000
    await _verify()


async def test_concurrent_postings_with_one_idempotency_key_create_one_transfer() -> None:
    async with unit_of_work() as session:
        accounts = await service.get_or_create_accounts(
            [
                AccountKey(AccountKind.PROVIDER_CLEARING, Owner.platform(), USD),
                AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(uuid.uuid4()), USD),
            ],
            session=session,
        )
    clearing, seller = (account.id for account in accounts.values())
    draft = simple_transfer(
        "same-key", TransferKind.ADJUSTMENT, debit=clearing, credit=seller, amount=usd(700)
    )

    async def post(session: AsyncSession) -> TransferOut:
        return await service.post_transfer(draft, session=session)

    results = await _race([post] * 40)
    assert all(isinstance(r, TransferOut) for r in results), results
    assert len({r.id for r in results}) == 1
    async with unit_of_work() as session:
        count = await session.scalar(select(func.count()).select_from(LedgerTransfer))
        balance = await service.get_balance(seller, session=session)
    assert count == 1
    assert balance.posted == 700
    await _verify()


async def test_concurrent_account_creation_yields_one_account() -> None:
    key = AccountKey(AccountKind.CREATOR_BALANCE, Owner.creator(uuid.uuid4()), USD)

    async def create(session: AsyncSession) -> uuid.UUID:
        return (await service.get_or_create_account(key, session=session)).id

    results = await _race([create] * 30)
    assert len(set(results)) == 1, results


async def test_concurrent_refunds_of_one_order_never_exceed_what_was_paid() -> None:
    await _released_order("order-r", uuid.uuid4(), 10_000)

    def refund(number: int) -> Callable[[AsyncSession], Awaitable[TransferOut]]:
        async def work(session: AsyncSession) -> TransferOut:
            return await service.refund_order(
                order_ref="order-r", amount=usd(1_000), refund_ref=f"r{number}", session=session
            )

        return work

    results = await _race([refund(number) for number in range(25)])
    succeeded = [r for r in results if isinstance(r, TransferOut)]
    assert len(succeeded) == 10
    assert all(isinstance(r, TransferOut | InvalidTransfer) for r in results), results
    await _verify()


async def test_release_racing_a_refund_settles_one_way_and_stays_consistent() -> None:
    for attempt in range(10):
        order_ref = f"order-race-{attempt}"
        async with unit_of_work() as session:
            await service.hold_payment(
                order_ref=order_ref,
                amount=usd(5_000),
                shop_id=uuid.uuid4(),
                fee_rate=Decimal("0.05"),
                session=session,
            )

        async def release(session: AsyncSession, order_ref: str = order_ref) -> TransferOut:
            return await service.release_order_funds(order_ref=order_ref, session=session)

        async def refund(session: AsyncSession, order_ref: str = order_ref) -> TransferOut:
            return await service.refund_before_release(
                order_ref=order_ref, amount=usd(5_000), refund_ref="r", session=session
            )

        results = await _race([release, refund])
        # Whichever went first wins; the other is told the order moved on.
        assert sum(isinstance(r, TransferOut) for r in results) == 1, results
        assert all(isinstance(r, TransferOut | WrongState | AlreadyResolved) for r in results)
    await _verify()


async def test_crossing_multi_account_transfers_do_not_deadlock() -> None:
    async with unit_of_work() as session:
        keys = [
            AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(uuid.uuid4()), USD) for _ in range(4)
        ]
        accounts = [
            a.id for a in (await service.get_or_create_accounts(keys, session=session)).values()
        ]
    rng = random.Random(7)

    def transfer(number: int) -> Callable[[AsyncSession], Awaitable[TransferOut]]:
        debit, *credited = rng.sample(accounts, 3)
        draft = split_transfer(
            f"x-{number}",
            TransferKind.ADJUSTMENT,
            debit=debit,
            credits=[(account, usd(rng.randint(1, 50))) for account in credited],
        )

        async def work(session: AsyncSession) -> TransferOut:
            return await service.post_transfer(draft, session=session)

        return work

    results = await _race([transfer(number) for number in range(120)])
    # Each transfer locks its accounts in primary-key order, so crossing transfers wait for
    # each other instead of deadlocking.
    assert [r for r in results if isinstance(r, BaseException)] == []
    await _verify()
