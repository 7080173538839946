"""Paying a checkout: the authorisation and the capture are asked separately and applied
together, and a capture that fails, or a process that dies between the two, loses and
duplicates nothing."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from clipcart.commerce.models import Order
from clipcart.core.db import unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.ledger.models import LedgerTransfer
from clipcart.payments import service as payments
from clipcart.payments import webhooks
from clipcart.payments.models import PaymentIntent
from clipcart.payments.provider import ChargeSnapshot, PaymentProvider, ProviderTimeout
from tests.commerce_factories import (
    BuyerMaker,
    SellerMaker,
    buyer,
    commerce_sandbox,
    pay,
    place,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "seller"]


class ProcessDied(BaseException):
    """Stands for the process being killed (not an error any code would catch)."""


class FailingCaptures:
    """The configured provider, except that its next captures fail with `failures` in turn."""

    def __init__(self, provider: PaymentProvider, *failures: BaseException) -> None:
        self.provider = provider
        self.failures = list(failures)
        self.captures = 0
        self.name = provider.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self.provider, name)

    async def capture(
        self, charge_id: str, *, amount: Money | None, idempotency_key: str
    ) -> ChargeSnapshot:
        if self.failures:
            raise self.failures.pop(0)
        self.captures += 1
        return await self.provider.capture(
            charge_id, amount=amount, idempotency_key=idempotency_key
        )


async def _placed(seller_maker: SellerMaker, buyer_maker: BuyerMaker) -> tuple[Any, str]:
    shop = await seller_maker(stock=5, price=2500)
    jane = await buyer_maker("jane")
    placed = await place(jane.client, (shop.variant_id, 1))
    assert placed.status_code == 201, placed.text
    return jane, placed.json()["checkout_id"]


async def _state(checkout_id: str) -> tuple[str, PaymentIntent, list[tuple[str, str]]]:
    """The order's status, its intent and the intent's audit trail (to_status, reason)."""
    async with unit_of_work() as session:
        order = await session.scalar(
            select(Order).where(Order.checkout_id == uuid.UUID(checkout_id))
        )
        assert order is not None and order.payment_intent_id is not None
        intent = await session.get(PaymentIntent, order.payment_intent_id)
        assert intent is not None
        events = await payments.list_intent_events(intent.id, session=session)
        return order.status, intent, [(event.to_status, event.reason) for event in events]


async def _holds(order_ref: str) -> int:
    async with unit_of_work() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(LedgerTransfer)
            .where(LedgerTransfer.reference == order_ref, LedgerTransfer.kind == "payment_hold")
        )
        return int(count or 0)


async def test_paying_writes_each_step_and_holds_the_money_once(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    jane, checkout_id = await _placed(seller, buyer)
    paid = await pay(jane.client, checkout_id)
    assert paid.status_code == 200, paid.text
    assert paid.json()["all_paid"] is True
    status, intent, trail = await _state(checkout_id)
    assert status == "paid"
    assert trail == [
        ("requires_payment_method", "created"),
        ("processing", "confirmed by the payer"),
        ("authorised", "provider answered"),
        ("captured", "captured"),
    ]
    assert (intent.status, intent.amount_captured) == ("captured", intent.amount)
    async with unit_of_work() as session:
        escrow = await ledger.get_escrow(intent.order_ref, session=session)
        assert escrow.amount == intent.amount
        assert await ledger.verify_ledger(session=session) == []
    assert await _holds(intent.order_ref) == 1


async def test_a_capture_without_an_answer_keeps_the_authorisation_and_is_captured_again(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    jane, checkout_id = await _placed(seller, buyer)
    provider = FailingCaptures(payments.get_provider(), ProviderTimeout("no answer"))
    payments.set_provider(provider)
    paid = await pay(jane.client, checkout_id)
    # The capture is queued (run at once here, jobs being immediate in tests) and succeeds.
    assert paid.status_code == 200, paid.text
    status, intent, trail = await _state(checkout_id)
    assert status == "paid" and provider.captures == 1
    assert [step for step, _ in trail] == [
        "requires_payment_method",
        "processing",
        "authorised",  # written on its own when the capture failed
        "captured",
    ]
    assert await _holds(intent.order_ref) == 1


async def _died_before_capturing(
    seller: SellerMaker, buyer: BuyerMaker, *, key: str
) -> tuple[Any, str, FailingCaptures]:
    """A placed checkout whose pay died after the provider authorised it, before the capture
    (the process gone: nothing written after the authorisation)."""
    jane, checkout_id = await _placed(seller, buyer)
    provider = FailingCaptures(payments.get_provider(), ProcessDied())
    payments.set_provider(provider)
    with contextlib.suppress(ProcessDied):
        await pay(jane.client, checkout_id, key=key)
    return jane, checkout_id, provider


async def test_a_process_dying_between_authorisation_and_capture_loses_nothing(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    jane, checkout_id, provider = await _died_before_capturing(seller, buyer, key="dies")
    # Authorised at the provider, not written down: the intent stays processing.
    status, intent, trail = await _state(checkout_id)
    assert (status, intent.status) == ("pending_payment", "processing")
    assert trail[-1] == ("processing", "confirmed by the payer")
    # Reconciliation asks the provider, applies the authorisation, and the capture follows.
    assert await webhooks.reconcile_processing_intents(older_than=timedelta(0)) == 1
    status, intent, trail = await _state(checkout_id)
    assert (status, intent.status) == ("paid", "captured")
    assert [step for step, _ in trail][-2:] == ["authorised", "captured"]
    assert provider.captures == 1 and await _holds(intent.order_ref) == 1
    # The buyer's retry with the same key finds it paid: nothing is charged again.
    again = await pay(jane.client, checkout_id, key="dies")
    assert again.status_code == 200 and again.json()["all_paid"] is True
    assert provider.captures == 1 and await _holds(intent.order_ref) == 1


async def test_a_retry_after_the_process_died_captures_the_same_charge_once(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    jane, checkout_id, provider = await _died_before_capturing(seller, buyer, key="first")
    again = await pay(jane.client, checkout_id, key="second")
    assert again.status_code == 200, again.text
    assert again.json()["all_paid"] is True
    status, intent, trail = await _state(checkout_id)
    assert (status, intent.status) == ("paid", "captured")
    charge = await provider.find_charge(idempotency_key=intent.provider_key)
    assert charge is not None and charge.id == intent.provider_charge_id
    assert charge.amount_captured == intent.amount
    assert provider.captures == 1 and await _holds(intent.order_ref) == 1
    assert [step for step, _ in trail].count("captured") == 1
