"""Account ids for an order's parties: found or created with plain statements, the same ids
the account objects have, and one account per key when requests race to create it."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from clipcart.core.db import unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service
from clipcart.ledger.accounts import get_or_create_account_ids
from clipcart.ledger.domain import AccountKey, AccountKind, Owner
from clipcart.ledger.models import LedgerAccount
from tests.services import require_postgres


def _keys(shop_id: uuid.UUID) -> list[AccountKey]:
    return [
        AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(shop_id), "USD"),
        AccountKey(AccountKind.PROVIDER_CLEARING, Owner.platform(), "USD"),
        AccountKey(AccountKind.PLATFORM_FEES, Owner.platform(), "EUR"),
    ]


async def _accounts() -> int:
    async with unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(LedgerAccount)) or 0)


async def test_missing_accounts_are_created_and_found_again_by_the_same_ids() -> None:
    shop_id = uuid.uuid4()
    async with unit_of_work() as session:
        # One already exists, the others are created.
        existing = await service.get_or_create_account(_keys(shop_id)[1], session=session)
    async with unit_of_work() as session:
        created = await get_or_create_account_ids(_keys(shop_id), session=session)
    assert created[_keys(shop_id)[1]] == existing.id
    assert len(set(created.values())) == 3 and await _accounts() == 3
    async with unit_of_work() as session:
        again = await get_or_create_account_ids(_keys(shop_id), session=session)
        objects = await service.get_or_create_accounts(_keys(shop_id), session=session)
    assert again == created == {key: account.id for key, account in objects.items()}
    assert await _accounts() == 3
    for key, account in objects.items():
        assert (account.kind, account.owner_id, account.currency) == (
            key.kind.value,
            key.owner.id,
            key.currency,
        )
        assert account.normal_side == key.rules.normal_side.value


async def test_holding_a_payment_uses_the_accounts_that_exist_and_balances() -> None:
    shop_id = uuid.uuid4()
    async with unit_of_work() as session:
        ids = await get_or_create_account_ids(_keys(shop_id), session=session)
    for order_ref in ("order:one", "order:two"):
        async with unit_of_work() as session:
            escrow = await service.hold_payment(
                order_ref=order_ref,
                amount=Money(10_000, "USD"),
                shop_id=shop_id,
                fee_rate=Decimal("0.05"),
                session=session,
            )
        assert escrow.hold_transfer_id is not None
    async with unit_of_work() as session:
        seller = await service.get_balance(ids[_keys(shop_id)[0]], session=session)
        assert (seller.pending, seller.available) == (2 * 9_500, 0)
        clearing = await service.get_balance(ids[_keys(shop_id)[1]], session=session)
        assert clearing.posted == 20_000
        assert await service.verify_ledger(session=session) == []
    # the three above, platform fees and refunds in USD, one held account per order: no
    # account was created twice
    assert await _accounts() == 3 + 2 + 2


@pytest.mark.postgres
async def test_racing_requests_create_one_account_per_key() -> None:
    require_postgres()
    shop_id = uuid.uuid4()

    async def create() -> dict[AccountKey, uuid.UUID]:
        async with unit_of_work() as session:
            return await get_or_create_account_ids(_keys(shop_id), session=session)

    results = await asyncio.gather(*(create() for _ in range(8)))
    assert all(result == results[0] for result in results)
    assert await _accounts() == 3
