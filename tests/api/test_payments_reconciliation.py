"""Provider captures against ledger holds: the check `clipcart ledger check` also runs."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from clipcart.core.db import unit_of_work
from clipcart.payments.models import PaymentIntent
from clipcart.payments.reconciliation import verify_captures_match_ledger
from tests.api.test_accounts_auth import signup
from tests.api.test_payments_intents import PAY, pay
from tests.api.test_payments_intents import sandbox as sandbox  # autouse: the sandbox provider


async def _captured_intent(client: httpx.AsyncClient) -> dict[str, object]:
    await signup(client)
    intent = await pay(client)
    response = await client.post(f"{PAY}/intents/{intent['id']}/capture")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_captured_payment_matches_its_ledger_hold(client: httpx.AsyncClient) -> None:
    await _captured_intent(client)
    async with unit_of_work() as session:
        assert await verify_captures_match_ledger(session=session) == []


async def test_a_capture_the_ledger_does_not_hold_is_reported(client: httpx.AsyncClient) -> None:
    intent = await _captured_intent(client)
    async with unit_of_work() as session:
        # as if the provider captured more than was ever posted to the ledger
        await session.execute(
            update(PaymentIntent)
            .where(PaymentIntent.order_ref == intent["order_ref"])
            .values(amount_captured=PaymentIntent.amount_captured + 100)
        )
    async with unit_of_work() as session:
        found = await verify_captures_match_ledger(session=session)
    assert [(item.check, item.expected, item.actual) for item in found] == [
        ("capture_matches_ledger_hold", 2699, 2599)
    ]


async def test_a_capture_with_no_ledger_hold_is_reported(client: httpx.AsyncClient) -> None:
    intent = await _captured_intent(client)
    async with unit_of_work() as session:
        await session.execute(
            update(PaymentIntent)
            .where(PaymentIntent.order_ref == intent["order_ref"])
            .values(order_ref="order-the-ledger-never-saw")
        )
    async with unit_of_work() as session:
        found = await verify_captures_match_ledger(session=session)
    assert [(item.check, item.expected, item.actual) for item in found] == [
        ("capture_has_ledger_hold", 2599, None)
    ]
