"""Payment races on PostgreSQL, through the HTTP API with real concurrent clients: one refund
for 200 simultaneous requests, one capture whatever races it (capture calls, webhooks, the
reconciliation job)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.ledger import service as ledger
from clipcart.ledger.domain import TransferKind
from clipcart.ledger.models import LedgerTransfer
from clipcart.payments import service, webhooks
from clipcart.payments.models import PaymentIntentEvent, PaymentRefund, ProcessedProviderEvent
from clipcart.payments.sandbox.models import SandboxCharge, SandboxEvent, SandboxRefund
from clipcart.payments.sandbox_client import SandboxProvider
from tests.api.test_accounts_auth import signup
from tests.api.test_payments_intents import PAY, WEBHOOK, make_admin, pay, signed
from tests.api.test_payments_intents import sandbox as sandbox  # autouse: the sandbox provider
from tests.services import require_postgres

pytestmark = pytest.mark.postgres
REQUESTS = 200


@pytest.fixture(autouse=True)
def _postgres(app: Any, sandbox: None) -> None:
    require_postgres()
    # 200 requests queue for the same connection pool as the in-process sandbox: give the
    # provider time to answer (a lost answer is the stateful test's business).
    transport = httpx.ASGITransport(app=app)
    service.set_provider(SandboxProvider("http://testserver/sandbox", transport=transport))


async def _count(model: Any, *conditions: Any) -> int:
    async with get_sessionmaker()() as session:
        statement = select(func.count()).select_from(model)
        for condition in conditions:
            statement = statement.where(condition)
        return int(await session.scalar(statement) or 0)


async def _captured_order(client: httpx.AsyncClient) -> dict[str, Any]:
    await signup(client)
    await make_admin(client, "jane")
    intent = await pay(client)
    response = await client.post(f"{PAY}/intents/{intent['id']}/capture")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _refund_transfers(order_ref: str) -> int:
    return await _count(
        LedgerTransfer,
        LedgerTransfer.reference == order_ref,
        LedgerTransfer.kind == TransferKind.ORDER_REFUND.value,
    )


async def _verify_ledger() -> None:
    async with unit_of_work() as session:
        assert await ledger.verify_ledger(session=session) == []


async def test_200_concurrent_refunds_of_one_order_refund_it_once(
    client: httpx.AsyncClient,
) -> None:
    intent = await _captured_order(client)
    url = f"{PAY}/intents/{intent['id']}/refunds"

    async def refund(number: int) -> httpx.Response:
        return await client.post(
            url, json={"amount": intent["amount"]}, headers={"Idempotency-Key": f"r-{number}"}
        )

    responses = await asyncio.gather(*(refund(number) for number in range(REQUESTS)))
    statuses = Counter(response.status_code for response in responses)
    assert statuses[201] == 1, statuses
    # Everyone else is told why: nothing left to refund (422), or the payment is refunded (409).
    assert statuses[422] + statuses[409] == REQUESTS - 1, statuses
    for response in responses:
        if response.status_code != 201:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] in {"validation_failed", "payment_wrong_state"}
    winner = next(response for response in responses if response.status_code == 201)
    assert winner.json()["intent"]["status"] == "refunded"
    assert await _count(SandboxRefund) == 1  # the provider saw one refund
    assert await _refund_transfers(intent["order_ref"]) == 1  # the ledger one refund transfer
    assert await _count(PaymentRefund, PaymentRefund.status == "succeeded") == 1
    assert await _count(PaymentRefund, PaymentRefund.status == "pending") == 0
    await _verify_ledger()


async def test_200_concurrent_retries_of_one_refund_request_refund_it_once(
    client: httpx.AsyncClient,
) -> None:
    intent = await _captured_order(client)
    url = f"{PAY}/intents/{intent['id']}/refunds"

    async def refund() -> httpx.Response:
        return await client.post(url, json={"amount": 599}, headers={"Idempotency-Key": "same"})

    responses = await asyncio.gather(*(refund() for _ in range(REQUESTS)))
    statuses = Counter(response.status_code for response in responses)
    # One did the work; the rest were told it is in flight (409) or got its stored answer.
    assert statuses[201] >= 1 and statuses[201] + statuses[409] == REQUESTS, statuses
    answers = {
        json.dumps(response.json()["refund_id"])
        for response in responses
        if response.status_code == 201
    }
    assert len(answers) == 1
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "idempotency_key_in_flight"
    assert await _count(SandboxRefund) == 1
    assert await _refund_transfers(intent["order_ref"]) == 1
    after = (await client.get(f"{PAY}/intents/{intent['id']}")).json()
    assert after["status"] == "partially_refunded" and after["amount_refunded"] == 599
    await _verify_ledger()


async def test_concurrent_captures_webhooks_and_reconciliation_capture_once(
    app: Any, client: httpx.AsyncClient
) -> None:
    await signup(client)
    intent = await pay(client)
    assert intent["status"] == "authorised"
    # The capture happens at the provider but its answer is "lost": ClipCart still says
    # authorised while the webhook is on its way and the payer presses capture again.
    async with get_sessionmaker()() as session:
        charge = await session.scalar(select(SandboxCharge))
        assert charge is not None
    provider = SandboxProvider("http://testserver/sandbox", transport=httpx.ASGITransport(app=app))
    await provider.capture(
        charge.id, amount=None, idempotency_key=f"pi_{intent['id'].replace('-', '')}:capture"
    )
    async with get_sessionmaker()() as session:
        event = await session.scalar(
            select(SandboxEvent).where(SandboxEvent.type == "charge.captured")
        )
        assert event is not None
    body = json.dumps(event.payload).encode()

    async def capture() -> int:
        response = await client.post(f"{PAY}/intents/{intent['id']}/capture")
        return response.status_code

    async def webhook() -> int:
        response = await client.post(WEBHOOK, content=body, headers=signed(body))
        return response.status_code

    async def reconcile() -> int:
        await webhooks.reconcile_processing_intents(older_than=timedelta(0))
        return 200

    calls = [capture() for _ in range(40)] + [webhook() for _ in range(40)]
    calls += [reconcile() for _ in range(10)]
    statuses = await asyncio.gather(*calls)
    assert set(statuses) == {200}, Counter(statuses)
    after = (await client.get(f"{PAY}/intents/{intent['id']}")).json()
    assert after["status"] == "captured" and after["amount_captured"] == intent["amount"]
    assert [step["to_status"] for step in after["history"]].count("captured") == 1
    assert await _count(SandboxCharge) == 1
    holds = LedgerTransfer.kind == TransferKind.PAYMENT_HOLD.value
    assert await _count(LedgerTransfer, holds) == 1
    assert await _count(ProcessedProviderEvent, ProcessedProviderEvent.event_id == event.id) == 1
    async with unit_of_work() as session:
        escrow = await ledger.get_escrow(intent["order_ref"], session=session)
        assert escrow.amount == intent["amount"]
    await _verify_ledger()


async def test_lost_authorisation_settled_by_racing_webhooks_retries_and_the_job(
    app: Any, client: httpx.AsyncClient
) -> None:
    transport = httpx.ASGITransport(app=app)  # a client that gives up after two seconds
    service.set_provider(
        SandboxProvider("http://testserver/sandbox", transport=transport, timeout=2.0)
    )
    await signup(client)
    intent = await pay(client, "4000000000000119")  # charged, answer lost
    assert intent["status"] == "processing"
    async with get_sessionmaker()() as session:
        event = await session.scalar(
            select(SandboxEvent).where(SandboxEvent.type == "charge.authorised")
        )
        assert event is not None
    body = json.dumps(event.payload).encode()

    async def webhook() -> int:
        return (await client.post(WEBHOOK, content=body, headers=signed(body))).status_code

    async def confirm() -> int:
        return (await client.post(f"{PAY}/intents/{intent['id']}/confirm")).status_code

    async def reconcile() -> int:
        await webhooks.reconcile_processing_intents(older_than=timedelta(0))
        return 200

    calls = [webhook() for _ in range(30)] + [reconcile() for _ in range(10)]
    calls += [confirm() for _ in range(5)]
    statuses = await asyncio.gather(*calls)
    assert set(statuses) == {200}, Counter(statuses)
    after = (await client.get(f"{PAY}/intents/{intent['id']}")).json()
    assert after["status"] == "authorised"
    assert [step["to_status"] for step in after["history"]].count("authorised") == 1
    assert await _count(SandboxCharge) == 1  # never charged twice
    assert await _count(PaymentIntentEvent, PaymentIntentEvent.to_status == "authorised") == 1
