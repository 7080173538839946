"""Hypothesis drives one order shared by several creators through the ledger: line refunds
declared and refunded in any order, before and after release. After every step the ledger
balances, every cent of the order is someone's, and each creator holds exactly the
commissions of their lines minus what those lines' refunds took back."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.money import Money
from clipcart.ledger import service
from clipcart.ledger.domain import AccountKey, AccountKind, Owner
from tests.integration.test_ledger_stateful import FEE, USD, Runner

LINES = ("a", "b", "c")


class SharedEscrow(RuleBasedStateMachine):
    """One order: lines a and c credited to Amy, b to Ben, plus shipping."""

    runner: Runner

    def __init__(self) -> None:
        super().__init__()
        self.shop, self.amy, self.ben = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        self.ref = f"order:{uuid.uuid4()}"
        self.lines: dict[str, tuple[uuid.UUID, int, int]] = {}
        self.total = 0
        self.refunded = 0
        self.released = False
        self.claims: dict[str, int] = {}
        self.count = 0

    @initialize(
        amounts=st.lists(st.integers(1, 20_000), min_size=3, max_size=3),
        rates=st.lists(st.integers(0, 5_000), min_size=3, max_size=3),
        shipping=st.integers(0, 1_000),
    )
    def hold(self, amounts: list[int], rates: list[int], shipping: int) -> None:
        creators = (self.amy, self.ben, self.amy)
        self.lines = {
            line: (creator, amount, amount * rate // 10_000)
            for line, creator, amount, rate in zip(LINES, creators, amounts, rates, strict=True)
        }
        self.total = sum(amounts) + shipping
        commission = sum(cut for _, _, cut in self.lines.values())

        async def work(session: AsyncSession) -> None:
            await service.plan_creator_shares(
                order_ref=self.ref,
                shares=[service.ShareIn(line, *terms) for line, terms in self.lines.items()],
                session=session,
            )
            await service.hold_payment(
                order_ref=self.ref,
                amount=Money(self.total, USD),
                shop_id=self.shop,
                commission=Money(commission, USD) if commission else None,
                fee_rate=FEE,
                session=session,
            )

        self.runner.unit(work)

    @rule(line=st.sampled_from(LINES), part=st.integers(1, 20_000))
    def claim(self, line: str, part: int) -> None:
        self.claims[line] = min(self.lines[line][1], self.claims.get(line, 0) + part)
        claims = dict(self.claims)

        async def work(session: AsyncSession) -> None:
            await service.claim_line_refunds(order_ref=self.ref, claims=claims, session=session)

        self.runner.unit(work)

    @precondition(lambda self: self.refunded < self.total)
    @rule(amount=st.integers(1, 25_000))
    def refund(self, amount: int) -> None:
        amount = min(amount, self.total - self.refunded)
        self.count += 1
        key = f"r{self.count}"

        async def work(session: AsyncSession) -> None:
            await service.refund_order(
                order_ref=self.ref, amount=Money(amount, USD), refund_ref=key, session=session
            )

        self.runner.unit(work)
        self.refunded += amount

    @precondition(lambda self: not self.released and self.refunded < self.total)
    @rule()
    def release(self) -> None:
        async def work(session: AsyncSession) -> None:
            await service.release_order_funds(order_ref=self.ref, session=session)

        self.runner.unit(work)
        self.released = True

    def _read(self) -> dict[str, Any]:
        async def work(session: AsyncSession) -> dict[str, Any]:
            balances = {}
            for name, key in {
                "amy": AccountKey(AccountKind.CREATOR_BALANCE, Owner.creator(self.amy), USD),
                "ben": AccountKey(AccountKind.CREATOR_BALANCE, Owner.creator(self.ben), USD),
                "seller": AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(self.shop), USD),
            }.items():
                found = await service.get_account_balance(key, session=session)
                balances[name] = (found.posted + found.pending) if found else 0
            return {
                "balances": balances,
                "clawbacks": await service.line_clawbacks_of(self.ref, session=session),
                "problems": await service.verify_ledger(session=session),
            }

        result: dict[str, Any] = self.runner.unit(work)
        return result

    @invariant()
    def every_cent_is_accounted_for(self) -> None:
        if not self.lines:
            return
        state = self._read()
        assert state["problems"] == []
        clawbacks: dict[str, int] = state["clawbacks"]
        for line, (_, _, cut) in self.lines.items():
            assert 0 <= clawbacks.get(line, 0) <= cut
        if not self.refunded:
            assert not any(clawbacks.values())
        for name, creator in (("amy", self.amy), ("ben", self.ben)):
            owed = sum(
                cut - clawbacks.get(line, 0)
                for line, (who, _, cut) in self.lines.items()
                if who == creator
            )
            assert state["balances"][name] == owed
        if self.refunded == self.total:
            assert all(clawbacks.get(line, 0) == cut for line, (_, _, cut) in self.lines.items())


def test_an_escrow_shared_by_creators_adds_up_after_any_refunds() -> None:
    runner = Runner()
    SharedEscrow.runner = runner
    try:
        run_state_machine_as_test(
            SharedEscrow,
            settings=settings(
                max_examples=12,
                stateful_step_count=8,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        runner.close()
