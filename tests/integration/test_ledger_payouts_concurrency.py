"""Concurrent payout requests on PostgreSQL, through the HTTP API: never above the balance."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from clipcart.core.db import unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service
from clipcart.ledger.domain import Owner
from clipcart.ledger.models import LedgerAccount, LedgerPayout
from tests.api.test_accounts_auth import API, PROBLEM, signup
from tests.services import require_postgres

pytestmark = pytest.mark.postgres
PAYOUTS = f"{API}/ledger/me/payouts"


@pytest.fixture(autouse=True)
def _postgres() -> None:
    require_postgres()


async def give_commission(creator_id: uuid.UUID, amount: int) -> None:
    order_ref = f"ord_{uuid.uuid4().hex[:12]}"
    async with unit_of_work() as session:
        await service.hold_payment(
            order_ref=order_ref,
            amount=Money(amount * 2, "USD"),
            shop_id=uuid.uuid4(),
            creator_id=creator_id,
            commission=Money(amount, "USD"),
            fee_rate=Decimal("0.05"),
            session=session,
        )
    async with unit_of_work() as session:
        await service.release_order_funds(order_ref=order_ref, session=session)


async def test_twenty_concurrent_requests_for_60_percent_pay_once(
    client: httpx.AsyncClient,
) -> None:
    creator = uuid.UUID((await signup(client, "racer"))["user"]["id"])
    await give_commission(creator, 10_000)

    async def ask(index: int) -> httpx.Response:
        return await client.post(
            PAYOUTS,
            json={"amount": 6_000, "currency": "USD"},
            headers={"Idempotency-Key": f"race-{index}"},
        )

    responses = await asyncio.gather(*(ask(index) for index in range(20)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) == 1, [r.text for r in responses if r.status_code != 409]
    refused = [response for response in responses if response.status_code != 201]
    assert all(response.status_code == 409 for response in refused)
    for response in refused:
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "insufficient_funds"

    async with unit_of_work() as session:
        balance = await service.get_payee_balance(Owner.creator(creator), "USD", session=session)
        assert balance.available.amount == 4_000
        assert await session.scalar(select(func.count()).select_from(LedgerPayout)) == 1
        assert await service.verify_ledger(session=session) == []


async def test_concurrent_requests_that_fit_all_succeed_and_never_overdraw(
    client: httpx.AsyncClient,
) -> None:
    creator = uuid.UUID((await signup(client, "many"))["user"]["id"])
    await give_commission(creator, 10_000)

    async def ask(index: int) -> httpx.Response:
        return await client.post(
            PAYOUTS,
            json={"amount": 1_500, "currency": "USD"},
            headers={"Idempotency-Key": f"fit-{index}"},
        )

    responses: list[Any] = await asyncio.gather(*(ask(index) for index in range(12)))
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 6  # 6 x $15 fits in $100, a 7th would not
    assert all(r.status_code == 409 for r in responses if r.status_code != 201)

    async with unit_of_work() as session:
        balance = await service.get_payee_balance(Owner.creator(creator), "USD", session=session)
        assert balance.available.amount == 1_000
        lowest = await session.scalar(
            select(func.min(LedgerAccount.posted_credits - LedgerAccount.posted_debits)).where(
                LedgerAccount.owner_id == creator
            )
        )
        assert lowest is not None and lowest >= 0
        assert await service.verify_ledger(session=session) == []
