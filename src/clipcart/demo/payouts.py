"""Demo payouts: the demo shop and the demo creator have each been paid out once and have a
payout on its way to their bank, through the ledger's payout service (available balance -> in
transit -> out to the bank, so every balance stays consistent). Adds nothing on a rerun.

The sandbox provider keeps a payout in transit for CLIPCART_PAYOUT_SANDBOX_SETTLE_SECONDS
(60 s by default): the demo's job worker then marks the one in transit paid, as a bank would
a day or two later. The paid one is dated a day ago, after the sales it pays out; the one in
transit is the story's last step (demo/timeline.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from clipcart.accounts.models import User
from clipcart.core.money import Money
from clipcart.demo.timeline import Timeline
from clipcart.ledger import service as ledger
from clipcart.ledger.config import get_ledger_settings
from clipcart.ledger.domain import Owner
from clipcart.shops.models import Shop

PAID_SHARE = 2  # the paid payout takes 1/2 of what is available
IN_TRANSIT_SHARE = 3  # the one in transit 1/3 of what is left
# After the last sale released (two days ago), before the newest orders: paid out yesterday,
# at the bank this morning.
PAID_REQUESTED_AGO = timedelta(hours=30)
PAID_SETTLED_AGO = timedelta(hours=6)


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


async def plan_demo_payouts(
    timeline: Timeline, *, seller_email: str, shop_handle: str, creator_handle: str
) -> int:
    """The demo shop's and the demo creator's payouts, once, planned on `timeline` after the
    sales that fund them; how many payees get them."""
    from clipcart.core.db import unit_of_work

    async with unit_of_work() as session:
        seller = await session.scalar(select(User).where(User.email == seller_email))
        shop = await session.scalar(select(Shop).where(Shop.handle == shop_handle))
        creator = await session.scalar(select(User).where(User.handle == creator_handle))
        if shop is None:
            return 0
        payees: list[tuple[Owner, uuid.UUID]] = []
        if seller is not None:
            payees.append((Owner.shop(shop.id), seller.id))
        if creator is not None:
            payees.append((Owner.creator(creator.id), creator.id))
        fresh = [
            (payee, requested_by)
            for payee, requested_by in payees
            if not (await ledger.list_payouts(payee, limit=1, session=session)).items
        ]
    for payee, requested_by in fresh:
        DemoPayouts(payee, shop.currency, requested_by).plan(timeline)
    return len(fresh)


@dataclass
class DemoPayouts:
    """One payee's two payouts: one requested a day ago and paid since, one on its way now."""

    payee: Owner
    currency: str
    requested_by: uuid.UUID
    amounts: list[Money] = field(default_factory=list)
    paid_id: uuid.UUID | None = None

    def plan(self, timeline: Timeline) -> None:
        """Put the payouts' steps on `timeline`: every other step of the demo is older."""
        requested_at = timeline.now - PAID_REQUESTED_AGO
        settle = timedelta(seconds=get_ledger_settings().payout_sandbox_settle_seconds + 1)
        # Settled once the sandbox says so, which a very long settle time may put off for good.
        settled_at = min(max(timeline.now - PAID_SETTLED_AGO, requested_at + settle), timeline.now)
        timeline.add(requested_at, self.request_paid)
        timeline.add(settled_at, self.settle_paid)
        timeline.add(timeline.now, self.request_in_transit)

    async def request_paid(self) -> None:
        """Split what is available now into the two payouts and send the first."""
        from clipcart.core.db import unit_of_work

        async with unit_of_work() as session:
            balance = await ledger.get_payee_balance(self.payee, self.currency, session=session)
        self.amounts = payout_amounts(balance.available, ledger.minimum_payout_for(self.currency))
        if self.amounts:
            self.paid_id = await self._send(self.amounts[0])

    async def settle_paid(self) -> None:
        """The first payout has arrived at the bank (the sandbox's settle time is long over)."""
        from clipcart.core.db import unit_of_work

        if self.paid_id is not None:
            async with unit_of_work() as session:
                await ledger.advance_payout(self.paid_id, session=session)

    async def request_in_transit(self) -> None:
        """Send the second payout: in transit when the demo starts, paid by the job worker
        once the sandbox's settle time has passed."""
        if len(self.amounts) > 1:
            await self._send(self.amounts[1])

    async def _send(self, amount: Money) -> uuid.UUID:
        from clipcart.core.db import unit_of_work

        async with unit_of_work() as session:
            payout = await ledger.create_payout(
                payee=self.payee, amount=amount, requested_by=self.requested_by, session=session
            )
            payout_id = payout.id
        async with unit_of_work() as session:  # submitted: in transit from now on
            await ledger.advance_payout(payout_id, session=session)
        return payout_id
