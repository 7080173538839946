"""`clipcart ledger check` as an operator runs it, and the daily job that runs the same check."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from clipcart.core.db import create_engine, get_sessionmaker, unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service
from clipcart.ledger.tasks import check_ledger

CLIPCART = [sys.executable, "-m", "clipcart"]


def _run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPCART_")}
    env.update({"CLIPCART_DATA_DIR": str(data_dir), "CLIPCART_LOG_LEVEL": "WARNING"})
    return subprocess.run([*CLIPCART, *args], env=env, capture_output=True, text=True, timeout=120)


def _on_database(data_dir: Path, *statements: str) -> None:
    """Hold and release an order in the CLI's database, then run raw `statements` on it."""

    async def body() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{data_dir / 'clipcart.db'}")
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            async with sessions() as session:
                await service.hold_payment(
                    order_ref=f"order-{uuid.uuid4()}",
                    amount=Money(12_345, "EUR"),
                    shop_id=uuid.uuid4(),
                    fee_rate=Decimal("0.05"),
                    session=session,
                )
                for statement in statements:
                    await session.execute(text(statement))
                await session.commit()
        finally:
            await engine.dispose()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(body())
    finally:
        loop.close()


def test_ledger_check_passes_on_a_sound_ledger_and_lists_differences(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    assert _run(["migrate"], data_dir).returncode == 0

    _on_database(data_dir)
    sound = _run(["ledger", "check"], data_dir)
    assert sound.returncode == 0, sound.stdout + sound.stderr
    assert "balances" in sound.stdout

    _on_database(data_dir, "UPDATE ledger_accounts SET pending_credits = pending_credits + 5")
    broken = _run(["ledger", "check"], data_dir)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "discrepancies" in broken.stdout
    assert "account totals" in broken.stdout
    assert "pending_credits" in broken.stdout


async def test_the_daily_job_logs_what_it_finds(caplog: pytest.LogCaptureFixture) -> None:
    async with unit_of_work() as session:
        await service.hold_payment(
            order_ref="order-job",
            amount=Money(5_000, "USD"),
            shop_id=uuid.uuid4(),
            fee_rate=Decimal("0.05"),
            session=session,
        )
    assert await check_ledger() == 0

    async with get_sessionmaker()() as session:
        await session.execute(
            text("UPDATE ledger_accounts SET posted_credits = posted_credits + 1")
        )
        await session.commit()
    with caplog.at_level(logging.ERROR, logger="clipcart.ledger.tasks"):
        assert await check_ledger() > 0
    assert "ledger check found" in caplog.text


def test_the_daily_job_is_scheduled_once_a_day() -> None:
    from clipcart.core.jobs import huey, load_task_modules

    load_task_modules()
    due_at_night = {task.name for task in huey.read_periodic(datetime(2030, 1, 1, 3, 17))}
    due_later = {task.name for task in huey.read_periodic(datetime(2030, 1, 1, 15, 17))}
    assert "ledger.verify_daily" in due_at_night
    assert "ledger.verify_daily" not in due_later
