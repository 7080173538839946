"""The posting engine on the test database: idempotency, two-phase, reversals, overdrafts."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text

from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service
from clipcart.ledger.domain import (
    MAX_LEGS,
    AccountKey,
    AccountKind,
    Owner,
    OwnerType,
    Phase,
    TransferDraft,
    TransferKind,
    simple_transfer,
    split_transfer,
)
from clipcart.ledger.errors import (
    AlreadyResolved,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
)
from clipcart.ledger.models import LedgerEntry, LedgerTransfer
from clipcart.ledger.schemas import BalanceOut, Discrepancy, TransferOut

USD = "USD"


def usd(amount: int) -> Money:
    return Money(amount, USD)


async def _accounts(*keys: AccountKey) -> list[uuid.UUID]:
    async with unit_of_work() as session:
        found = await service.get_or_create_accounts(list(keys), session=session)
        return [found[key].id for key in keys]


async def _clearing_and_held() -> tuple[uuid.UUID, uuid.UUID]:
    clearing, held = await _accounts(
        AccountKey(AccountKind.PROVIDER_CLEARING, Owner.platform(), USD),
        AccountKey(AccountKind.BUYER_FUNDS_HELD, Owner(OwnerType.ORDER, uuid.uuid4()), USD),
    )
    return clearing, held


async def _post(draft: TransferDraft) -> TransferOut:
    async with unit_of_work() as session:
        return await service.post_transfer(draft, session=session)


async def _balance(account_id: uuid.UUID) -> BalanceOut:
    async with unit_of_work() as session:
        return await service.get_balance(account_id, session=session)


async def _count(model: type) -> int:
    async with unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _verify() -> list[Discrepancy]:
    async with unit_of_work() as session:
        return list(await service.verify_ledger(session=session))


def _fund(clearing: uuid.UUID, held: uuid.UUID, amount: int, key: str = "fund") -> TransferDraft:
    return simple_transfer(
        key, TransferKind.PAYMENT_HOLD, debit=clearing, credit=held, amount=usd(amount)
    )


async def test_a_transfer_moves_money_and_keeps_columns_and_entries_in_step() -> None:
    clearing, held = await _clearing_and_held()
    transfer = await _post(_fund(clearing, held, 1250))
    assert (await _balance(clearing)).posted == 1250  # debit-normal asset
    assert (await _balance(held)).posted == 1250  # credit-normal liability
    assert (await _balance(held)).posted_credits == 1250
    assert await _count(LedgerEntry) == 2
    assert transfer.total == 1250
    assert await _verify() == []


async def test_the_same_key_and_content_returns_the_same_transfer_once() -> None:
    clearing, held = await _clearing_and_held()
    first = await _post(_fund(clearing, held, 500))
    again = await _post(_fund(clearing, held, 500))
    assert again.id == first.id
    assert (await _balance(held)).posted == 500
    assert await _count(LedgerTransfer) == 1

    with pytest.raises(IdempotencyConflict) as raised:
        await _post(_fund(clearing, held, 501))
    assert raised.value.status == 409
    assert (await _balance(held)).posted == 500


async def test_an_overdraft_is_refused_and_nothing_is_written() -> None:
    clearing, held = await _clearing_and_held()
    (refunds,) = await _accounts(AccountKey(AccountKind.REFUNDS, Owner.platform(), USD))
    await _post(_fund(clearing, held, 100))
    transfers_before = await _count(LedgerTransfer)

    async with unit_of_work() as session:
        too_much = simple_transfer(
            "refund-150", TransferKind.ORDER_REFUND, debit=held, credit=refunds, amount=usd(150)
        )
        with pytest.raises(InsufficientFunds) as raised:
            await service.post_transfer(too_much, session=session)
        assert raised.value.data["available"] == 100
        # The session is still usable, and the refused transfer left nothing behind.
        fine = simple_transfer(
            "refund-40", TransferKind.ORDER_REFUND, debit=held, credit=refunds, amount=usd(40)
        )
        await service.post_transfer(fine, session=session)

    assert await _count(LedgerTransfer) == transfers_before + 1
    assert (await _balance(held)).posted == 60
    assert (await _balance(refunds)).posted == 40
    async with unit_of_work() as session:
        assert await service.find_transfer_by_key("refund-150", session=session) is None
    assert await _verify() == []


async def test_a_multi_leg_overdraft_rolls_back_legs_already_applied() -> None:
    clearing, held = await _clearing_and_held()
    shop, fees = await _accounts(
        AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(uuid.uuid4()), USD),
        AccountKey(AccountKind.PLATFORM_FEES, Owner.platform(), USD),
    )
    await _post(_fund(clearing, held, 100))
    # Fees may not go negative; whichever leg is applied first, none may remain.
    bad = split_transfer(
        "bad", TransferKind.ADJUSTMENT, debit=fees, credits=[(shop, usd(5)), (held, usd(5))]
    )
    with pytest.raises(InsufficientFunds):
        await _post(bad)
    for account in (held, shop, fees):
        assert (await _balance(account)).posted_debits in (0, 100)
    assert (await _balance(shop)).posted == 0
    assert (await _balance(held)).posted == 100
    assert await _verify() == []


async def test_a_transfer_with_the_most_legs_allowed_posts() -> None:
    clearing, held = await _clearing_and_held()
    shops = await _accounts(
        *(
            AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(uuid.uuid4()), USD)
            for _ in range(MAX_LEGS - 1)
        )
    )
    await _post(_fund(clearing, held, MAX_LEGS))
    await _post(
        split_transfer(
            "many", TransferKind.ADJUSTMENT, debit=held, credits=[(shop, usd(1)) for shop in shops]
        )
    )
    assert (await _balance(held)).posted == 1
    assert {(await _balance(shop)).posted for shop in (shops[0], shops[-1])} == {1}
    assert await _verify() == []


async def test_a_unit_of_work_that_dies_after_posting_commits_nothing() -> None:
    clearing, held = await _clearing_and_held()
    (refunds,) = await _accounts(AccountKey(AccountKind.REFUNDS, Owner.platform(), USD))
    await _post(_fund(clearing, held, 100))

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with unit_of_work() as session:
            ok = simple_transfer(
                "refund-10", TransferKind.ORDER_REFUND, debit=held, credit=refunds, amount=usd(10)
            )
            await service.post_transfer(ok, session=session)
            raise Crash
    assert (await _balance(held)).posted == 100
    async with unit_of_work() as session:
        assert await service.find_transfer_by_key("refund-10", session=session) is None


async def test_a_pending_transfer_reserves_then_posts_exactly_once() -> None:
    clearing, held = await _clearing_and_held()
    (shop,) = await _accounts(AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(uuid.uuid4()), USD))
    await _post(_fund(clearing, held, 100))
    pending = await _post(
        simple_transfer(
            "split",
            TransferKind.ORDER_SPLIT,
            debit=held,
            credit=shop,
            amount=usd(70),
            phase=Phase.PENDING,
        )
    )
    held_balance = await _balance(held)
    assert (held_balance.posted, held_balance.available) == (100, 30)
    assert (await _balance(shop)).pending == 70
    assert (await _balance(shop)).posted == 0

    async with unit_of_work() as session:
        posted = await service.post_pending(pending.id, idempotency_key="post", session=session)
        again = await service.post_pending(pending.id, idempotency_key="post", session=session)
    assert again.id == posted.id
    shop_balance = await _balance(shop)
    assert (shop_balance.posted, shop_balance.pending) == (70, 0)
    assert (await _balance(held)).available == 30

    for resolve in (service.post_pending, service.void_pending):
        async with unit_of_work() as session:
            with pytest.raises(AlreadyResolved):
                await resolve(
                    pending.id, idempotency_key=f"other-{resolve.__name__}", session=session
                )
    assert (await _balance(shop)).posted == 70
    assert await _verify() == []


async def test_a_void_releases_the_reservation_exactly_once() -> None:
    clearing, held = await _clearing_and_held()
    (shop,) = await _accounts(AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(uuid.uuid4()), USD))
    await _post(_fund(clearing, held, 100))
    pending = await _post(
        simple_transfer(
            "split",
            TransferKind.ORDER_SPLIT,
            debit=held,
            credit=shop,
            amount=usd(100),
            phase=Phase.PENDING,
        )
    )
    assert (await _balance(held)).available == 0
    async with unit_of_work() as session:
        await service.void_pending(pending.id, idempotency_key="void", session=session)
    assert (await _balance(held)).available == 100
    assert (await _balance(shop)).pending == 0
    async with unit_of_work() as session:
        with pytest.raises(AlreadyResolved):
            await service.post_pending(pending.id, idempotency_key="post", session=session)
        resolution = await service.find_resolution(pending.id, session=session)
    assert resolution is not None and resolution.phase is Phase.VOID_PENDING
    assert await _verify() == []


async def test_a_reservation_counts_against_what_may_be_spent() -> None:
    clearing, held = await _clearing_and_held()
    (refunds,) = await _accounts(AccountKey(AccountKind.REFUNDS, Owner.platform(), USD))
    await _post(_fund(clearing, held, 100))
    await _post(
        simple_transfer(
            "reserve",
            TransferKind.ADJUSTMENT,
            debit=held,
            credit=refunds,
            amount=usd(80),
            phase=Phase.PENDING,
        )
    )
    with pytest.raises(InsufficientFunds):
        await _post(
            simple_transfer(
                "spend", TransferKind.ADJUSTMENT, debit=held, credit=refunds, amount=usd(30)
            )
        )


async def test_a_transfer_is_reversed_at_most_once() -> None:
    clearing, held = await _clearing_and_held()
    original = await _post(_fund(clearing, held, 300))
    async with unit_of_work() as session:
        reversal = await service.reverse_transfer(
            original.id, idempotency_key="undo", session=session
        )
        replay = await service.reverse_transfer(
            original.id, idempotency_key="undo", session=session
        )
    assert replay.id == reversal.id
    assert reversal.reverses_id == original.id
    assert (await _balance(held)).posted == 0
    assert (await _balance(clearing)).posted == 0
    async with unit_of_work() as session:
        with pytest.raises(AlreadyResolved):
            await service.reverse_transfer(original.id, idempotency_key="undo-2", session=session)
        with pytest.raises(InvalidTransfer):
            await service.reverse_transfer(reversal.id, idempotency_key="undo-3", session=session)
    assert await _verify() == []


async def test_a_transfer_in_another_currency_is_refused() -> None:
    clearing, held = await _clearing_and_held()
    draft = simple_transfer(
        "eur", TransferKind.ADJUSTMENT, debit=clearing, credit=held, amount=Money(5, "EUR")
    )
    with pytest.raises(InvalidTransfer):
        await _post(draft)
    assert await _count(LedgerTransfer) == 0


async def test_get_or_create_returns_one_account_for_racing_callers() -> None:
    import asyncio

    key = AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(uuid.uuid4()), USD)

    async def create() -> uuid.UUID:
        async with unit_of_work() as session:
            return (await service.get_or_create_account(key, session=session)).id

    ids = await asyncio.gather(*(create() for _ in range(8)))
    assert len(set(ids)) == 1


async def test_the_statement_lists_every_entry_with_a_running_balance() -> None:
    clearing, held = await _clearing_and_held()
    (refunds,) = await _accounts(AccountKey(AccountKind.REFUNDS, Owner.platform(), USD))
    await _post(_fund(clearing, held, 1000))
    for number in range(1, 5):
        await _post(
            simple_transfer(
                f"refund-{number}",
                TransferKind.ORDER_REFUND,
                debit=held,
                credit=refunds,
                amount=usd(100 * number),
                memo=f"refund {number}",
                reference="order-7",
            )
        )
    lines = []
    cursor = None
    async with unit_of_work() as session:
        while True:
            page = await service.get_statement(held, cursor=cursor, limit=2, session=session)
            lines += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
    assert [line.sequence for line in lines] == [5, 4, 3, 2, 1]
    assert [line.balance_after for line in lines] == [0, 400, 700, 900, 1000]
    assert [line.amount for line in lines] == [400, 300, 200, 100, 1000]
    assert lines[0].side == "debit" and lines[-1].side == "credit"
    assert lines[0].kind == "order_refund" and lines[0].reference == "order-7"
    assert lines[0].memo == "refund 4"


async def test_verification_finds_tampered_balances_and_entries() -> None:
    clearing, held = await _clearing_and_held()
    await _post(_fund(clearing, held, 100))
    assert await _verify() == []
    async with get_sessionmaker()() as session:
        await session.execute(
            text("UPDATE ledger_accounts SET posted_credits = posted_credits + 1 WHERE id = :id"),
            {"id": held.hex if session.get_bind().dialect.name == "sqlite" else held},
        )
        await session.execute(text("UPDATE ledger_entries SET balance_after = 7"))
        await session.commit()
    found = await _verify()
    checks = {(item.check, item.detail) for item in found}
    assert ("account totals", "posted_credits != entries") in checks
    assert ("currency totals", "posted balances: total debits != total credits") in checks
    assert any(check == "running balances" for check, _ in checks)


async def test_many_accounts_are_created_and_found_in_one_call() -> None:
    keys = [
        AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(uuid.uuid4()), USD) for _ in range(250)
    ]
    async with unit_of_work() as session:
        created = await service.get_or_create_accounts(keys, session=session)
    async with unit_of_work() as session:
        found = await service.get_or_create_accounts(keys, session=session)
    assert len(created) == 250
    assert {key: account.id for key, account in found.items()} == {
        key: account.id for key, account in created.items()
    }
