"""Stock on PostgreSQL: the database itself refuses negative stock, and concurrent sales
through the service never take a variant below zero."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from clipcart.accounts import service as accounts
from clipcart.accounts.schemas import SignupIn
from clipcart.catalog import service
from clipcart.catalog.models import StockMovement, Variant
from clipcart.catalog.schemas import ProductIn, VariantIn
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.core.errors import Conflict
from clipcart.shops import service as shops
from clipcart.shops.schemas import ShopIn
from tests.services import require_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgres() -> None:
    require_postgres()


async def _variant_with_stock(stock: int) -> uuid.UUID:
    async with unit_of_work() as session:
        owner = await accounts.sign_up(
            SignupIn(email="o@example.com", handle="owner", password="correct horse battery"),
            session=session,
        )
        shop = await shops.open_shop(
            owner, ShopIn(handle="acme", name="Acme", country="US", currency="USD"), session=session
        )
        product = await service.create_product(
            shop,
            ProductIn(title="Tee", status="active", variants=[VariantIn(price=1000, stock=stock)]),
            actor=owner,
            session=session,
        )
        return product.variants[0].id


async def test_database_refuses_negative_stock_even_if_code_is_wrong() -> None:
    variant_id = await _variant_with_stock(3)
    async with get_sessionmaker()() as session:
        with pytest.raises(IntegrityError, match="stock_not_negative"):
            await session.execute(
                text("UPDATE catalog_variants SET stock = -1 WHERE id = :id"), {"id": variant_id}
            )
        await session.rollback()
    async with get_sessionmaker()() as session:
        variant = await session.get(Variant, variant_id)
        assert variant is not None
        with pytest.raises(IntegrityError):
            variant.stock = -5
            await session.flush()
        await session.rollback()
        assert await session.scalar(select(Variant.stock).where(Variant.id == variant_id)) == 3


async def _sell_one(variant_id: uuid.UUID) -> bool:
    try:
        async with unit_of_work() as session:
            variant = await session.get(Variant, variant_id)
            assert variant is not None
            await service.adjust_stock(variant, -1, reason="sale", actor_id=None, session=session)
            await asyncio.sleep(0.01)  # hold the row a moment, so the others must wait
        return True
    except Conflict:
        return False


async def test_concurrent_sales_never_oversell() -> None:
    variant_id = await _variant_with_stock(10)
    results = await asyncio.gather(*(_sell_one(variant_id) for _ in range(25)))
    assert results.count(True) == 10
    assert results.count(False) == 15
    async with get_sessionmaker()() as session:
        assert await session.scalar(select(Variant.stock).where(Variant.id == variant_id)) == 0
        sales = await session.scalar(
            select(func.count())
            .select_from(StockMovement)
            .where(StockMovement.variant_id == variant_id, StockMovement.reason == "sale")
        )
        assert sales == 10
        afters = (
            await session.scalars(
                select(StockMovement.quantity_after).where(
                    StockMovement.variant_id == variant_id, StockMovement.reason == "sale"
                )
            )
        ).all()
        assert sorted(afters) == list(range(10))


async def test_concurrent_corrections_and_sales_keep_the_log_consistent() -> None:
    variant_id = await _variant_with_stock(5)

    async def restock() -> bool:
        async with unit_of_work() as session:
            variant = await session.get(Variant, variant_id)
            assert variant is not None
            await service.adjust_stock(variant, 2, reason="restock", actor_id=None, session=session)
        return True

    work = [_sell_one(variant_id) for _ in range(12)] + [restock() for _ in range(3)]
    await asyncio.gather(*work)
    async with get_sessionmaker()() as session:
        stock = await session.scalar(select(Variant.stock).where(Variant.id == variant_id))
        total = await session.scalar(
            select(func.sum(StockMovement.delta)).where(StockMovement.variant_id == variant_id)
        )
        assert stock is not None and stock >= 0
        assert stock == total  # every unit is explained by a movement
