"""Hypothesis drives payments and the ledger together, killing the process between the provider
call and the commit, and lets the webhook, the reconciliation job or a retry settle it.

Payments go through the sandbox provider over HTTP (the app in-process, as in the API tests).
The machine runs on its own event loop (rules are synchronous) against the test database.
A crash is injected two ways: right after the provider answered (nothing after it runs), or in
the transaction that applies the answer, which then rolls back instead of committing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import httpx
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.accounts.schemas import SignupIn
from clipcart.core.config import get_settings
from clipcart.core.db import Base, dispose_engine, unit_of_work
from clipcart.core.errors import AppError
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.ledger.config import get_ledger_settings
from clipcart.ledger.domain import (
    AccountKey,
    AccountKind,
    OrderSplit,
    Owner,
    TransferKind,
    refunded_share,
    split_order,
)
from clipcart.ledger.models import LedgerAccount, LedgerTransfer
from clipcart.payments import charging, refunds, settlement, webhooks
from clipcart.payments import service as payments
from clipcart.payments.models import PaymentIntent, PaymentRefund
from clipcart.payments.provider import ChargeSnapshot, ProviderTimeout, RefundSnapshot
from clipcart.payments.reconciliation import verify_captures_match_ledger
from clipcart.payments.sandbox import tasks as sandbox_tasks
from clipcart.payments.sandbox.models import SandboxCharge, SandboxRefund
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


class PaymentsMachine(RuleBasedStateMachine):
    runner: ClassVar[Runner]
    payer: ClassVar[User]
    card: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, Order] = {}
        self.outstanding: dict[str, Outstanding] = {}
        self.payouts: dict[str, Payout] = {}
        self.counter = 0
        self.shops = [uuid.uuid4(), uuid.uuid4()]
        self.creators = [uuid.uuid4(), uuid.uuid4()]
        self.fee_rate = get_ledger_settings().platform_fee_rate

    @initialize()
    def start_clean(self) -> None:
        self.runner.switch.armed, self.runner.switch.fired = None, False
        self.runner.wipe()

    def _next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}-{uuid.uuid4().hex[:6]}"

    def _arm(self, crash: str | None) -> None:
        self.runner.switch.armed, self.runner.switch.fired = crash, False

    def _settled(self, predicate: Callable[[Order], bool]) -> list[Order]:
        return [o for o in self.orders.values() if o.ref not in self.outstanding and predicate(o)]

    def _intent(self, order: Order) -> PaymentIntent:
        async def work(session: AsyncSession) -> PaymentIntent:
            intent = await session.get(PaymentIntent, order.intent_id)
            assert intent is not None
            return intent

        return self.runner.unit(work)

    # --- paying ---------------------------------------------------------------------------

    @rule(
        amount=st.integers(100, 999) | st.integers(1_000, 200_000),
        shop=st.integers(0, 1),
        creator=st.none() | st.integers(0, 1),
        commission_share=st.sampled_from([Decimal(0), Decimal("0.1"), Decimal("0.333")]),
        crash=crashes,
        then_capture=st.sampled_from([True, True, False]),
        capture_crash=crashes,
    )
    def pay(
        self,
        amount: int,
        shop: int,
        creator: int | None,
        commission_share: Decimal,
        crash: str | None,
        then_capture: bool,
        capture_crash: str | None,
    ) -> None:
        """Create an intent for a new order, authorise it at the provider, and (mostly)
        capture it at once as checkout does."""
        ref = self._next("order")
        creator_id = None if creator is None else self.creators[creator]
        commission = Money(amount, USD).apply_rate(commission_share) if creator_id else None
        terms = split_order(Money(amount, USD), fee_rate=self.fee_rate, commission=commission)

        async def create(session: AsyncSession) -> uuid.UUID:
            intent = await payments.create_payment_intent(
                ref, Money(amount, USD), self.card, idempotency_key=ref, user_id=self.payer.id,
                shop_id=self.shops[shop], creator_id=creator_id, commission=commission,
                session=session,
            )  # fmt: skip
            return intent.id

        intent_id = self.runner.unit(create)
        order = Order(ref, intent_id, amount, self.shops[shop], creator_id, terms)
        self.orders[ref] = order
        self._arm(crash)
        result = attempt(
            self.runner, lambda: payments.confirm_payment_intent(intent_id, viewer=self.payer)
        )
        if crash:
            assert isinstance(result, Crash), result
            assert self._intent(order).status == "processing"
            self.outstanding[ref] = Outstanding("authorise")
            event(f"crash {crash} authorise")
        else:
            assert result is None, result
            assert self._intent(order).status == "authorised"
            if then_capture:
                self._capture(order, capture_crash)

    @precondition(lambda self: self._settled(lambda o: o.status == "authorised"))
    @rule(data=st.data(), crash=crashes)
    def capture(self, data: st.DataObject, crash: str | None) -> None:
        """Take the authorised money: it is held in escrow in the ledger."""
        self._capture(
            data.draw(st.sampled_from(self._settled(lambda o: o.status == "authorised"))), crash
        )

    def _capture(self, order: Order, crash: str | None) -> None:
        self._arm(crash)
        result = attempt(
            self.runner, lambda: payments.capture_payment_intent(order.intent_id, viewer=self.payer)
        )
        if crash:
            assert isinstance(result, Crash), result
            assert self._intent(order).status == "authorised"
            self.outstanding[order.ref] = Outstanding("capture")
            event(f"crash {crash} capture")
        else:
            assert result is None, result
            order.status = "captured"

    @precondition(lambda self: self._settled(lambda o: o.status == "captured"))
    @rule(data=st.data(), size=st.sampled_from(["part", "all", "over"]), crash=crashes)
    def refund(self, data: st.DataObject, size: str, crash: str | None) -> None:
        """Refund part or all of what is left, before or after release; too much is a 422."""
        order = data.draw(st.sampled_from(self._settled(lambda o: o.status == "captured")))
        left = order.amount - order.refunded
        if left == 0:
            size = "over"
        amount = {"all": left, "over": left + 1}.get(size) or data.draw(st.integers(1, left))
        request_key = self._next("refund")
        self._arm(None if size == "over" else crash)
        result = attempt(
            self.runner,
            lambda: refunds.refund_payment_intent(
                order.intent_id, Money(amount, USD), viewer=self.payer, request_key=request_key
            ),
        )
        if size == "over":
            code = "payment_wrong_state" if left == 0 else "validation_failed"
            assert isinstance(result, AppError) and result.code == code, result
        elif crash:
            assert isinstance(result, Crash), result
            self.outstanding[order.ref] = Outstanding("refund", amount, request_key)
            event(f"crash {crash} refund {'after' if order.released else 'before'} release")
        else:
            assert isinstance(result, uuid.UUID), result
            order.refunded += amount
            order.refund_count += 1

    @precondition(
        lambda self: self._settled(
            lambda o: o.status == "captured" and not o.released and o.refunded < o.amount
        )
    )
    @rule(data=st.data(), crash=st.booleans())
    def release(self, data: st.DataObject, crash: bool) -> None:
        """The order completed: seller and creator shares become available."""
        order = data.draw(
            st.sampled_from(
                self._settled(
                    lambda o: o.status == "captured" and not o.released and o.refunded < o.amount
                )
            )
        )

        async def work(session: AsyncSession) -> Any:
            return await ledger.release_order_funds(order_ref=order.ref, session=session)

        try:
            self.runner.unit(work, crash=crash)
        except Crash:
            return
        order.released = True

    # --- recovery ----------------------------------------------------------------------

    @precondition(lambda self: self.outstanding)
    @rule(data=st.data(), how=st.sampled_from(["webhook", "reconcile", "retry"]))
    def recover(self, data: st.DataObject, how: str) -> None:
        """Settle a step the process died in: from the webhook, the job, or the caller's retry."""
        ref = data.draw(st.sampled_from(sorted(self.outstanding)))
        order, step = self.orders[ref], self.outstanding[ref].step
        if how == "retry" and step == "authorise":
            self.runner.run(payments.confirm_payment_intent(order.intent_id, viewer=self.payer))
        elif how == "retry" and step == "capture":
            self.runner.run(payments.capture_payment_intent(order.intent_id, viewer=self.payer))
        elif how == "webhook":
            self.runner.run(sandbox_tasks.deliver_pending_events())
        elif how == "retry":  # the same request again (its Idempotency-Key): the same refund
            amount, key = (
                Money(self.outstanding[ref].amount, USD),
                self.outstanding[ref].request_key,
            )
            self.runner.run(
                refunds.refund_payment_intent(
                    order.intent_id, amount, viewer=self.payer, request_key=key
                )
            )
        else:
            self.runner.run(webhooks.reconcile_processing_intents(older_than=timedelta(0)))
        self._absorb_recoveries()
        assert ref not in self.outstanding, (how, step)
        event(f"recovered {step} by {how}")

    @rule()
    def deliver_webhooks(self) -> None:
        """Every webhook not yet delivered arrives now: late, out of order, duplicated."""
        self.runner.run(sandbox_tasks.deliver_pending_events())
        self._absorb_recoveries()

    @rule()
    def reconcile(self) -> None:
        """The reconciliation job runs: settled intents stay as they are."""
        self.runner.run(webhooks.reconcile_processing_intents(older_than=timedelta(0)))
        self._absorb_recoveries()

    def _absorb_recoveries(self) -> None:
        """Outstanding steps that are now settled become part of the model."""
        for ref, outstanding in list(self.outstanding.items()):
            order = self.orders[ref]
            intent = self._intent(order)
            if outstanding.step == "authorise" and intent.status == "authorised":
                del self.outstanding[ref]
            elif outstanding.step == "capture" and intent.status == "captured":
                order.status = "captured"
                del self.outstanding[ref]
            elif (
                outstanding.step == "refund"
                and intent.amount_refunded == order.refunded + outstanding.amount
            ):
                order.refunded += outstanding.amount
                order.refund_count += 1
                del self.outstanding[ref]

    # --- payouts -------------------------------------------------------------------------

    def _payees(self) -> list[Owner]:
        return [Owner.shop(s) for s in self.shops] + [Owner.creator(c) for c in self.creators]

    def _available(self, payee: Owner) -> int:
        shop = payee.type.value == "shop"
        key = AccountKey(
            AccountKind.SELLER_BALANCE if shop else AccountKind.CREATOR_BALANCE, payee, USD
        )

        async def work(session: AsyncSession) -> int:
            balance = await ledger.get_account_balance(key, session=session)
            return balance.available if balance else 0

        return self.runner.unit(work)

    @precondition(lambda self: any(self._available(p) >= 500 for p in self._payees()))
    @rule(data=st.data(), over=st.booleans(), crash=st.booleans())
    def request_payout(self, data: st.DataObject, over: bool, crash: bool) -> None:
        """A seller or creator takes out available money; never more than that."""
        payee = data.draw(st.sampled_from([p for p in self._payees() if self._available(p) >= 500]))
        available = self._available(payee)
        amount = available + 1 if over else data.draw(st.integers(500, available))
        ref = self._next("payout")

        async def work(session: AsyncSession) -> Any:
            return await ledger.request_payout(
                payee=payee, amount=Money(amount, USD), payout_ref=ref, minimum=MINIMUM,
                session=session,
            )  # fmt: skip

        try:
            self.runner.unit(work, crash=crash)
        except Crash:
            return
        except ledger.InsufficientFunds:
            assert over
            return
        assert not over
        self.payouts[ref] = Payout(ref, payee, amount)

    @precondition(lambda self: any(p.outcome is None for p in self.payouts.values()))
    @rule(data=st.data(), complete=st.booleans())
    def finish_payout(self, data: st.DataObject, complete: bool) -> None:
        """The payout provider reports the payout paid, or bounced (money returns)."""
        payout = data.draw(st.sampled_from([p for p in self.payouts.values() if p.outcome is None]))

        async def work(session: AsyncSession) -> Any:
            if complete:
                return await ledger.complete_payout(payout_ref=payout.ref, session=session)
            return await ledger.fail_payout(
                payout_ref=payout.ref, reason="bounced", session=session
            )

        try:
            self.runner.unit(work)
        except ledger.InsufficientFunds:
            # Refunds taken back after release left less at the provider than this payout.
            assert complete
            return
        payout.outcome = "completed" if complete else "failed"

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def ledger_verifies_and_nothing_goes_negative(self) -> None:
        async def work(session: AsyncSession) -> tuple[list[Any], list[LedgerAccount]]:
            found = await ledger.verify_ledger(session=session)
            rows = await session.scalars(select(LedgerAccount))
            return found, list(rows)

        found, rows = self.runner.unit(work)
        assert found == []
        for account in rows:
            if not account.may_go_negative:
                balance = ledger.balance_out(account)
                assert balance.posted >= 0 and balance.available >= 0, balance

    @invariant()
    def intents_match_the_provider_and_the_model(self) -> None:
        async def work(session: AsyncSession) -> Any:
            intents = {i.id: i for i in await session.scalars(select(PaymentIntent))}
            charges = {
                c.reference: c for c in await session.scalars(select(SandboxCharge))
            }  # fmt: skip
            charge_count = await session.scalar(select(func.count()).select_from(SandboxCharge))
            refunds = {
                row[0]: (row[1], row[2])
                for row in await session.execute(
                    select(
                        SandboxRefund.charge_id, func.count(), func.sum(SandboxRefund.amount)
                    ).group_by(SandboxRefund.charge_id)
                )
            }
            pending = await session.scalar(
                select(func.count()).where(PaymentRefund.status == "pending")
            )
            return intents, charges, charge_count, refunds, pending

        intents, charges, charge_count, refunds, pending = self.runner.unit(work)
        # Never charged twice: one charge per intent, at most one refund per refund asked for.
        assert charge_count == len(self.orders) == len(charges)
        outstanding_refunds = [o for o in self.outstanding.values() if o.step == "refund"]
        assert pending == len(outstanding_refunds)
        for order in self.orders.values():
            intent = intents[order.intent_id]
            charge = charges[intent.provider_key]
            outstanding = self.outstanding.get(order.ref)
            extra = outstanding.amount if outstanding and outstanding.step == "refund" else 0
            assert charge.amount_refunded == order.refunded + extra
            count, total = refunds.get(charge.id, (0, 0))
            assert (count, total or 0) == (order.refund_count + bool(extra), order.refunded + extra)
            if outstanding is None:
                assert intent.amount_refunded == order.refunded
                expected_status = order.status
                if order.refunded:
                    expected_status = (
                        "refunded" if order.refunded == order.amount else "partially_refunded"
                    )
                assert intent.status == expected_status, (intent.status, order)
                assert intent.amount_captured == (order.amount if order.status == "captured" else 0)

    @invariant()
    def money_is_conserved(self) -> None:
        async def work(session: AsyncSession) -> Any:
            accounts_ = list(await session.scalars(select(LedgerAccount)))
            sums = {
                row[0]: int(row[1])
                for row in await session.execute(
                    select(LedgerTransfer.kind, func.sum(LedgerTransfer.total)).group_by(
                        LedgerTransfer.kind
                    )
                )
            }
            provider = await session.execute(
                select(
                    func.coalesce(func.sum(SandboxCharge.amount_captured), 0),
                    func.coalesce(func.sum(SandboxCharge.amount_refunded), 0),
                )
            )
            mismatches = await verify_captures_match_ledger(session=session)
            return accounts_, sums, provider.one(), mismatches

        accounts_, sums, (captured, refunded), mismatches = self.runner.unit(work)
        posted: dict[str, int] = {}
        pending: dict[str, int] = {}
        for account in accounts_:
            balance = ledger.balance_out(account)
            posted[account.kind] = posted.get(account.kind, 0) + balance.posted
            pending[account.kind] = pending.get(account.kind, 0) + balance.pending
        paid_out = sums.get(TransferKind.PAYOUT_COMPLETED.value, 0)
        holds = sums.get(TransferKind.PAYMENT_HOLD.value, 0)
        refunds = sums.get(TransferKind.ORDER_REFUND.value, 0)
        # What the ledger received from buyers (held minus refunded) is where it should be.
        assert holds - refunds == (
            posted.get("buyer_funds_held", 0)
            + posted.get("seller_balance", 0)
            + posted.get("creator_balance", 0)
            + posted.get("payouts_in_transit", 0)
            + paid_out
            + posted.get("platform_fees", 0)
        )
        # Each party's share, as the model computes it (commission clawed back on refunds).
        captured_orders = [o for o in self.orders.values() if o.status == "captured"]
        completed = [p for p in self.payouts.values() if p.outcome == "completed"]
        if not self.outstanding:
            assert mismatches == []
            # Buyers' money at the provider == ledger holds minus ledger refunds.
            assert (captured, refunded) == (holds, refunds)
            assert captured == sum(o.amount for o in captured_orders)
            for kind, part in (("seller", "seller"), ("creator", "creator")):
                released = sum(
                    getattr(o.share(), part).amount for o in captured_orders if o.released
                )
                held = sum(
                    getattr(o.share(), part).amount for o in captured_orders if not o.released
                )
                payee_type = Owner.shop(uuid.UUID(int=0)).type.value
                if kind == "creator":
                    payee_type = Owner.creator(uuid.UUID(int=0)).type.value
                paid = sum(p.amount for p in completed if p.payee.type.value == payee_type)
                in_transit = sum(
                    ledger.balance_out(a).posted
                    for a in accounts_
                    if a.kind == "payouts_in_transit" and a.owner_type == payee_type
                )
                assert posted.get(f"{kind}_balance", 0) + in_transit + paid == released, kind
                assert pending.get(f"{kind}_balance", 0) == held, kind
            fees = sum(o.share().platform.amount for o in captured_orders if o.released)
            assert posted.get("platform_fees", 0) == fees


def test_payments_and_the_ledger_survive_crashes_between_provider_and_commit() -> None:
    runner = Runner()
    PaymentsMachine.runner = runner
    payments.set_provider(runner.provider)
    sandbox_tasks.set_delivery_transport(runner.transport)
    # Every payments module that opens its own transactions around a provider call.
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

        async def payer(session: AsyncSession) -> User:
            data = SignupIn(email="payer@example.com", handle="payer", password="a long password 1")
            return await accounts.sign_up(data, session=session)

        PaymentsMachine.payer = runner.unit(payer)

        async def card(session: AsyncSession) -> str:
            method = await payments.save_payment_method(
                PaymentsMachine.payer, number="4242424242424242", exp_month=12, exp_year=2099,
                cvc="123", session=session,
            )  # fmt: skip
            return method.token

        PaymentsMachine.card = runner.unit(card)
        run_state_machine_as_test(
            PaymentsMachine,
            settings=settings(
                max_examples=20,
                stateful_step_count=40,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        for module in dying_modules:
            module.unit_of_work = real_unit_of_work  # type: ignore[attr-defined]
        payments.set_provider(None)
        sandbox_tasks.set_delivery_transport(None)
        runner.close()


class LosingRefundAnswers:
    """The sandbox over HTTP, whose answers to refunds are lost after it refunded."""

    def __init__(self, inner: SandboxProvider) -> None:
        self.inner, self.name, self.lose = inner, inner.name, True

    async def refund(
        self, charge_id: str, *, amount: Money, idempotency_key: str
    ) -> tuple[ChargeSnapshot, RefundSnapshot]:
        answer = await self.inner.refund(charge_id, amount=amount, idempotency_key=idempotency_key)
        if self.lose:
            raise ProviderTimeout("the answer was lost")
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_refund_retried_after_its_answer_was_lost_refunds_once(
    app: Any, client: httpx.AsyncClient
) -> None:
    from tests.api.test_accounts_auth import signup
    from tests.api.test_payments_intents import PAY, make_admin, pay

    transport = httpx.ASGITransport(app=app)
    sandbox = SandboxProvider("http://testserver/sandbox", transport=transport)
    losing = LosingRefundAnswers(sandbox)
    payments.set_provider(losing)
    sandbox_tasks.set_delivery_transport(transport)
    try:
        await signup(client)
        await make_admin(client, "jane")
        intent = await pay(client)
        assert (await client.post(f"{PAY}/intents/{intent['id']}/capture")).status_code == 200
        url, key = f"{PAY}/intents/{intent['id']}/refunds", {"Idempotency-Key": "refund-1"}
        lost = await client.post(url, json={"amount": 700}, headers=key)
        assert lost.status_code == 502, lost.text
        # The refund is held back while nobody knows its outcome: no second refund of it.
        too_much = await client.post(url, json={"amount": 1900}, headers={"Idempotency-Key": "x"})
        assert too_much.status_code == 422, too_much.text
        losing.lose = False
        retried = await client.post(url, json={"amount": 700}, headers=key)
        assert retried.status_code == 201, retried.text
        assert retried.json()["intent"]["amount_refunded"] == 700
        # Late webhooks and the job change nothing more.
        await sandbox_tasks.deliver_pending_events()
        await webhooks.reconcile_processing_intents(older_than=timedelta(0))
        async with unit_of_work() as session:
            refunded = await session.scalar(select(func.sum(SandboxRefund.amount)))
            stored = list(await session.scalars(select(PaymentRefund)))
            transfers = await session.scalar(
                select(func.count()).where(LedgerTransfer.kind == TransferKind.ORDER_REFUND.value)
            )
            assert await ledger.verify_ledger(session=session) == []
        assert refunded == 700 and transfers == 1
        assert [(r.amount, r.status) for r in stored] == [(700, "succeeded")]
    finally:
        payments.set_provider(None)
        sandbox_tasks.set_delivery_transport(None)


async def test_a_refund_whose_answer_was_lost_is_settled_by_the_job(
    app: Any, client: httpx.AsyncClient
) -> None:
    from tests.api.test_accounts_auth import signup
    from tests.api.test_payments_intents import PAY, get_intent, make_admin, pay

    transport = httpx.ASGITransport(app=app)
    losing = LosingRefundAnswers(SandboxProvider("http://testserver/sandbox", transport=transport))
    payments.set_provider(losing)
    try:
        await signup(client)
        await make_admin(client, "jane")
        intent = await pay(client)
        assert (await client.post(f"{PAY}/intents/{intent['id']}/capture")).status_code == 200
        url = f"{PAY}/intents/{intent['id']}/refunds"
        lost = await client.post(url, json={"amount": 2599}, headers={"Idempotency-Key": "r"})
        assert lost.status_code == 502, lost.text
        assert (await get_intent(client, intent["id"]))["status"] == "captured"
        assert await webhooks.reconcile_processing_intents(older_than=timedelta(0)) == 1
        settled = await get_intent(client, intent["id"])
        assert settled["status"] == "refunded" and settled["amount_refunded"] == 2599
        async with unit_of_work() as session:
            assert await ledger.verify_ledger(session=session) == []
            assert await verify_captures_match_ledger(session=session) == []
    finally:
        payments.set_provider(None)
