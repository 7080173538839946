"""Demo payouts: the demo shop and the demo creator have each been paid out once and have a
payout on its way to their bank, through the ledger's payout service (available balance -> in
transit -> out to the bank, so every balance stays consistent). Adds nothing on a rerun.

The sandbox provider keeps a payout in transit for CLIPCART_PAYOUT_SANDBOX_SETTLE_SECONDS
(60 s by default): the demo's job worker then marks the one in transit paid, as a bank would
a day or two later."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from clipcart.accounts.models import User
from clipcart.core import clock
from clipcart.core.money import Money
from clipcart.demo.commerce import clock_at
from clipcart.ledger import service as ledger
from clipcart.ledger.config import get_ledger_settings
from clipcart.ledger.domain import Owner
from clipcart.shops.models import Shop

PAID_SHARE = 2  # the paid payout takes 1/2 of what is available
IN_TRANSIT_SHARE = 3  # the one in transit 1/3 of what is left


def payout_amounts(available: Money, minimum: Money) -> list[Money]:
    """The demo's payouts for an available balance, oldest first: about half of it (paid), then
    a third of the rest (in transit), each in whole major units and at least `minimum`; fewer
    when the balance cannot pay for both."""
    unit = Money.from_decimal("1", available.currency).amount
    amounts: list[Money] = []
    left = available.amount
    for share in (PAID_SHARE, IN_TRANSIT_SHARE):
        amount = max(left // share // unit * unit, minimum.amount)
        if amount <= 0 or amount > left:
            break
        amounts.append(Money(amount, available.currency))
        left -= amount
    return amounts


async def seed_demo_payouts(*, seller_email: str, shop_handle: str, creator_handle: str) -> int:
    """The demo shop's and the demo creator's payouts, once; how many were made."""
    from clipcart.core.db import unit_of_work

    async with unit_of_work() as session:
        seller = await session.scalar(select(User).where(User.email == seller_email))
        shop = await session.scalar(select(Shop).where(Shop.handle == shop_handle))
        creator = await session.scalar(select(User).where(User.handle == creator_handle))
    made = 0
    if seller is not None and shop is not None:
        made += await _seed_payee(Owner.shop(shop.id), shop.currency, requested_by=seller.id)
    if creator is not None and shop is not None:
        made += await _seed_payee(Owner.creator(creator.id), shop.currency, requested_by=creator.id)
    return made


async def _seed_payee(payee: Owner, currency: str, *, requested_by: uuid.UUID) -> int:
    """One payout paid and one in transit for `payee`, unless it has payouts already."""
    from clipcart.core.db import unit_of_work

    async with unit_of_work() as session:
        if (await ledger.list_payouts(payee, limit=1, session=session)).items:
            return 0
        balance = await ledger.get_payee_balance(payee, currency, session=session)
    amounts = payout_amounts(balance.available, ledger.minimum_payout_for(currency))
    settle = timedelta(seconds=get_ledger_settings().payout_sandbox_settle_seconds + 1)
    # Started that long ago, so the settled payout's entries are not dated in the future.
    async with clock_at(clock.now() - settle - timedelta(seconds=1)) as frozen:
        for number, amount in enumerate(amounts):
            async with unit_of_work() as session:
                payout = await ledger.create_payout(
                    payee=payee, amount=amount, requested_by=requested_by, session=session
                )
                payout_id = payout.id
            async with unit_of_work() as session:  # submitted: in transit from now on
                await ledger.advance_payout(payout_id, session=session)
            if number == 0:  # the first one has arrived at the bank
                frozen.advance(settle)
                async with unit_of_work() as session:
                    await ledger.advance_payout(payout_id, session=session)
                frozen.advance(timedelta(seconds=1))
    return len(amounts)
