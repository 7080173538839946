"""A refund whose answer from the provider was lost after it refunded: a retry with the same
Idempotency-Key refunds once, and with no retry the reconciliation job settles it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from clipcart.core.db import unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.ledger.domain import (
    TransferKind,
)
from clipcart.ledger.models import LedgerTransfer
from clipcart.payments import service as payments
from clipcart.payments import webhooks
from clipcart.payments.models import PaymentRefund
from clipcart.payments.provider import ChargeSnapshot, ProviderTimeout, RefundSnapshot
from clipcart.payments.reconciliation import verify_captures_match_ledger
from clipcart.payments.sandbox import tasks as sandbox_tasks
from clipcart.payments.sandbox.models import SandboxRefund
from clipcart.payments.sandbox_client import SandboxProvider


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
