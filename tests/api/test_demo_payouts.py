"""The demo's payouts: the demo shop and creator have been paid out once and have a payout in
transit, made through the ledger (balances and the ledger check agree), shown on their money
pages, and not made again on a rerun."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from clipcart.accounts.models import User
from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.core.money import Money
from clipcart.demo.affiliate import DEMO_CREATOR_HANDLE
from clipcart.demo.catalog import DEMO_SHOP_HANDLE
from clipcart.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from clipcart.ledger import service as ledger
from clipcart.ledger.domain import AccountKey, AccountKind, Owner
from clipcart.ledger.models import LedgerPayout
from clipcart.shops.models import Shop
from tests.api.test_accounts_auth import login


async def payouts_of(owner: Owner) -> list[LedgerPayout]:
    async with unit_of_work() as session:
        rows = await session.scalars(
            select(LedgerPayout)
            .where(LedgerPayout.owner_type == owner.type.value, LedgerPayout.owner_id == owner.id)
            .order_by(LedgerPayout.created_at)
        )
        return list(rows.all())


async def test_the_demo_shop_and_creator_have_a_paid_payout_and_one_in_transit(
    client: httpx.AsyncClient,
) -> None:
    await seed_demo()
    async with unit_of_work() as session:
        shop = await session.scalar(select(Shop).where(Shop.handle == DEMO_SHOP_HANDLE))
        creator = await session.scalar(select(User).where(User.handle == DEMO_CREATOR_HANDLE))
    assert shop is not None and creator is not None
    owners = {"shop": Owner.shop(shop.id), "creator": Owner.creator(creator.id)}
    seen: dict[str, list[LedgerPayout]] = {}
    for name, owner in owners.items():
        payouts = await payouts_of(owner)
        seen[name] = payouts
        assert [payout.status for payout in payouts] == ["paid", "in_transit"], name
        assert payouts[0].settled_at is not None and payouts[1].settled_at is None
        # Nothing is dated after the seeding finished.
        assert all(payout.created_at <= clock.now() for payout in payouts), name
        assert payouts[0].settled_at <= clock.now(), name
        async with unit_of_work() as session:
            balance = await ledger.get_payee_balance(owner, shop.currency, session=session)
            transit = await ledger.get_account_balance(
                AccountKey(AccountKind.PAYOUTS_IN_TRANSIT, owner, shop.currency), session=session
            )
        # In transit is exactly the payout on its way; both came out of what was available.
        assert transit is not None and transit.posted == payouts[1].amount, name
        assert balance.available.amount >= 0 and balance.posted_debits >= sum(
            payout.amount for payout in payouts
        ), name

    await seed_demo()  # a rerun makes no more payouts
    for name, owner in owners.items():
        assert [p.id for p in await payouts_of(owner)] == [p.id for p in seen[name]]
    async with unit_of_work() as session:
        assert await ledger.verify_ledger(session=session) == []

    await login(client, DEMO_ACCOUNTS[2][2], DEMO_PASSWORD)
    page = await client.get(f"/seller/{DEMO_SHOP_HANDLE}/money")
    assert page.status_code == 200
    assert "Paid" in page.text and "In transit" in page.text
    assert Money(seen["shop"][1].amount, shop.currency).format() in page.text
