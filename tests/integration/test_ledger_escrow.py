"""Escrow and payouts as orders and payments will use them, on the test database."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from clipcart.core.db import unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service
from clipcart.ledger.domain import AccountKey, AccountKind, Owner
from clipcart.ledger.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
    WrongState,
)
from clipcart.ledger.schemas import BalanceOut, EscrowOut

USD = "USD"
FEE = Decimal("0.05")


def usd(amount: int) -> Money:
    return Money(amount, USD)


async def balance(kind: AccountKind, owner: Owner) -> BalanceOut | None:
    async with unit_of_work() as session:
        return await service.get_account_balance(AccountKey(kind, owner, USD), session=session)


async def posted(kind: AccountKind, owner: Owner) -> int:
    found = await balance(kind, owner)
    return found.posted if found else 0


async def pending(kind: AccountKind, owner: Owner) -> int:
    found = await balance(kind, owner)
    return found.pending if found else 0


async def hold(
    order_ref: str, amount: int, shop: uuid.UUID, creator: uuid.UUID | None = None,
    commission: int = 0,
) -> EscrowOut:  # fmt: skip
    async with unit_of_work() as session:
        return await service.hold_payment(
            order_ref=order_ref,
            amount=usd(amount),
            shop_id=shop,
            creator_id=creator,
            commission=usd(commission) if commission else None,
            fee_rate=FEE,
            session=session,
        )


async def release(order_ref: str) -> None:
    async with unit_of_work() as session:
        await service.release_order_funds(order_ref=order_ref, session=session)


async def refund(order_ref: str, amount: int, ref: str) -> None:
    async with unit_of_work() as session:
        await service.refund_order(
            order_ref=order_ref, amount=usd(amount), refund_ref=ref, session=session
        )


async def assert_consistent() -> None:
    async with unit_of_work() as session:
        assert await service.verify_ledger(session=session) == []


PLATFORM = Owner.platform()


async def test_a_held_payment_shows_as_pending_and_is_released_into_available() -> None:
    shop, creator = uuid.uuid4(), uuid.uuid4()
    escrow = await hold("order-1", 10_000, shop, creator, commission=1_000)
    assert (escrow.seller_amount, escrow.creator_amount, escrow.platform_amount) == (
        8_500,
        1_000,
        500,
    )
    assert await posted(AccountKind.PROVIDER_CLEARING, PLATFORM) == 10_000
    assert await pending(AccountKind.SELLER_BALANCE, Owner.shop(shop)) == 8_500
    assert await pending(AccountKind.CREATOR_BALANCE, Owner.creator(creator)) == 1_000
    assert await posted(AccountKind.SELLER_BALANCE, Owner.shop(shop)) == 0
    async with unit_of_work() as session:
        held = await service.get_balance(escrow.escrow_account_id, session=session)
    assert (held.posted, held.available) == (10_000, 0)

    await release("order-1")
    await release("order-1")  # a second call is a replay
    assert await posted(AccountKind.SELLER_BALANCE, Owner.shop(shop)) == 8_500
    assert await pending(AccountKind.SELLER_BALANCE, Owner.shop(shop)) == 0
    assert await posted(AccountKind.CREATOR_BALANCE, Owner.creator(creator)) == 1_000
    assert await posted(AccountKind.PLATFORM_FEES, PLATFORM) == 500
    async with unit_of_work() as session:
        held = await service.get_balance(escrow.escrow_account_id, session=session)
    assert held.posted == 0
    await assert_consistent()


async def test_holding_is_idempotent_and_refuses_other_terms() -> None:
    shop = uuid.uuid4()
    first = await hold("order-2", 2_000, shop)
    again = await hold("order-2", 2_000, shop)
    assert again.hold_transfer_id == first.hold_transfer_id
    assert await posted(AccountKind.PROVIDER_CLEARING, PLATFORM) == 2_000
    with pytest.raises(IdempotencyConflict):
        await hold("order-2", 2_500, shop)


async def test_the_platform_fee_rate_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from clipcart.ledger.config import get_ledger_settings

    monkeypatch.setenv("CLIPCART_PLATFORM_FEE_RATE", "0.1")
    get_ledger_settings.cache_clear()
    try:
        async with unit_of_work() as session:
            escrow = await service.hold_payment(
                order_ref="order-fee", amount=usd(1_005), shop_id=uuid.uuid4(), session=session
            )
    finally:
        get_ledger_settings.cache_clear()
    assert escrow.platform_amount == 101  # 100.5 rounds half up
    assert escrow.seller_amount == 904


async def test_partial_refunds_before_release_shrink_every_share() -> None:
    shop, creator = uuid.uuid4(), uuid.uuid4()
    await hold("order-3", 10_000, shop, creator, commission=1_000)
    await refund("order-3", 2_500, "r1")
    await refund("order-3", 2_500, "r1")  # replay
    assert await posted(AccountKind.REFUNDS, PLATFORM) == 2_500
    assert await pending(AccountKind.SELLER_BALANCE, Owner.shop(shop)) == 6_375
    assert await pending(AccountKind.CREATOR_BALANCE, Owner.creator(creator)) == 750
    with pytest.raises(IdempotencyConflict):
        await refund("order-3", 100, "r1")

    await release("order-3")
    assert await posted(AccountKind.SELLER_BALANCE, Owner.shop(shop)) == 6_375
    assert await posted(AccountKind.CREATOR_BALANCE, Owner.creator(creator)) == 750
    assert await posted(AccountKind.PLATFORM_FEES, PLATFORM) == 375
    await assert_consistent()


async def test_a_full_refund_before_release_leaves_nothing_to_release() -> None:
    shop = uuid.uuid4()
    await hold("order-4", 999, shop)
    await refund("order-4", 999, "all")
    assert await pending(AccountKind.SELLER_BALANCE, Owner.shop(shop)) == 0
    with pytest.raises(WrongState):
        await release("order-4")
    with pytest.raises(InvalidTransfer):
        await refund("order-4", 1, "more")
    await assert_consistent()


async def test_refunding_more_than_was_paid_is_refused() -> None:
    await hold("order-5", 1_000, uuid.uuid4())
    with pytest.raises(InvalidTransfer):
        await refund("order-5", 1_001, "too-much")
    await release("order-5")
    await refund("order-5", 600, "a")
    with pytest.raises(InvalidTransfer):
        await refund("order-5", 401, "b")
    await refund("order-5", 400, "c")
    await assert_consistent()


async def test_a_refund_after_release_claws_back_commission_and_fee_in_proportion() -> None:
    shop, creator = uuid.uuid4(), uuid.uuid4()
    await hold("order-6", 10_000, shop, creator, commission=1_000)
    await release("order-6")
    await refund("order-6", 4_000, "r")
    assert await posted(AccountKind.SELLER_BALANCE, Owner.shop(shop)) == 8_500 - 3_400
    assert await posted(AccountKind.CREATOR_BALANCE, Owner.creator(creator)) == 1_000 - 400
    assert await posted(AccountKind.PLATFORM_FEES, PLATFORM) == 500 - 200
    assert await posted(AccountKind.REFUNDS, PLATFORM) == 4_000
    async with unit_of_work() as session:
        with pytest.raises(WrongState):
            await service.refund_before_release(
                order_ref="order-6", amount=usd(1), refund_ref="x", session=session
            )
    await assert_consistent()


async def test_a_seller_balance_goes_negative_after_payout_and_later_sales_recover_it() -> None:
    shop = uuid.uuid4()
    seller = Owner.shop(shop)
    await hold("order-7", 10_000, shop)
    await release("order-7")
    async with unit_of_work() as session:
        await service.request_payout(
            payee=seller, amount=usd(9_500), payout_ref="p1", session=session
        )
        await service.complete_payout(payout_ref="p1", session=session)
    assert await posted(AccountKind.SELLER_BALANCE, seller) == 0

    await refund("order-7", 10_000, "all")
    assert await posted(AccountKind.SELLER_BALANCE, seller) == -9_500
    async with unit_of_work() as session:
        with pytest.raises(InsufficientFunds):
            await service.request_payout(
                payee=seller, amount=usd(1_000), payout_ref="p2", session=session
            )

    await hold("order-8", 20_000, shop)
    await release("order-8")
    assert await posted(AccountKind.SELLER_BALANCE, seller) == -9_500 + 19_000
    await assert_consistent()


async def test_payouts_respect_the_minimum_and_the_available_balance() -> None:
    shop = uuid.uuid4()
    seller = Owner.shop(shop)
    await hold("order-9", 10_000, shop)
    async with unit_of_work() as session:
        with pytest.raises(InsufficientFunds):  # still pending, not available
            await service.request_payout(
                payee=seller, amount=usd(2_000), payout_ref="early", session=session
            )
    await release("order-9")
    async with unit_of_work() as session:
        with pytest.raises(InvalidTransfer) as raised:
            await service.request_payout(
                payee=seller, amount=usd(999), payout_ref="tiny", session=session
            )
        assert raised.value.data["minimum"] == 1_000
        with pytest.raises(InsufficientFunds):
            await service.request_payout(
                payee=seller, amount=usd(9_501), payout_ref="big", session=session
            )
        request = await service.request_payout(
            payee=seller, amount=usd(9_500), payout_ref="all", session=session
        )
        assert request.total == 9_500
    assert await posted(AccountKind.SELLER_BALANCE, seller) == 0
    assert await posted(AccountKind.PAYOUTS_IN_TRANSIT, seller) == 9_500
    async with unit_of_work() as session:
        assert await service.find_transfer_by_key("payout:big:request", session=session) is None
    await assert_consistent()


async def test_a_failed_payout_returns_the_money_and_cannot_also_complete() -> None:
    shop = uuid.uuid4()
    seller = Owner.shop(shop)
    await hold("order-10", 10_000, shop)
    await release("order-10")
    async with unit_of_work() as session:
        await service.request_payout(
            payee=seller, amount=usd(5_000), payout_ref="p", session=session
        )
        failed = await service.fail_payout(payout_ref="p", reason="bank said no", session=session)
        again = await service.fail_payout(payout_ref="p", reason="bank said no", session=session)
        assert again.id == failed.id
        with pytest.raises(WrongState):
            await service.complete_payout(payout_ref="p", session=session)
    assert await posted(AccountKind.SELLER_BALANCE, seller) == 9_500
    assert await posted(AccountKind.PAYOUTS_IN_TRANSIT, seller) == 0

    async with unit_of_work() as session:
        await service.request_payout(
            payee=seller, amount=usd(9_500), payout_ref="q", session=session
        )
        await service.complete_payout(payout_ref="q", session=session)
        with pytest.raises(WrongState):
            await service.fail_payout(payout_ref="q", session=session)
    assert await posted(AccountKind.PAYOUTS_IN_TRANSIT, seller) == 0
    assert await posted(AccountKind.PROVIDER_CLEARING, PLATFORM) == 500
    await assert_consistent()


async def test_creators_are_paid_out_from_their_own_balance() -> None:
    creator = uuid.uuid4()
    await hold("order-11", 30_000, uuid.uuid4(), creator, commission=3_000)
    await release("order-11")
    async with unit_of_work() as session:
        await service.request_payout(
            payee=Owner.creator(creator), amount=usd(3_000), payout_ref="c", session=session
        )
    assert await posted(AccountKind.CREATOR_BALANCE, Owner.creator(creator)) == 0
    await assert_consistent()


async def test_a_settled_refund_leaves_the_provider() -> None:
    await hold("order-12", 5_000, uuid.uuid4())
    await refund("order-12", 5_000, "r")
    async with unit_of_work() as session:
        await service.settle_refund(order_ref="order-12", refund_ref="r", session=session)
        await service.settle_refund(order_ref="order-12", refund_ref="r", session=session)
    assert await posted(AccountKind.REFUNDS, PLATFORM) == 0
    assert await posted(AccountKind.PROVIDER_CLEARING, PLATFORM) == 0
    await assert_consistent()


async def test_settling_small_refunds_after_release_pays_back_exactly_the_cents() -> None:
    # With a 33.3% commission, the fourth of these small refunds after release rounds the
    # shares both ways (seller +1, creator +1, fee -1), so the transfer's total is more than
    # the cent refunded; the provider pays back the cent, and settling must move exactly that.
    await hold("order-13", 498, uuid.uuid4(), uuid.uuid4(), commission=166)
    await release("order-13")
    refunds = {"a": 1, "b": 1, "c": 5, "d": 1}
    for ref, cents in refunds.items():
        await refund("order-13", cents, ref)
    assert await posted(AccountKind.REFUNDS, PLATFORM) == 8
    async with unit_of_work() as session:
        for ref in refunds:
            await service.settle_refund(order_ref="order-13", refund_ref=ref, session=session)
    assert await posted(AccountKind.REFUNDS, PLATFORM) == 0
    assert await posted(AccountKind.PROVIDER_CLEARING, PLATFORM) == 498 - 8
    await assert_consistent()


async def test_the_seller_statement_tells_the_story_of_an_order() -> None:
    shop = uuid.uuid4()
    await hold("order-13", 10_000, shop)
    await release("order-13")
    await refund("order-13", 1_000, "r")
    async with unit_of_work() as session:
        seller = await service.find_account(
            AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(shop), USD), session=session
        )
        assert seller is not None
        page = await service.get_statement(seller.id, newest_first=False, session=session)
    story = [
        (line.kind, line.phase, line.side, line.amount, line.balance_after) for line in page.items
    ]
    assert story == [
        ("order_split", "pending", "credit", 9_500, 0),
        ("order_release", "post_pending", "credit", 9_500, 9_500),
        ("order_refund", "posted", "debit", 950, 8_550),
    ]
    assert {line.reference for line in page.items} == {"order-13"}


async def test_unknown_orders_and_payouts_are_not_found() -> None:
    from clipcart.core.errors import NotFound

    async with unit_of_work() as session:
        with pytest.raises(NotFound):
            await service.release_order_funds(order_ref="nope", session=session)
        with pytest.raises(NotFound):
            await service.complete_payout(payout_ref="nope", session=session)
