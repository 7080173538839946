"""Session lifetimes: idle and absolute timeouts with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clipcart.accounts.models import AuthSession
from clipcart.accounts.tasks import purge_dead_sessions
from clipcart.core import clock
from clipcart.core.clock import FrozenClock
from clipcart.core.config import get_settings
from clipcart.core.db import get_sessionmaker
from tests.api.test_accounts_auth import API, assert_problem, login, new_client, signup


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    """Time stands still until the test moves it."""
    with clock.frozen_at(datetime(2025, 3, 1, 12, 0, tzinfo=UTC)) as moved:
        yield moved


async def _last_seen() -> datetime:
    async with get_sessionmaker()() as session:
        value = await session.scalar(select(AuthSession.last_seen_at))
    assert value is not None
    return value


async def test_idle_session_expires(client: httpx.AsyncClient, frozen: FrozenClock) -> None:
    idle = get_settings().session_idle_timeout_seconds
    await signup(client)
    frozen.advance(timedelta(seconds=idle - 60))
    assert (await client.get(f"{API}/me")).status_code == 200  # activity resets the idle timer
    frozen.advance(timedelta(seconds=idle - 60))
    assert (await client.get(f"{API}/me")).status_code == 200
    frozen.advance(timedelta(seconds=idle + 1))
    response = await client.get(f"{API}/me")
    assert_problem(response, 401, "not_authenticated")


async def test_absolute_timeout_ends_even_an_active_session(
    client: httpx.AsyncClient, frozen: FrozenClock
) -> None:
    settings = get_settings()
    step = timedelta(seconds=settings.session_idle_timeout_seconds // 2)
    lifetime = timedelta(seconds=settings.session_absolute_timeout_seconds)
    await signup(client)
    elapsed = timedelta(0)
    while elapsed + step < lifetime:
        frozen.advance(step)
        elapsed += step
        assert (await client.get(f"{API}/me")).status_code == 200, elapsed
    frozen.advance(lifetime - elapsed)
    assert_problem(await client.get(f"{API}/me"), 401, "not_authenticated")


async def test_last_seen_is_written_at_most_once_a_minute(
    client: httpx.AsyncClient, frozen: FrozenClock
) -> None:
    await signup(client)
    started = await _last_seen()
    frozen.advance(timedelta(seconds=30))
    await client.get(f"{API}/me")
    assert await _last_seen() == started
    frozen.advance(timedelta(seconds=31))
    await client.get(f"{API}/me")
    assert await _last_seen() == started + timedelta(seconds=61)


async def test_purge_forgets_only_dead_sessions(
    client: httpx.AsyncClient, app: Any, frozen: FrozenClock
) -> None:
    await signup(client)
    async with new_client(app) as other:
        await login(other, "jane@example.com")
        assert (await other.post(f"{API}/auth/logout")).status_code == 204
    assert await purge_dead_sessions() == 0  # ended just now: kept a day for the record
    frozen.advance(timedelta(days=1, seconds=1))
    assert (await client.get(f"{API}/me")).status_code == 200
    assert await purge_dead_sessions() == 1
    assert (await client.get(f"{API}/me")).status_code == 200
