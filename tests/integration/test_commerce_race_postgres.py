"""The flash-sale race on PostgreSQL: 500 buyers at once for a SKU with 50 in stock, each
placing and paying through HTTP against ClipCart running as a real server process (uvicorn,
one worker, the payment sandbox served by that same process over real HTTP). Exactly 50 paid
orders, stock 0, a clear "sold out" for everyone else, no 5xx, and the stock log, the
reservations, the payments and the ledger all agree."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench._commerce import Buyer, Stocked, seed_buyers, seed_shop
from sqlalchemy import func, select

from clipcart.catalog.models import StockMovement, Variant
from clipcart.commerce.models import Order, OrderLine, StockReservation
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.ledger import service as ledger
from clipcart.ledger.domain import TransferKind
from clipcart.ledger.models import LedgerTransfer
from clipcart.payments.models import PaymentIntent
from clipcart.payments.reconciliation import verify_captures_match_ledger
from tests.services import require_postgres

pytestmark = pytest.mark.postgres
BUYERS = 500
STOCK = 50
API = "/api/v1"
REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[str]:
    """ClipCart in its own process on the tests' PostgreSQL database; the payment sandbox is
    that same server, reached over real HTTP (CLIPCART_BASE_URL points at it)."""
    require_postgres()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = REPO_ROOT / "test-artifacts" / "commerce-race-server.log"
    log_path.parent.mkdir(exist_ok=True)
    env = dict(os.environ) | {
        "CLIPCART_BASE_URL": base_url,
        "CLIPCART_JOBS_IMMEDIATE": "false",  # jobs (webhook deliveries) queue, nobody runs them
        "CLIPCART_LOG_LEVEL": "WARNING",
    }
    with log_path.open("wb") as log:
        command = [sys.executable, "-m", "uvicorn", "clipcart.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
        command += ["--backlog", "4096"]
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the server exited early:\n{log_path.read_text()}")
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not answer /healthz; see {log_path}")
                time.sleep(0.1)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _seed() -> tuple[Stocked, list[Buyer]]:
    async with unit_of_work() as session:
        stocked = await seed_shop(stock=STOCK, session=session)
        buyers = await seed_buyers(BUYERS, session=session)
    return stocked, buyers


async def _scalar(statement: Any) -> Any:
    async with get_sessionmaker()() as session:
        return await session.scalar(statement)


async def test_500_buyers_for_50_units_give_50_paid_orders_and_450_clear_sold_outs(
    server: str,
) -> None:
    stocked, buyers = await _seed()
    items = [{"variant_id": str(stocked.variant_id), "quantity": 1}]
    limits = httpx.Limits(max_connections=BUYERS + 10, max_keepalive_connections=BUYERS + 10)
    async with httpx.AsyncClient(base_url=server, limits=limits, timeout=55.0) as http:
        quoted = await http.post(
            f"{API}/checkout/quote",
            json={"items": items, "address_id": str(buyers[0].address_id)},
            headers=buyers[0].headers,
        )
        assert quoted.status_code == 200, quoted.text
        expected_total = int(quoted.json()["grand_total"]["amount"])
        assert expected_total > 0

        async def buy(buyer: Buyer) -> tuple[httpx.Response, httpx.Response | None]:
            body = {
                "items": items,
                "address_id": str(buyer.address_id),
                "payment_method": buyer.card_token,
                "expected_total": expected_total,
            }
            headers = buyer.headers | {"Idempotency-Key": uuid.uuid4().hex}
            placed = await http.post(f"{API}/checkout", json=body, headers=headers)
            if placed.status_code != 201:
                return placed, None
            checkout_id = placed.json()["checkout_id"]
            headers = buyer.headers | {"Idempotency-Key": uuid.uuid4().hex}
            paid = await http.post(f"{API}/checkout/{checkout_id}/pay", json={}, headers=headers)
            return placed, paid

        started = time.perf_counter()
        results = await asyncio.gather(*(buy(buyer) for buyer in buyers))
        elapsed = time.perf_counter() - started

    placed_statuses = Counter(placed.status_code for placed, _ in results)
    pay_statuses = Counter(paid.status_code for _, paid in results if paid is not None)
    everything = [r for pair in results for r in pair if r is not None]
    assert not [r.status_code for r in everything if r.status_code >= 500], (
        placed_statuses,
        pay_statuses,
        [r.text for r in everything if r.status_code >= 500][:3],
    )
    assert placed_statuses == {201: STOCK, 409: BUYERS - STOCK}, placed_statuses
    assert pay_statuses == {200: STOCK}, pay_statuses
    for placed, paid in results:
        if placed.status_code == 409:
            assert placed.headers["content-type"].startswith("application/problem+json")
            problem = placed.json()
            assert problem["code"] == "sold_out", problem
            assert "Flash Tee" in problem["detail"], problem  # names what sold out
        else:
            assert paid is not None
            answered = paid.json()["orders"]
            assert [order["status"] for order in answered] == ["paid"], answered
    print(f"\n{BUYERS} buyers placed and paid in {elapsed:.1f} s")

    # The database agrees: stock 0, 50 paid orders, nothing kept for the others.
    variant = stocked.variant_id
    assert await _scalar(select(Variant.stock).where(Variant.id == variant)) == 0
    statuses = await _counts(select(Order.status, func.count()).group_by(Order.status))
    assert statuses == {"paid": STOCK}, statuses
    assert await _scalar(select(func.count()).select_from(OrderLine)) == STOCK
    buyers_with_orders = await _scalar(select(func.count(func.distinct(Order.buyer_id))))
    assert buyers_with_orders == STOCK
    # Reservations: one committed unit per paid order, none held or released.
    reservations = await _counts(
        select(StockReservation.status, func.sum(StockReservation.quantity))
        .where(StockReservation.variant_id == variant)
        .group_by(StockReservation.status)
    )
    assert reservations == {"committed": STOCK}, reservations
    # The stock log explains every unit: 50 in, 50 reserved, nothing released.
    movements = await _counts(
        select(StockMovement.reason, func.sum(StockMovement.delta))
        .where(StockMovement.variant_id == variant)
        .group_by(StockMovement.reason)
    )
    assert sum(movements.values()) == 0, movements
    assert movements["reservation"] == -STOCK, movements
    assert movements.get("release", 0) == 0, movements
    afters = (
        await _rows(
            select(StockMovement.quantity_after).where(
                StockMovement.variant_id == variant, StockMovement.reason == "reservation"
            )
        )
    ).scalars()
    assert sorted(afters) == list(range(STOCK))  # each unit taken once, in turn
    # Money: 50 captured payments, each held once in the ledger, which balances.
    captured = await _scalar(select(func.count()).where(PaymentIntent.status == "captured"))
    assert captured == STOCK
    assert await _scalar(select(func.count()).select_from(PaymentIntent)) == STOCK  # no others
    holds = await _scalar(
        select(func.count()).where(LedgerTransfer.kind == TransferKind.PAYMENT_HOLD.value)
    )
    assert holds == STOCK
    async with unit_of_work() as session:
        assert await ledger.verify_ledger(session=session) == []
        assert await verify_captures_match_ledger(session=session) == []
    assert elapsed < 60, f"took {elapsed:.1f} s"


async def _rows(statement: Any) -> Any:
    async with get_sessionmaker()() as session:
        return await session.execute(statement)


async def _counts(statement: Any) -> dict[str, int]:
    """{key: number} from a two-column (key, aggregate) query."""
    return {str(key): int(value) for key, value in (await _rows(statement)).all()}
