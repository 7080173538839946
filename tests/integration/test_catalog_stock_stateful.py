"""Hypothesis drives stock changes (some refused, some crashing before commit) through the
catalogue service and checks after every step that stock matches a simple model, never goes
below zero, and is fully explained by the movement log. It runs on its own event loop and
engine (rules are synchronous), against the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clipcart.accounts import service as accounts
from clipcart.accounts.schemas import SignupIn
from clipcart.catalog import service as catalog
from clipcart.catalog.models import StockMovement, Variant
from clipcart.catalog.schemas import ProductIn, VariantIn
from clipcart.core.config import get_settings
from clipcart.core.db import create_engine
from clipcart.core.errors import Conflict
from clipcart.shops import service as shops
from clipcart.shops.schemas import ShopIn

T = TypeVar("T")
crashes = st.sampled_from([False, False, False, True])


class Crash(Exception):
    """The process died after the service call, before the commit."""


class Runner:
    """A private event loop and engine that synchronous rules drive."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine = create_engine(get_settings().resolved_database_url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def unit(self, work: Callable[[AsyncSession], Awaitable[T]], *, crash: bool = False) -> T:
        async def body() -> T:
            async with self.sessions() as session:
                try:
                    result = await work(session)
                    if crash:
                        raise Crash
                    await session.commit()
                    return result
                except BaseException:
                    await session.rollback()
                    raise

        return self.loop.run_until_complete(body())

    def wipe(self) -> None:
        async def body() -> None:
            async with self.sessions() as session:
                for table in (
                    "catalog_stock_movements",
                    "catalog_variants",
                    "catalog_products",
                    "shop_staff",
                    "shops",
                    "user_roles",
                    "users",
                ):
                    await session.execute(text(f"DELETE FROM {table}"))
                await session.commit()

        self.loop.run_until_complete(body())

    def close(self) -> None:
        self.loop.run_until_complete(self.engine.dispose())
        self.loop.close()


class StockMachine(RuleBasedStateMachine):
    runner: ClassVar[Runner]

    def __init__(self) -> None:
        super().__init__()
        self.runner.wipe()
        self.variant_ids: list[uuid.UUID] = []
        self.model: dict[uuid.UUID, int] = {}

    @initialize()
    def open_a_shop_with_two_variants(self) -> None:
        async def work(session: AsyncSession) -> list[uuid.UUID]:
            owner = await accounts.sign_up(
                SignupIn(
                    email=f"{uuid.uuid4().hex[:8]}@example.com",
                    handle=f"u{uuid.uuid4().hex[:8]}",
                    password="correct horse battery",
                ),
                session=session,
            )
            shop = await shops.open_shop(
                owner,
                ShopIn(handle=f"s{uuid.uuid4().hex[:8]}", name="S", country="US", currency="USD"),
                session=session,
            )
            product = await catalog.create_product(
                shop,
                ProductIn(
                    title="Thing",
                    options=["Size"],
                    variants=[
                        VariantIn(option_values=["S"], price=100),
                        VariantIn(option_values=["M"], price=100, stock=3),
                    ],
                ),
                actor=owner,
                session=session,
            )
            return [variant.id for variant in product.variants]

        self.variant_ids = self.runner.unit(work)
        self.model = {self.variant_ids[0]: 0, self.variant_ids[1]: 3}

    def _variant(self, session: AsyncSession, index: int) -> Awaitable[Variant | None]:
        return session.get(Variant, self.variant_ids[index])

    @rule(index=st.integers(0, 1), delta=st.integers(-6, 6).filter(bool), crash=crashes)
    def adjust(self, index: int, delta: int, crash: bool) -> None:
        expected_ok = self.model[self.variant_ids[index]] + delta >= 0

        async def work(session: AsyncSession) -> Any:
            variant = await self._variant(session, index)
            assert variant is not None
            return await catalog.adjust_stock(
                variant, delta, reason="correction", actor_id=None, session=session
            )

        try:
            self.runner.unit(work, crash=crash)
        except Crash:
            assert expected_ok
            return
        except Conflict:
            assert not expected_ok
            return
        assert expected_ok
        self.model[self.variant_ids[index]] += delta

    @rule(index=st.integers(0, 1), quantity=st.integers(0, 12), crash=crashes)
    def count_and_set(self, index: int, quantity: int, crash: bool) -> None:
        async def work(session: AsyncSession) -> Any:
            variant = await self._variant(session, index)
            assert variant is not None
            return await catalog.set_stock(
                variant, quantity, reason="correction", actor_id=None, session=session
            )

        try:
            self.runner.unit(work, crash=crash)
        except Crash:
            return
        self.model[self.variant_ids[index]] = quantity

    @invariant()
    def stock_matches_the_model_and_the_log(self) -> None:
        if not self.variant_ids:
            return

        async def work(session: AsyncSession) -> list[tuple[int, int, int]]:
            rows = []
            for variant_id in self.variant_ids:
                stock = await session.scalar(select(Variant.stock).where(Variant.id == variant_id))
                logged = await session.scalar(
                    select(func.coalesce(func.sum(StockMovement.delta), 0)).where(
                        StockMovement.variant_id == variant_id
                    )
                )
                lowest = await session.scalar(
                    select(func.coalesce(func.min(StockMovement.quantity_after), 0)).where(
                        StockMovement.variant_id == variant_id
                    )
                )
                rows.append((int(stock or 0), int(logged or 0), int(lowest or 0)))
            return rows

        for variant_id, (stock, logged, lowest) in zip(
            self.variant_ids, self.runner.unit(work), strict=True
        ):
            assert stock == self.model[variant_id]
            assert stock == logged
            assert stock >= 0 and lowest >= 0


def test_stock_stays_consistent_through_any_sequence_of_changes() -> None:
    StockMachine.runner = Runner()
    try:
        run_state_machine_as_test(
            StockMachine,
            settings=settings(
                max_examples=25,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        StockMachine.runner.wipe()
        StockMachine.runner.close()
