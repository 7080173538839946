"""An escrow shared by several creators (one order, lines credited to different creators):
each line's refund claws back exactly that line's commission, before and after release, and
every cent adds up in the ledger."""

from __future__ import annotations

import uuid

from clipcart.core.db import unit_of_work
from clipcart.ledger import service
from clipcart.ledger.domain import AccountKind, Owner
from tests.integration.test_ledger_escrow import hold, pending, posted, refund, release


async def plan(order_ref: str, *shares: tuple[str, uuid.UUID, int, int]) -> None:
    async with unit_of_work() as session:
        await service.plan_creator_shares(
            order_ref=order_ref,
            shares=[service.ShareIn(*share) for share in shares],
            session=session,
        )


async def claim(order_ref: str, **claims: int) -> None:
    async with unit_of_work() as session:
        await service.claim_line_refunds(order_ref=order_ref, claims=claims, session=session)


async def clawbacks(order_ref: str) -> dict[str, int]:
    async with unit_of_work() as session:
        return await service.line_clawbacks_of(order_ref, session=session)


async def consistent() -> None:
    async with unit_of_work() as session:
        assert await service.verify_ledger(session=session) == []


async def test_each_lines_refund_claws_back_only_its_creators_commission() -> None:
    shop, amy, ben = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    amy_owner, ben_owner = Owner.creator(amy), Owner.creator(ben)
    order = "order:multi-creator"
    # Line a: $100 credited to Amy at 12%; line b: $50 to Ben at 10%; $5 shipping.
    await plan(order, ("a", amy, 10_000, 1_200), ("b", ben, 5_000, 500))
    escrow = await hold(order, 15_500, shop, commission=1_700)
    assert escrow.creator_amount == 1_700
    assert escrow.platform_amount == 500 + 250 + 25  # 5% per portion
    assert await pending(AccountKind.CREATOR_BALANCE, amy_owner) == 1_200
    assert await pending(AccountKind.CREATOR_BALANCE, ben_owner) == 500
    assert await pending(AccountKind.SELLER_BALANCE, Owner.shop(shop)) == 15_500 - 1_700 - 775

    # Ben's line comes back before release: his commission goes, Amy's stays.
    await claim(order, b=5_000)
    await refund(order, 5_000, "r1")
    assert await pending(AccountKind.CREATOR_BALANCE, ben_owner) == 0
    assert await pending(AccountKind.CREATOR_BALANCE, amy_owner) == 1_200
    assert await clawbacks(order) == {"a": 0, "b": 500}
    await consistent()

    # Completed: Amy's commission is available; then half her line is refunded after release.
    await release(order)
    assert await posted(AccountKind.CREATOR_BALANCE, amy_owner) == 1_200
    await claim(order, a=5_000)
    await refund(order, 5_000, "r2")
    assert await posted(AccountKind.CREATOR_BALANCE, amy_owner) == 600
    assert await posted(AccountKind.CREATOR_BALANCE, ben_owner) == 0
    assert await clawbacks(order) == {"a": 600, "b": 500}
    # The seller kept the shipping share and what is left of line a, net of fees.
    assert await posted(AccountKind.SELLER_BALANCE, Owner.shop(shop)) == (
        (500 - 25) + (5_000 - 250 - 600)
    )
    await consistent()


async def test_a_full_refund_without_claims_takes_back_every_commission() -> None:
    shop, amy, ben = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    order = "order:cancelled-multi"
    await plan(order, ("a", amy, 3_333, 400), ("b", ben, 3_333, 333))
    await hold(order, 7_166, shop, commission=733)
    await refund(order, 7_166, "cancel")
    for creator in (amy, ben):
        assert await pending(AccountKind.CREATOR_BALANCE, Owner.creator(creator)) == 0
    assert await clawbacks(order) == {"a": 400, "b": 333}
    await consistent()
