"""Test setup: a fresh database per run (SQLite, or PostgreSQL when configured), clean tables
per test, an in-process API client, and a real server process for browser tests."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

_DATA_DIR = Path(tempfile.mkdtemp(prefix="clipcart-test-"))
_BASE_PG_URL = os.environ.get("CLIPCART_TEST_DATABASE_URL", "")
_PG_DATABASE = f"clipcart_test_{uuid.uuid4().hex[:10]}"


def _postgres_url_for(database: str) -> str:
    base, _, _ = _BASE_PG_URL.rpartition("/")
    return f"{base}/{database}"


def _test_database_url() -> str:
    if _BASE_PG_URL.startswith("postgresql"):
        return _postgres_url_for(_PG_DATABASE)
    return f"sqlite+aiosqlite:///{_DATA_DIR / 'test.db'}"


os.environ.update(
    {
        "CLIPCART_ENVIRONMENT": "test",
        "CLIPCART_DATA_DIR": str(_DATA_DIR),
        "CLIPCART_DATABASE_URL": _test_database_url(),
        "CLIPCART_JOBS_IMMEDIATE": "true",
        "CLIPCART_LOG_JSON": "true",
        "CLIPCART_LOG_LEVEL": "WARNING",
        "CLIPCART_SECRET_KEY": "test-secret-key-not-for-production",
    }
)
os.environ.pop("CLIPCART_REDIS_URL", None)

import httpx  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from clipcart.core.config import get_settings  # noqa: E402
from clipcart.core.db import Base, get_sessionmaker  # noqa: E402
from clipcart.core.migrations import upgrade_to_head  # noqa: E402
from clipcart.models import load_all_models  # noqa: E402

load_all_models()


def _admin_execute(statement: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        dsn = _postgres_url_for("postgres").replace("postgresql+asyncpg", "postgresql")
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    """Create the run's database, migrate it to head, drop it at the end."""
    url = get_settings().resolved_database_url
    if url.startswith("postgresql"):
        _admin_execute(f'CREATE DATABASE "{_PG_DATABASE}"')
    upgrade_to_head(url)
    yield url
    if url.startswith("postgresql"):
        _admin_execute(f'DROP DATABASE IF EXISTS "{_PG_DATABASE}" WITH (FORCE)')


@pytest.fixture(autouse=True)
async def clean_tables(database: str) -> AsyncIterator[None]:
    """Every test starts with empty tables (and nothing the feed remembers of earlier ones)."""
    from clipcart.feed import memory

    memory.clear()
    yield
    async with get_sessionmaker()() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(table.delete())
        await session.commit()


@pytest.fixture
def app() -> FastAPI:
    """A fresh app instance (in-process backends)."""
    from clipcart.app import create_app

    return create_app(get_settings())


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, keeping cookies like a browser."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e drives Chromium: mark it `browser`, so that a test file that
    forgets its own marker is still left out of the SQLite pass as intended."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.browser)
