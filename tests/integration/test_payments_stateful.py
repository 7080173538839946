"""Hypothesis drives payments and the ledger together, killing the process between the provider
call and the commit, and lets the webhook, the reconciliation job or a retry settle it.

Payments go through the sandbox provider over HTTP (the app in-process, as in the API tests).
The machine runs on its own event loop (rules are synchronous) against the test database.
A crash is injected two ways: right after the provider answered (nothing after it runs), or in
the transaction that applies the answer, which then rolls back instead of committing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, ClassVar

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
from clipcart.core.errors import AppError
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.ledger.config import get_ledger_settings
from clipcart.ledger.domain import (
    AccountKey,
    AccountKind,
    Owner,
    TransferKind,
    split_order,
)
from clipcart.ledger.models import LedgerAccount
from clipcart.payments import refunds, webhooks
from clipcart.payments import service as payments
from clipcart.payments.models import PaymentIntent, PaymentRefund
from clipcart.payments.sandbox import tasks as sandbox_tasks
from clipcart.payments.sandbox.models import SandboxCharge, SandboxRefund
from tests.integration.payments_machine_support import (
    MINIMUM,
    USD,
    Crash,
    Order,
    Outstanding,
    Payout,
    Runner,
    attempt,
    commits_that_can_die,
    crashes,
    read_money,
)


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
        money = self.runner.run(read_money())
        accounts_, sums, posted, pending = (
            money.accounts,
            money.transfer_totals,
            money.posted,
            money.pending,
        )
        captured, refunded, mismatches = money.captured, money.refunded, money.mismatches
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
    try:
        with commits_that_can_die(runner):

            async def payer(session: AsyncSession) -> User:
                data = SignupIn(
                    email="payer@example.com", handle="payer", password="a long password 1"
                )
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
        payments.set_provider(None)
        sandbox_tasks.set_delivery_transport(None)
        runner.close()
