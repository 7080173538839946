"""The commerce state machine's harness (tests/integration/test_commerce_stateful.py): the
private event loop its synchronous rules drive, the people and the model of each order it
keeps, and what its invariants read from the database."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import httpx
from hypothesis import event as hypothesis_event
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.catalog.models import StockMovement, Variant
from clipcart.commerce import domain
from clipcart.commerce.models import Order, OrderEvent, OrderLine, StockReservation
from clipcart.core.config import get_settings
from clipcart.core.db import dispose_engine, unit_of_work
from clipcart.ledger import service as ledger
from clipcart.ledger.models import LedgerTransfer
from clipcart.payments.models import PaymentIntent
from tests.api.test_accounts_auth import API, signup
from tests.commerce_factories import CARD_DECLINED, save_address, save_card

T = TypeVar("T")
SEEN: Counter[str] = Counter()  # what the examples did, to show they reach every stage


class Runner:
    """A private event loop the synchronous rules drive; the app and its clients live on it."""

    def __init__(self) -> None:
        from clipcart.app import create_app

        self.loop = asyncio.new_event_loop()
        self.app = create_app(get_settings())
        self.transport = httpx.ASGITransport(app=self.app)
        self.stack = AsyncExitStack()

    def run(self, coroutine: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def client(self) -> httpx.AsyncClient:
        http = httpx.AsyncClient(transport=self.transport, base_url="http://testserver")
        return self.run(self.stack.enter_async_context(http))

    def unit(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def body() -> T:
            async with unit_of_work() as session:
                return await work(session)

        return self.run(body())

    def close(self) -> None:
        self.run(self.stack.aclose())
        self.run(dispose_engine())
        self.loop.close()


@dataclass
class Person:
    client: httpx.AsyncClient
    id: uuid.UUID
    card: str = ""
    declined_card: str = ""
    address_id: uuid.UUID | None = None


@dataclass
class ShopOwner:
    client: httpx.AsyncClient
    id: uuid.UUID
    shop_handle: str


@dataclass
class ModelOrder:
    id: str
    checkout_id: str
    buyer: int
    lines: dict[uuid.UUID, int]  # variant -> quantity
    line_ids: dict[uuid.UUID, str] = field(default_factory=dict)  # variant -> order line id
    total: int = 0
    status: str = domain.PENDING_PAYMENT
    returned: dict[uuid.UUID, int] = field(default_factory=dict)
    was_paid: bool = False
    placed_at: datetime | None = None
    delivered_at: datetime | None = None


def ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201)), (
        response.request.method,
        response.request.url.path,
        response.status_code,
        response.text,
    )
    return dict(response.json()) if response.content else {}


def event(name: str) -> None:
    """Note what a step did (Hypothesis' statistics, and SEEN for the final check)."""
    hypothesis_event(name)
    SEEN[name] += 1


def amount(value: Any) -> int:
    return int(value["amount"]) if isinstance(value, dict) else int(value)


def has_returnable_units(order: ModelOrder) -> bool:
    return any(q - order.returned.get(v, 0) > 0 for v, q in order.lines.items())


def open_shop_and_buyers(runner: Runner) -> tuple[ShopOwner, list[Person]]:
    """A seller with a shop, and two buyers with an address, a good card and a declined one,
    all calling with bearer tokens (the clock jumps days ahead: cookies would go idle)."""
    seller = runner.client()
    owner = runner.run(signup(seller, "sella"))
    shop: dict[str, Any] = {"handle": "machineshop", "name": "Machine Shop"}
    shop |= {"country": "US", "currency": "USD", "shipping_flat_rate": 500}
    opened = ok(runner.run(seller.post(f"{API}/shops", json=shop)), 201)
    shop_owner = ShopOwner(seller, uuid.UUID(owner["user"]["id"]), opened["handle"])
    people = []
    for handle in ("bea", "bob"):
        client = runner.client()
        user = runner.run(signup(client, handle))
        person = Person(client, uuid.UUID(user["user"]["id"]))
        person.address_id = runner.run(save_address(person.id))
        person.card = runner.run(save_card(client))
        person.declined_card = runner.run(save_card(client, CARD_DECLINED))
        people.append(person)
    for client, user_id in [(p.client, p.id) for p in people] + [(seller, shop_owner.id)]:
        client.headers["Authorization"] = f"Bearer {runner.run(bearer_token(user_id))}"
    return shop_owner, people


async def bearer_token(user_id: uuid.UUID) -> str:
    from clipcart.accounts import service as accounts
    from clipcart.accounts.domain import API_SCOPES
    from clipcart.accounts.models import User
    from clipcart.accounts.schemas import ApiTokenIn

    async with unit_of_work() as session:
        user = await session.get(User, user_id)
        assert user is not None
        _, raw = await accounts.create_api_token(
            user, ApiTokenIn(name="machine", scopes=sorted(API_SCOPES)), session=session
        )
        return raw


# --- what the invariants read, each in one transaction ------------------------------------


async def read_stock(
    session: AsyncSession, variants: list[uuid.UUID]
) -> tuple[
    dict[uuid.UUID, int], dict[tuple[uuid.UUID | None, str], int], dict[uuid.UUID | None, int]
]:
    """Each variant's stock, its reserved units by reservation status, and the sum of its
    stock movement log."""
    stock = dict(
        (
            await session.execute(select(Variant.id, Variant.stock).where(Variant.id.in_(variants)))
        ).all()
    )
    reserved = await session.execute(
        select(
            StockReservation.variant_id,
            StockReservation.status,
            func.sum(StockReservation.quantity),
        )
        .where(StockReservation.variant_id.in_(variants))
        .group_by(StockReservation.variant_id, StockReservation.status)
    )
    logged = await session.execute(
        select(StockMovement.variant_id, func.sum(StockMovement.delta))
        .where(StockMovement.variant_id.in_(variants))
        .group_by(StockMovement.variant_id)
    )
    by_status = {(variant, status): int(quantity) for variant, status, quantity in reserved}
    return stock, by_status, {variant: int(total) for variant, total in logged}


async def read_orders(
    session: AsyncSession, ids: list[uuid.UUID]
) -> tuple[list[Order], dict[uuid.UUID, list[OrderEvent]], list[OrderLine]]:
    """The orders, each one's timeline in order, and their lines."""
    orders = list(await session.scalars(select(Order).where(Order.id.in_(ids))))
    events = await session.scalars(
        select(OrderEvent)
        .where(OrderEvent.order_id.in_(ids))
        .order_by(OrderEvent.created_at, OrderEvent.id)
    )
    timelines: dict[uuid.UUID, list[OrderEvent]] = {}
    for order_event in events:
        timelines.setdefault(order_event.order_id, []).append(order_event)
    lines = list(await session.scalars(select(OrderLine).where(OrderLine.order_id.in_(ids))))
    return orders, timelines, lines


@dataclass
class Money:
    """What the payments and the ledger say about a set of orders (by order reference)."""

    captured: Counter[str]
    refunded: Counter[str]
    transfers: dict[tuple[str | None, str], int]  # (reference, transfer kind) -> total
    orders: dict[str, Order]
    problems: list[Any]


async def read_money(session: AsyncSession, refs: list[str], ids: list[uuid.UUID]) -> Money:
    """Captured and refunded per order reference, the ledger's transfers by kind, the orders,
    and what the ledger's own verification finds."""
    captured: Counter[str] = Counter()
    refunded: Counter[str] = Counter()
    for intent in await session.scalars(
        select(PaymentIntent).where(PaymentIntent.order_ref.in_(refs))
    ):
        captured[intent.order_ref] += intent.amount_captured
        refunded[intent.order_ref] += intent.amount_refunded
    transfers = await session.execute(
        select(LedgerTransfer.reference, LedgerTransfer.kind, func.sum(LedgerTransfer.total))
        .where(LedgerTransfer.reference.in_(refs))
        .group_by(LedgerTransfer.reference, LedgerTransfer.kind)
    )
    orders = {
        domain.order_ref(order.id): order
        for order in await session.scalars(select(Order).where(Order.id.in_(ids)))
    }
    return Money(
        captured=captured,
        refunded=refunded,
        transfers={(reference, kind): int(total) for reference, kind, total in transfers},
        orders=orders,
        problems=await ledger.verify_ledger(session=session),
    )
