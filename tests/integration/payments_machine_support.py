"""The payments state machine's harness (tests/integration/test_payments_stateful.py): the
switch that kills the process after a provider call or before a commit, the provider that obeys
it, the private event loop the synchronous rules drive, and the model of what it paid."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.config import get_settings
from clipcart.core.db import Base, dispose_engine, unit_of_work
from clipcart.core.errors import AppError
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.ledger.domain import (
    OrderSplit,
    Owner,
    refunded_share,
)
from clipcart.ledger.models import LedgerAccount, LedgerTransfer
from clipcart.ledger.schemas import Discrepancy
from clipcart.payments import charging, refunds, settlement
from clipcart.payments.provider import ChargeSnapshot, RefundSnapshot
from clipcart.payments.reconciliation import verify_captures_match_ledger
from clipcart.payments.sandbox.models import SandboxCharge
from clipcart.payments.sandbox_client import SandboxProvider

USD = "USD"
MINIMUM = Decimal("5")
T = TypeVar("T")
# Tables that outlive an example: the payer and their saved card.
KEEP = frozenset({"users", "payment_methods", "sandbox_cards"})
# Mostly no crash (the first choice is where Hypothesis shrinks to).
crashes = st.sampled_from([None, None, None, "after_call", "before_commit"])


class Crash(Exception):
    """The process died after the provider acted, before ClipCart committed what it said."""


class CrashSwitch:
    """Arms one crash: right after the next money call, or before the next commit after it."""

    def __init__(self) -> None:
        self.armed: str | None = None
        self.fired = False

    def after_provider_call(self) -> None:
        if self.armed == "after_call":
            self.armed = None
            raise Crash
        if self.armed == "before_commit":
            self.fired = True

    def before_commit(self) -> None:
        if self.fired:
            self.armed, self.fired = None, False
            raise Crash


class CrashingProvider:
    """The sandbox provider, with the process dying when the switch says so."""

    def __init__(self, inner: SandboxProvider, switch: CrashSwitch) -> None:
        self.inner, self.switch, self.name = inner, switch, inner.name

    async def _money(self, call: Awaitable[T]) -> T:
        result = await call
        self.switch.after_provider_call()
        return result

    async def authorise(
        self, *, amount: Money, payment_method: str, idempotency_key: str, reference: str
    ) -> ChargeSnapshot:
        return await self._money(
            self.inner.authorise(
                amount=amount,
                payment_method=payment_method,
                idempotency_key=idempotency_key,
                reference=reference,
            )
        )

    async def confirm(self, charge_id: str, *, idempotency_key: str) -> ChargeSnapshot:
        return await self._money(self.inner.confirm(charge_id, idempotency_key=idempotency_key))

    async def capture(
        self, charge_id: str, *, amount: Money | None, idempotency_key: str
    ) -> ChargeSnapshot:
        return await self._money(
            self.inner.capture(charge_id, amount=amount, idempotency_key=idempotency_key)
        )

    async def void(self, charge_id: str, *, idempotency_key: str) -> ChargeSnapshot:
        return await self._money(self.inner.void(charge_id, idempotency_key=idempotency_key))

    async def refund(
        self, charge_id: str, *, amount: Money, idempotency_key: str
    ) -> tuple[ChargeSnapshot, RefundSnapshot]:
        return await self._money(
            self.inner.refund(charge_id, amount=amount, idempotency_key=idempotency_key)
        )

    def __getattr__(self, name: str) -> Any:  # find_charge, save_card, parse_webhook
        return getattr(self.inner, name)


class Runner:
    """A private event loop that synchronous rules drive; the app serves the sandbox on it."""

    def __init__(self) -> None:
        from clipcart.app import create_app

        self.loop = asyncio.new_event_loop()
        self.switch = CrashSwitch()
        transport = httpx.ASGITransport(app=create_app(get_settings()))
        sandbox = SandboxProvider("http://testserver/sandbox", transport=transport, timeout=30)
        self.provider = CrashingProvider(sandbox, self.switch)
        self.transport = transport

    def run(self, coroutine: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def unit(self, work: Callable[[AsyncSession], Awaitable[T]], *, crash: bool = False) -> T:
        """`work` in one transaction; with `crash` it dies before the commit."""

        async def body() -> T:
            async with unit_of_work() as session:
                result = await work(session)
                if crash:
                    raise Crash
                return result

        return self.run(body())

    def wipe(self) -> None:
        async def body() -> None:
            async with unit_of_work() as session:
                for table in reversed(Base.metadata.sorted_tables):
                    if table.name not in KEEP:
                        await session.execute(table.delete())

        self.run(body())

    def close(self) -> None:
        self.run(dispose_engine())
        self.loop.close()


@dataclass
class Order:
    ref: str
    intent_id: uuid.UUID
    amount: int
    shop: uuid.UUID
    creator: uuid.UUID | None
    terms: OrderSplit
    status: str = "authorised"
    refunded: int = 0
    refund_count: int = 0
    released: bool = False

    def share(self) -> OrderSplit:
        """What each party keeps after the refunds so far."""
        return self.terms.minus(refunded_share(self.terms, Money(self.refunded, USD)))


@dataclass
class Outstanding:
    """A step whose provider call happened but whose result ClipCart did not commit."""

    step: str  # authorise, capture or refund
    amount: int = 0
    request_key: str = ""


@dataclass
class Payout:
    ref: str
    payee: Owner
    amount: int
    outcome: str | None = None


def attempt(runner: Runner, call: Callable[[], Awaitable[T]]) -> T | Crash | AppError:
    """Run a service call that opens its own transactions: its result, the crash or its error."""
    try:
        return runner.run(call())
    except Crash as crash:
        return crash
    except AppError as error:
        return error


@dataclass(frozen=True)
class MoneyView:
    """Where the money is: the ledger's accounts and transfer totals by kind, what the provider
    captured and refunded, where the two disagree, and the balances by account kind."""

    accounts: list[LedgerAccount]
    transfer_totals: dict[str, int]
    captured: int
    refunded: int
    mismatches: list[Discrepancy]
    posted: dict[str, int]
    pending: dict[str, int]


async def read_money() -> MoneyView:
    """The money as the database has it now, read in one transaction."""
    async with unit_of_work() as session:
        accounts = list(await session.scalars(select(LedgerAccount)))
        totals = select(LedgerTransfer.kind, func.sum(LedgerTransfer.total))
        rows = await session.execute(totals.group_by(LedgerTransfer.kind))
        provider = await session.execute(
            select(
                func.coalesce(func.sum(SandboxCharge.amount_captured), 0),
                func.coalesce(func.sum(SandboxCharge.amount_refunded), 0),
            )
        )
        captured, refunded = provider.one()
        mismatches = await verify_captures_match_ledger(session=session)
    posted: dict[str, int] = {}
    pending: dict[str, int] = {}
    for account in accounts:
        balance = ledger.balance_out(account)
        posted[account.kind] = posted.get(account.kind, 0) + balance.posted
        pending[account.kind] = pending.get(account.kind, 0) + balance.pending
    return MoneyView(
        accounts,
        {kind: int(total) for kind, total in rows},
        int(captured),
        int(refunded),
        mismatches,
        posted,
        pending,
    )


@contextmanager
def commits_that_can_die(runner: Runner) -> Iterator[None]:
    """Every payments module that opens its own transactions around a provider call commits
    through the runner's crash switch while this lasts."""
    dying_modules = (charging, settlement, refunds)
    real_unit_of_work = refunds.unit_of_work
    assert all(module.unit_of_work is real_unit_of_work for module in dying_modules)

    @asynccontextmanager
    async def dying_unit_of_work() -> AsyncIterator[AsyncSession]:
        async with real_unit_of_work() as session:
            yield session
            runner.switch.before_commit()

    for module in dying_modules:
        module.unit_of_work = dying_unit_of_work  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in dying_modules:
            module.unit_of_work = real_unit_of_work  # type: ignore[attr-defined]
