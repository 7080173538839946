"""How a transfer is written (one statement on PostgreSQL, conditional updates on SQLite): replays,
refusals and the caller's transaction, on the test database; races on PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.core.errors import NotFound
from clipcart.ledger import service, transfer_writes
from clipcart.ledger.domain import (
    AccountKey,
    AccountKind,
    Owner,
    OwnerType,
    Phase,
    TransferDraft,
    TransferKind,
    simple_transfer,
)
from clipcart.ledger.errors import AlreadyResolved, IdempotencyConflict, InsufficientFunds
from clipcart.ledger.models import LedgerAccount, LedgerEntry, LedgerTransfer
from clipcart.ledger.schemas import TransferOut
from tests.integration.test_ledger_posting import USD, _accounts, _post, usd
from tests.services import require_postgres


async def _funded_order_account(amount: int) -> tuple[uuid.UUID, uuid.UUID]:
    """Provider clearing and an order's held funds (may not go negative) holding `amount`."""
    clearing, held = await _accounts(
        AccountKey(AccountKind.PROVIDER_CLEARING, Owner.platform(), USD),
        AccountKey(AccountKind.BUYER_FUNDS_HELD, Owner(OwnerType.ORDER, uuid.uuid4()), USD),
    )
    await _post(
        simple_transfer(
            f"fund-{held}",
            TransferKind.PAYMENT_HOLD,
            debit=clearing,
            credit=held,
            amount=usd(amount),
        )
    )
    return clearing, held


async def _columns(account_id: uuid.UUID) -> tuple[int, int, int, int, int]:
    async with unit_of_work() as session:
        account = await session.get(LedgerAccount, account_id)
        assert account is not None
        return (
            account.posted_debits,
            account.posted_credits,
            account.pending_debits,
            account.pending_credits,
            account.entry_count,
        )


async def _entry_sequences(account_id: uuid.UUID) -> list[int]:
    async with unit_of_work() as session:
        statement = (
            select(LedgerEntry.account_seq)
            .where(LedgerEntry.account_id == account_id)
            .order_by(LedgerEntry.account_seq)
        )
        return list((await session.scalars(statement)).all())


async def _transfer_count() -> int:
    async with unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(LedgerTransfer)) or 0)


async def _verify() -> None:
    async with unit_of_work() as session:
        assert await service.verify_ledger(session=session) == []


async def test_a_transfer_that_opens_the_transaction_is_undone_by_its_rollback() -> None:
    _clearing, held = await _funded_order_account(100)
    refunds, *_ = await _accounts(AccountKey(AccountKind.REFUNDS, Owner.platform(), USD))
    before = await _columns(held)
    async with get_sessionmaker()() as session:
        # The transfer is the first statement of this transaction: it must still be part of it.
        await service.post_transfer(
            simple_transfer(
                "undone", TransferKind.ORDER_REFUND, debit=held, credit=refunds, amount=usd(30)
            ),
            session=session,
        )
        await session.rollback()
    assert await _columns(held) == before
    async with unit_of_work() as session:
        assert await service.find_transfer_by_key("undone", session=session) is None
    await _verify()


async def test_a_transfer_after_other_reads_keeps_loaded_accounts_in_step() -> None:
    _clearing, held = await _funded_order_account(100)
    refunds, *_ = await _accounts(AccountKey(AccountKind.REFUNDS, Owner.platform(), USD))
    async with unit_of_work() as session:
        loaded = await session.get(LedgerAccount, held)
        assert loaded is not None and loaded.posted_credits == 100
        await service.post_transfer(
            simple_transfer(
                "refund-25", TransferKind.ORDER_REFUND, debit=held, credit=refunds, amount=usd(25)
            ),
            session=session,
        )
        # The object loaded before the transfer shows the columns the transfer wrote.
        assert (loaded.posted_debits, loaded.entry_count) == (25, 2)
    assert await _columns(held) == (25, 100, 0, 0, 2)
    assert await _entry_sequences(held) == [1, 2]


async def test_a_retry_in_the_same_transaction_returns_the_first_and_changes_nothing() -> None:
    _clearing, held = await _funded_order_account(100)
    refunds, *_ = await _accounts(AccountKey(AccountKind.REFUNDS, Owner.platform(), USD))
    draft = simple_transfer(
        "refund-60", TransferKind.ORDER_REFUND, debit=held, credit=refunds, amount=usd(60)
    )
    async with unit_of_work() as session:
        first = await service.post_transfer(draft, session=session)
        again = await service.post_transfer(draft, session=session)
    assert again.id == first.id
    assert {(leg.account_id, leg.side, leg.amount) for leg in again.legs} == {
        (leg.account_id, leg.side, leg.amount) for leg in first.legs
    }
    assert await _columns(held) == (60, 100, 0, 0, 2)
    assert await _entry_sequences(refunds) == [1]
    assert await _transfer_count() == 2


async def test_a_retry_that_a_guard_would_now_refuse_still_returns_the_first() -> None:
    _clearing, held = await _funded_order_account(100)
    refunds, *_ = await _accounts(AccountKey(AccountKind.REFUNDS, Owner.platform(), USD))
    draft = simple_transfer(
        "refund-all", TransferKind.ORDER_REFUND, debit=held, credit=refunds, amount=usd(100)
    )
    first = await _post(draft)
    # Held funds are now empty: posting the draft anew would overdraw them, but it is a replay.
    again = await _post(draft)
    assert again.id == first.id
    assert await _columns(held) == (100, 100, 0, 0, 2)
    with pytest.raises(IdempotencyConflict):
        await _post(
            simple_transfer(
                "refund-all", TransferKind.ORDER_REFUND, debit=held, credit=refunds, amount=usd(1)
            )
        )
    assert await _transfer_count() == 2
    await _verify()


async def test_a_refused_overdraft_changes_no_column_and_leaves_no_gap_in_the_entries() -> None:
    _clearing, held = await _funded_order_account(100)
    refunds, *_ = await _accounts(AccountKey(AccountKind.REFUNDS, Owner.platform(), USD))
    held_before, refunds_before = await _columns(held), await _columns(refunds)
    async with unit_of_work() as session:
        with pytest.raises(InsufficientFunds) as raised:
            await service.post_transfer(
                simple_transfer(
                    "too-much",
                    TransferKind.ORDER_REFUND,
                    debit=held,
                    credit=refunds,
                    amount=usd(101),
                ),
                session=session,
            )
        assert raised.value.data["account_id"] == str(held)
        assert raised.value.data["requested"] == 101
        assert (await _columns(held), await _columns(refunds)) == (held_before, refunds_before)
        # The caller's transaction is still usable after the refusal.
        await service.post_transfer(
            simple_transfer(
                "enough", TransferKind.ORDER_REFUND, debit=held, credit=refunds, amount=usd(100)
            ),
            session=session,
        )
    assert await _entry_sequences(held) == [1, 2]
    assert await _entry_sequences(refunds) == [1]
    async with unit_of_work() as session:
        assert await service.find_transfer_by_key("too-much", session=session) is None
    await _verify()


async def test_a_transfer_to_an_unknown_account_is_refused_and_writes_nothing() -> None:
    clearing, _held = await _funded_order_account(100)
    before = await _columns(clearing)
    with pytest.raises(NotFound):
        await _post(
            simple_transfer(
                "nowhere",
                TransferKind.ADJUSTMENT,
                debit=clearing,
                credit=uuid.uuid4(),
                amount=usd(5),
            )
        )
    assert await _columns(clearing) == before
    assert await _transfer_count() == 1


# Races: PostgreSQL only (SQLite serialises writers, so it cannot show one).


async def _in_own_transaction(work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    async with unit_of_work() as session:
        return await work(session)


async def _race(works: list[Callable[[AsyncSession], Awaitable[Any]]]) -> list[Any]:
    return await asyncio.gather(
        *(_in_own_transaction(work) for work in works), return_exceptions=True
    )


def _posting(draft: TransferDraft) -> Callable[[AsyncSession], Awaitable[TransferOut]]:
    async def work(session: AsyncSession) -> TransferOut:
        return await service.post_transfer(draft, session=session)

    return work


@pytest.mark.postgres
async def test_concurrent_transfers_both_ways_between_guarded_accounts_never_deadlock() -> None:
    require_postgres()
    _clearing, first = await _funded_order_account(500)
    _, second = await _funded_order_account(500)
    rng = random.Random(11)
    drafts = []
    for number in range(160):
        debit, credit = (first, second) if number % 2 else (second, first)
        drafts.append(
            simple_transfer(
                f"swap-{number}",
                TransferKind.ADJUSTMENT,
                debit=debit,
                credit=credit,
                amount=usd(rng.randint(1, 400)),
            )
        )
    results = await _race([_posting(draft) for draft in drafts])
    unexpected = [r for r in results if isinstance(r, BaseException)]
    unexpected = [r for r in unexpected if not isinstance(r, InsufficientFunds)]
    assert unexpected == []
    posted = [r for r in results if isinstance(r, TransferOut)]
    assert posted, "some transfers must go through"
    first_columns, second_columns = await _columns(first), await _columns(second)
    # Neither order account went below zero, money was only moved between them, and each
    # posted transfer left exactly one entry on each account.
    assert first_columns[1] - first_columns[0] >= 0
    assert second_columns[1] - second_columns[0] >= 0
    assert (first_columns[1] - first_columns[0]) + (second_columns[1] - second_columns[0]) == 1000
    assert first_columns[4] == second_columns[4] == 1 + len(posted)
    assert await _entry_sequences(first) == list(range(1, len(posted) + 2))
    await _verify()


@pytest.mark.postgres
async def test_concurrent_debits_take_exactly_what_a_guarded_account_holds() -> None:
    require_postgres()
    _clearing, held = await _funded_order_account(1_000)
    refunds, *_ = await _accounts(AccountKey(AccountKind.REFUNDS, Owner.platform(), USD))
    drafts = [
        simple_transfer(
            f"take-{number}", TransferKind.ORDER_REFUND, debit=held, credit=refunds, amount=usd(100)
        )
        for number in range(30)
    ]
    results = await _race([_posting(draft) for draft in drafts])
    assert sum(isinstance(r, TransferOut) for r in results) == 10
    assert sum(isinstance(r, InsufficientFunds) for r in results) == 20
    assert await _columns(held) == (1_000, 1_000, 0, 0, 11)
    await _verify()


@pytest.mark.postgres
async def test_racing_posts_and_voids_of_one_reservation_resolve_it_once() -> None:
    require_postgres()
    _clearing, held = await _funded_order_account(300)
    (shop,) = await _accounts(AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(uuid.uuid4()), USD))
    pending = await _post(
        simple_transfer(
            "split",
            TransferKind.ORDER_SPLIT,
            debit=held,
            credit=shop,
            amount=usd(300),
            phase=Phase.PENDING,
        )
    )

    def resolving(number: int) -> Callable[[AsyncSession], Awaitable[TransferOut]]:
        resolve = service.post_pending if number % 2 else service.void_pending

        async def work(session: AsyncSession) -> TransferOut:
            return await resolve(pending.id, idempotency_key=f"resolve-{number}", session=session)

        return work

    results = await _race([resolving(number) for number in range(20)])
    resolutions = [r for r in results if isinstance(r, TransferOut)]
    assert len(resolutions) == 1
    assert all(isinstance(r, AlreadyResolved) for r in results if not isinstance(r, TransferOut))
    shop_columns = await _columns(shop)
    assert shop_columns[3] == 0  # the reservation is gone either way
    if resolutions[0].phase is Phase.POST_PENDING:
        assert shop_columns[1] == 300
    else:
        assert shop_columns[1] == 0
    await _verify()


@pytest.mark.postgres
async def test_postgres_plans_the_transfer_statement_once_per_connection() -> None:
    """Planning it cost more than running it: after PostgreSQL's five trial plans, every further
    transfer on a connection runs the plan it keeps (a generic plan)."""
    require_postgres()
    clearing, held = await _funded_order_account(100)
    # With the arrays of earlier versions, how dear the kept plan looked depended on the table's
    # statistics: with thousands of accounts analysed it looked dearer and was never used.
    await _accounts(
        *(
            AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(uuid.uuid4()), USD)
            for _ in range(5000)
        )
    )
    async with unit_of_work() as session:
        await session.execute(text("ANALYZE ledger_accounts"))
    # One unit of work: one connection, whose prepared statements are listed.
    async with unit_of_work() as session:
        for number in range(12):
            draft = simple_transfer(
                f"plan-{held}-{number}",
                TransferKind.ADJUSTMENT,
                debit=held if number % 2 == 0 else clearing,
                credit=clearing if number % 2 == 0 else held,
                amount=usd(1),
            )
            await service.post_transfer(draft, session=session)
        # The two-leg statement (the connection may have prepared others for other leg counts).
        plans = (
            await session.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                    " WHERE statement = :two_legs"
                ),
                {"two_legs": transfer_writes._postgres_write(2)},
            )
        ).one()
    assert plans.custom_plans <= 5
    assert plans.generic_plans >= 7
