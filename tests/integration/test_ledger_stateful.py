"""Hypothesis drives orders and payouts through the ledger, crashing some steps before commit.

The machine runs on its own event loop and engine (rules are synchronous, and pytest-asyncio's
session loop is idle while a synchronous test runs), against the test database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

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
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clipcart.core.config import get_settings
from clipcart.core.db import create_engine
from clipcart.core.errors import AppError
from clipcart.core.money import Money
from clipcart.ledger import service
from clipcart.ledger.domain import AccountKind, OrderSplit, Owner, refunded_share, split_order
from clipcart.ledger.errors import InsufficientFunds
from clipcart.ledger.models import LedgerAccount

USD = "USD"
FEE = Decimal("0.05")
MINIMUM = Decimal("5")
T = TypeVar("T")
# One step in five dies before commit (False first: Hypothesis leans towards the first choice).
crashes = st.sampled_from([False, False, False, False, True])


class Crash(Exception):
    """The process died after the service call, before the commit."""


class Runner:
    """A private event loop and engine that synchronous rules drive."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine = create_engine(get_settings().resolved_database_url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def run(self, coroutine: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def unit(self, work: Callable[[AsyncSession], Awaitable[T]], *, crash: bool = False) -> T:
        """Run `work` in one transaction; with `crash`, die after it so nothing commits."""

        async def body() -> T:
            async with self.sessions() as session:
                try:
                    result = await work(session)
                    if crash:
                        raise Crash
                    await session.commit()
                    return result
                except BaseException:
                    await session.rollback()
                    raise

        return self.run(body())

    def wipe(self) -> None:
        async def body() -> None:
            async with self.sessions() as session:
                for table in ("ledger_entries", "ledger_transfers", "ledger_escrows"):
                    await session.execute(text(f"DELETE FROM {table}"))
                await session.execute(text("DELETE FROM ledger_accounts"))
                await session.commit()

        self.run(body())

    def close(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()


@dataclass
class Order:
    ref: str
    amount: int
    shop: uuid.UUID
    creator: uuid.UUID | None
    commission: int
    terms: OrderSplit
    refunded: int = 0
    released: bool = False
    refunds: list[str] = field(default_factory=list)

    def share(self) -> OrderSplit:
        """What each party keeps after the refunds so far."""
        return self.terms.minus(refunded_share(self.terms, Money(self.refunded, USD)))


@dataclass
class Payout:
    ref: str
    payee: Owner
    amount: int
    outcome: str | None = None


def run(
    runner: Runner, work: Callable[[AsyncSession], Awaitable[Any]], crash: bool
) -> tuple[bool, Any]:
    """Run a step; (committed, result or the AppError it raised)."""
    try:
        return True, runner.unit(work, crash=crash)
    except Crash:
        return False, None
    except AppError as error:
        return False, error


class LedgerMachine(RuleBasedStateMachine):
    runner: ClassVar[Runner]

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, Order] = {}
        self.payouts: dict[str, Payout] = {}
        self.settled: set[str] = set()
        self.refund_amounts: dict[str, int] = {}
        self.counter = 0
        self.shops = [uuid.uuid4(), uuid.uuid4()]
        self.creators = [uuid.uuid4(), uuid.uuid4()]

    @initialize()
    def start_clean(self) -> None:
        self.runner.wipe()

    def _next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    # --- the model's view of every balance ----------------------------------------------

    def expected(self) -> dict[tuple[str, str, uuid.UUID], tuple[int, int]]:
        """(kind, owner_type, owner_id) -> (posted, pending) as the model predicts."""
        balances: dict[tuple[str, str, uuid.UUID], list[int]] = {}

        def add(kind: AccountKind, owner: Owner, posted: int = 0, pending: int = 0) -> None:
            slot = balances.setdefault((kind.value, owner.type.value, owner.id), [0, 0])
            slot[0] += posted
            slot[1] += pending

        platform = Owner.platform()
        for order in self.orders.values():
            share = order.share()
            parts: list[tuple[AccountKind, Owner, int]] = [
                (AccountKind.SELLER_BALANCE, Owner.shop(order.shop), share.seller.amount),
                (AccountKind.PLATFORM_FEES, platform, share.platform.amount),
            ]
            if order.creator is not None:
                parts.append(
                    (
                        AccountKind.CREATOR_BALANCE,
                        Owner.creator(order.creator),
                        share.creator.amount,
                    )
                )
            for kind, owner, amount in parts:
                add(kind, owner, posted=amount if order.released else 0,
                    pending=0 if order.released else amount)  # fmt: skip
            add(AccountKind.PROVIDER_CLEARING, platform, posted=order.amount)
            add(AccountKind.REFUNDS, platform, posted=order.refunded)
        for ref in self.settled:
            amount = self.refund_amounts[ref]
            add(AccountKind.REFUNDS, platform, posted=-amount)
            add(AccountKind.PROVIDER_CLEARING, platform, posted=-amount)
        for payout in self.payouts.values():
            if payout.outcome == "failed":
                continue
            balance_kind = (
                AccountKind.SELLER_BALANCE
                if payout.payee.type.value == "shop"
                else AccountKind.CREATOR_BALANCE
            )
            add(balance_kind, payout.payee, posted=-payout.amount)
            if payout.outcome == "completed":
                add(AccountKind.PROVIDER_CLEARING, platform, posted=-payout.amount)
            else:
                add(AccountKind.PAYOUTS_IN_TRANSIT, payout.payee, posted=payout.amount)
        return {key: (value[0], value[1]) for key, value in balances.items()}

    def clearing(self) -> int:
        platform = Owner.platform()
        key = ("provider_clearing", platform.type.value, platform.id)
        return self.expected().get(key, (0, 0))[0]

    def available(self, payee: Owner) -> int:
        kind = "seller_balance" if payee.type.value == "shop" else "creator_balance"
        return self.expected().get((kind, payee.type.value, payee.id), (0, 0))[0]

    # --- rules ---------------------------------------------------------------------------

    @rule(
        amount=st.integers(1, 999) | st.integers(1_000, 200_000),
        shop=st.integers(0, 1),
        creator=st.none() | st.integers(0, 1),
        commission_share=st.sampled_from([Decimal(0), Decimal("0.1"), Decimal("0.333")]),
        crash=crashes,
        replay=st.booleans(),
        data=st.data(),
    )
    def pay(
        self,
        amount: int,
        shop: int,
        creator: int | None,
        commission_share: Decimal,
        crash: bool,
        replay: bool,
        data: st.DataObject,
    ) -> None:
        if replay and self.orders:
            self.replay_a_hold(data.draw(st.sampled_from(list(self.orders.values()))))
            return
        ref = self._next("order")
        creator_id = None if creator is None else self.creators[creator]
        commission = Money(amount, USD).apply_rate(commission_share) if creator_id else None
        terms = split_order(Money(amount, USD), fee_rate=FEE, commission=commission)

        async def work(session: AsyncSession) -> Any:
            return await service.hold_payment(
                order_ref=ref, amount=Money(amount, USD), shop_id=self.shops[shop],
                creator_id=creator_id, commission=commission, fee_rate=FEE, session=session,
            )  # fmt: skip

        committed, result = run(self.runner, work, crash)
        assert not isinstance(result, AppError), result
        if committed:
            self.orders[ref] = Order(
                ref, amount, self.shops[shop], creator_id,
                commission.amount if commission else 0, terms,
            )  # fmt: skip

    @precondition(lambda self: any(not o.released for o in self.orders.values()))
    @rule(data=st.data(), crash=crashes)
    def release(self, data: st.DataObject, crash: bool) -> None:
        order = data.draw(st.sampled_from([o for o in self.orders.values() if not o.released]))

        async def work(session: AsyncSession) -> Any:
            return await service.release_order_funds(order_ref=order.ref, session=session)

        committed, result = run(self.runner, work, crash)
        if order.refunded == order.amount:
            assert isinstance(result, AppError) and result.code == "wrong_state"
            return
        assert not isinstance(result, AppError), result
        if committed:
            order.released = True

    @precondition(lambda self: any(o.refunded < o.amount for o in self.orders.values()))
    @rule(data=st.data(), full=st.booleans(), crash=crashes)
    def refund(self, data: st.DataObject, full: bool, crash: bool) -> None:
        order = data.draw(
            st.sampled_from([o for o in self.orders.values() if o.refunded < o.amount])
        )
        left = order.amount - order.refunded
        amount = left if full else data.draw(st.integers(1, left))
        ref = self._next("refund")
        call = service.refund_after_release if order.released else service.refund_before_release

        async def work(session: AsyncSession) -> Any:
            return await call(
                order_ref=order.ref, amount=Money(amount, USD), refund_ref=ref, session=session
            )

        committed, result = run(self.runner, work, crash)
        assert not isinstance(result, AppError), result
        if committed:
            order.refunded += amount
            order.refunds.append(ref)
            self.refund_amounts[f"{order.ref}/{ref}"] = amount

    @precondition(
        lambda self: any(
            f"{o.ref}/{r}" not in self.settled for o in self.orders.values() for r in o.refunds
        )
    )
    @rule(data=st.data(), crash=crashes)
    def settle(self, data: st.DataObject, crash: bool) -> None:
        choices = [
            (o.ref, r) for o in self.orders.values() for r in o.refunds
            if f"{o.ref}/{r}" not in self.settled
        ]  # fmt: skip
        order_ref, refund_ref = data.draw(st.sampled_from(choices))

        async def work(session: AsyncSession) -> Any:
            return await service.settle_refund(
                order_ref=order_ref, refund_ref=refund_ref, session=session
            )

        committed, result = run(self.runner, work, crash)
        if self.refund_amounts[f"{order_ref}/{refund_ref}"] > self.clearing():
            # Refunds taken back from sellers who were already paid out can exceed what is
            # at the provider; clearing may not go negative, so the refund waits for money.
            assert isinstance(result, InsufficientFunds), result
            return
        assert not isinstance(result, AppError), result
        if committed:
            self.settled.add(f"{order_ref}/{refund_ref}")

    def payees(self) -> list[Owner]:
        return [Owner.shop(shop) for shop in self.shops] + [
            Owner.creator(creator) for creator in self.creators
        ]

    @precondition(lambda self: any(self.available(payee) >= 1_000 for payee in self.payees()))
    @rule(
        data=st.data(),
        size=st.sampled_from(["tiny", "half", "all", "over"]),
        crash=crashes,
    )
    def request_payout(self, data: st.DataObject, size: str, crash: bool) -> None:
        funded = [payee for payee in self.payees() if self.available(payee) >= 1_000]
        payee = data.draw(st.sampled_from(funded))
        ref = self._next("payout")
        available = self.available(payee)
        amount = {
            "tiny": 499,
            "half": max(available // 2, 500),
            "all": max(available, 500),
            "over": max(available + 1, 500),
        }[size]

        async def work(session: AsyncSession) -> Any:
            return await service.request_payout(
                payee=payee, amount=Money(amount, USD), payout_ref=ref, minimum=MINIMUM,
                session=session,
            )  # fmt: skip

        committed, result = run(self.runner, work, crash)
        if amount < 500:
            assert isinstance(result, AppError) and result.code == "invalid_transfer"
        elif amount > available:
            assert isinstance(result, InsufficientFunds), (amount, available, result)
        else:
            assert not isinstance(result, AppError), result
            if committed:
                self.payouts[ref] = Payout(ref, payee, amount)

    @precondition(lambda self: any(p.outcome is None for p in self.payouts.values()))
    @rule(data=st.data(), complete=st.booleans(), crash=crashes)
    def finish_payout(self, data: st.DataObject, complete: bool, crash: bool) -> None:
        payout = data.draw(st.sampled_from([p for p in self.payouts.values() if p.outcome is None]))

        async def work(session: AsyncSession) -> Any:
            if complete:
                return await service.complete_payout(payout_ref=payout.ref, session=session)
            return await service.fail_payout(payout_ref=payout.ref, reason="test", session=session)

        committed, result = run(self.runner, work, crash)
        if complete and payout.amount > self.clearing():
            assert isinstance(result, InsufficientFunds), result
            return
        assert not isinstance(result, AppError), result
        if committed:
            payout.outcome = "completed" if complete else "failed"

    def replay_a_hold(self, order: Order) -> None:
        """Holding an order's payment again changes nothing."""

        async def work(session: AsyncSession) -> Any:
            return await service.hold_payment(
                order_ref=order.ref, amount=Money(order.amount, USD), shop_id=order.shop,
                creator_id=order.creator,
                commission=Money(order.commission, USD) if order.creator else None,
                fee_rate=FEE, session=session,
            )  # fmt: skip

        committed, result = run(self.runner, work, False)
        assert committed and not isinstance(result, AppError), result

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def ledger_verifies(self) -> None:
        async def work(session: AsyncSession) -> Any:
            return await service.verify_ledger(session=session)

        assert self.runner.unit(work) == []

    @invariant()
    def balances_match_the_model_and_money_is_conserved(self) -> None:
        async def work(session: AsyncSession) -> list[LedgerAccount]:
            return list((await session.scalars(select(LedgerAccount))).all())

        accounts = self.runner.unit(work)
        actual: dict[tuple[str, str, uuid.UUID], tuple[int, int]] = {}
        by_kind: dict[str, int] = {}
        for account in accounts:
            balance = service.balance_out(account)
            if balance.posted or balance.pending:
                actual[(account.kind, account.owner_type, account.owner_id)] = (
                    balance.posted,
                    balance.pending,
                )
            by_kind[account.kind] = by_kind.get(account.kind, 0) + balance.posted
            if account.kind in ("buyer_funds_held", "provider_clearing", "payouts_in_transit"):
                assert balance.posted >= 0 and balance.available >= 0, account.kind
        expected = {key: value for key, value in self.expected().items() if value != (0, 0)}
        held = {key: value for key, value in actual.items() if key[0] == "buyer_funds_held"}
        assert {k: v for k, v in actual.items() if k[0] != "buyer_funds_held"} == expected

        # Escrow holds what was paid and neither refunded nor released, order by order.
        still_held = sum(o.amount - o.refunded for o in self.orders.values() if not o.released)
        assert sum(posted for posted, _ in held.values()) == still_held

        # Sum paid by buyers == seller + creator + platform + refunded + still held.
        paid = sum(o.amount for o in self.orders.values())
        paid_out = sum(p.amount for p in self.payouts.values() if p.outcome == "completed")
        settled = sum(self.refund_amounts[ref] for ref in self.settled)
        sellers_and_creators = (
            by_kind.get("seller_balance", 0)
            + by_kind.get("creator_balance", 0)
            + by_kind.get("payouts_in_transit", 0)
            + paid_out
        )
        refunded = by_kind.get("refunds", 0) + settled
        assert paid == (
            sellers_and_creators + by_kind.get("platform_fees", 0) + refunded + still_held
        )
        # The accounting equation on the stored balances: assets == liabilities + revenue.
        liabilities = sum(v for k, v in by_kind.items() if k != "provider_clearing")
        assert by_kind.get("provider_clearing", 0) == liabilities


def test_the_ledger_stays_consistent_through_any_sequence_of_steps() -> None:
    LedgerMachine.runner = Runner()
    try:
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(
                max_examples=40,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        LedgerMachine.runner.wipe()
        LedgerMachine.runner.close()
