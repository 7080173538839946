"""The demo's money history reads as if it had happened: every ledger posting of a seeded order
or commission is dated at its business event and in business order, the payouts come after the
sales that fund them, and the statements the seller and the creator see are in date order."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select

from clipcart.accounts.models import User
from clipcart.affiliate.models import Commission
from clipcart.commerce.config import get_commerce_settings
from clipcart.commerce.models import Order
from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.demo.affiliate import DEMO_CREATOR_HANDLE
from clipcart.demo.catalog import DEMO_SHOP_HANDLE
from clipcart.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from clipcart.ledger import service as ledger
from clipcart.ledger.domain import AccountKind, Owner, TransferKind
from clipcart.ledger.models import LedgerAccount, LedgerEntry, LedgerTransfer
from clipcart.shops.models import Shop
from tests.api.test_accounts_auth import login
from tests.api.test_demo_payouts import payouts_of

# The order in which an order's money moves: paid, split into held shares, then released or
# the held shares voided, then refunded and the refund settled with the provider.
BUSINESS_ORDER = {
    TransferKind.PAYMENT_HOLD.value: 0,
    TransferKind.ORDER_SPLIT.value: 1,
    TransferKind.ORDER_RELEASE.value: 2,
    TransferKind.ORDER_SPLIT_VOID.value: 2,
    TransferKind.ORDER_REFUND.value: 3,
    TransferKind.REFUND_SETTLED.value: 4,
}
STATEMENT_TIME = re.compile(r'<time class="muted small" datetime="([^"]+)"')


def at(value: datetime | None) -> datetime:
    assert value is not None
    return clock.as_utc(value)


async def _transfers(reference: str) -> list[LedgerTransfer]:
    async with unit_of_work() as session:
        rows = await session.scalars(
            select(LedgerTransfer).where(LedgerTransfer.reference == reference)
        )
        return list(rows.all())


def _assert_in_business_order(transfers: list[LedgerTransfer], name: str) -> None:
    """Sorted by date, the transfers' kinds never go back in the money's life."""
    ranks = [
        BUSINESS_ORDER[transfer.kind]
        for transfer in sorted(transfers, key=lambda transfer: at(transfer.created_at))
    ]
    assert ranks == sorted(ranks), (name, [(t.kind, t.created_at) for t in transfers])


async def _entries(owner: Owner, kind: AccountKind) -> list[tuple[datetime, str]]:
    """The account's entries as the ledger numbered them: (date, transfer kind)."""
    async with unit_of_work() as session:
        rows = await session.execute(
            select(LedgerEntry.created_at, LedgerTransfer.kind)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .join(LedgerTransfer, LedgerTransfer.id == LedgerEntry.transfer_id)
            .where(
                LedgerAccount.owner_type == owner.type.value,
                LedgerAccount.owner_id == owner.id,
                LedgerAccount.kind == kind.value,
            )
            .order_by(LedgerEntry.account_seq)
        )
        return [(at(created_at), kind_) for created_at, kind_ in rows.all()]


def _statement_times(html: str) -> list[datetime]:
    statement = html.split('id="statement-title"', 1)[1]
    return [datetime.fromisoformat(value) for value in STATEMENT_TIME.findall(statement)]


async def test_the_demo_orders_postings_are_dated_at_their_business_events() -> None:
    await seed_demo()
    finished = clock.now()
    window = timedelta(days=get_commerce_settings().return_window_days)
    async with unit_of_work() as session:
        buyer = await session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[0][2]))
        assert buyer is not None
        orders = list(await session.scalars(select(Order).where(Order.buyer_id == buyer.id)))
    assert {order.status for order in orders} >= {"completed", "refunded", "cancelled", "paid"}
    for order in orders:
        transfers = await _transfers(f"order:{order.id}")
        assert transfers, order.status
        dates = {transfer.kind: at(transfer.created_at) for transfer in transfers}
        assert all(at(order.created_at) <= date <= finished for date in dates.values())
        assert dates[TransferKind.PAYMENT_HOLD.value] == at(order.paid_at), order.status
        _assert_in_business_order(transfers, order.status)
        if order.status == "completed":
            # Released when the return window closed, not when the demo was seeded.
            released = dates[TransferKind.ORDER_RELEASE.value]
            assert released == at(order.completed_at)
            assert released >= at(order.delivered_at) + window
            assert released < finished - timedelta(hours=1)
        if order.status == "refunded":
            assert dates[TransferKind.ORDER_REFUND.value] > at(order.delivered_at)
        if order.status == "cancelled":
            assert dates[TransferKind.ORDER_REFUND.value] >= at(order.cancelled_at)


async def test_the_demo_commissions_postings_are_dated_at_the_sale_and_its_release() -> None:
    await seed_demo()
    async with unit_of_work() as session:
        creator = await session.scalar(select(User).where(User.handle == DEMO_CREATOR_HANDLE))
        assert creator is not None
        commissions = list(
            await session.scalars(select(Commission).where(Commission.creator_id == creator.id))
        )
    statuses = {commission.status for commission in commissions}
    assert {"available", "pending", "clawed_back"} <= statuses
    for commission in commissions:
        transfers = await _transfers(f"order:{commission.order_id}")
        if commission.status == "awaiting_payment":
            assert transfers == []
            continue
        dates = {transfer.kind: at(transfer.created_at) for transfer in transfers}
        assert dates[TransferKind.PAYMENT_HOLD.value] == at(commission.created_at)
        _assert_in_business_order(transfers, commission.status)
        if commission.status == "available":
            assert dates[TransferKind.ORDER_RELEASE.value] == at(commission.available_at)
            assert at(commission.available_at) > at(commission.created_at)
        if commission.status == "clawed_back":
            assert dates[TransferKind.ORDER_REFUND.value] > at(commission.created_at)
            # ... and the provider paid the refund out, so it does not wait in the refunds account.
            assert (
                dates[TransferKind.REFUND_SETTLED.value] >= dates[TransferKind.ORDER_REFUND.value]
            )
    async with unit_of_work() as session:
        refunds = await session.scalars(
            select(LedgerAccount).where(LedgerAccount.kind == AccountKind.REFUNDS.value)
        )
        assert [ledger.balance_out(account).posted for account in refunds] == [0]


async def test_the_demo_payouts_follow_their_sales_and_statements_read_in_date_order(
    client: httpx.AsyncClient,
) -> None:
    await seed_demo()
    finished = clock.now()
    async with unit_of_work() as session:
        shop = await session.scalar(select(Shop).where(Shop.handle == DEMO_SHOP_HANDLE))
        creator = await session.scalar(select(User).where(User.handle == DEMO_CREATOR_HANDLE))
        assert shop is not None and creator is not None
        assert await ledger.verify_ledger(session=session) == []
    owners = {
        "shop": (Owner.shop(shop.id), AccountKind.SELLER_BALANCE),
        "creator": (Owner.creator(creator.id), AccountKind.CREATOR_BALANCE),
    }
    for name, (owner, balance_kind) in owners.items():
        entries = await _entries(owner, balance_kind)
        dates = [date for date, _ in entries]
        # The ledger numbers entries in the order they were written: their dates agree.
        assert dates == sorted(dates), (name, entries)
        releases = [date for date, kind in entries if kind == TransferKind.ORDER_RELEASE.value]
        payouts = await payouts_of(owner)
        assert [payout.status for payout in payouts] == ["paid", "in_transit"], name
        for payout in payouts:
            # Paid out of released sales, so after the earliest of them (and after the sale).
            assert releases and at(payout.created_at) > min(releases), name
            assert at(payout.created_at) <= finished, name
        paid = payouts[0]
        assert at(paid.created_at) <= at(paid.submitted_at) < at(paid.settled_at) <= finished
        assert at(paid.created_at) > max(releases), name  # this demo pays out after them all
        transit = await _entries(owner, AccountKind.PAYOUTS_IN_TRANSIT)
        assert [date for date, _ in transit] == sorted(date for date, _ in transit), name

    await login(client, DEMO_ACCOUNTS[2][2], DEMO_PASSWORD)
    page = await client.get(f"/seller/{DEMO_SHOP_HANDLE}/money")
    assert page.status_code == 200
    shown = _statement_times(page.text)
    assert len(shown) >= 10
    assert shown == sorted(shown, reverse=True)  # newest first, and every line in its place
    client.cookies.clear()  # the creator logs in next on the same client

    await login(client, DEMO_ACCOUNTS[1][2], DEMO_PASSWORD)
    page = await client.get("/studio/money")
    assert page.status_code == 200
    shown = _statement_times(page.text)
    assert len(shown) >= 5
    assert shown == sorted(shown, reverse=True)


async def test_a_rerun_of_the_demo_seeding_adds_no_money_history() -> None:
    await seed_demo()
    counted = select(func.count()).select_from(LedgerTransfer)
    async with unit_of_work() as session:
        before = await session.scalar(counted)
    await seed_demo()
    async with unit_of_work() as session:
        assert await session.scalar(counted) == before
        assert await ledger.verify_ledger(session=session) == []
    assert before
