"""A bearer token's last use: shown in the token list, written at most once a minute."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from clipcart.core.clock import FrozenClock, set_clock
from tests.api.test_accounts_auth import API, new_client, signup
from tests.api.test_accounts_tokens import bearer, create_token


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    """Time stands still until the test moves it."""
    clock = FrozenClock(datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    previous = set_clock(clock)
    yield clock
    set_clock(previous)


async def _last_used(client: httpx.AsyncClient) -> datetime | None:
    listed = (await client.get(f"{API}/tokens")).json()
    value = listed[0]["last_used_at"]
    return None if value is None else datetime.fromisoformat(value)


async def test_last_use_is_shown_and_written_at_most_once_a_minute(
    client: httpx.AsyncClient, app: Any, frozen: FrozenClock
) -> None:
    await signup(client)
    secret = (await create_token(client, ["account:read"]))["token"]
    assert await _last_used(client) is None
    async with new_client(app) as program:
        assert (await program.get(f"{API}/me", headers=bearer(secret))).status_code == 200
        first = frozen.now()
        assert await _last_used(client) == first
        frozen.advance(timedelta(seconds=30))
        assert (await program.get(f"{API}/me", headers=bearer(secret))).status_code == 200
        assert await _last_used(client) == first
        frozen.advance(timedelta(seconds=31))
        me = await program.get(f"{API}/me", headers=bearer(secret))
        assert me.status_code == 200 and me.json()["handle"]
        assert await _last_used(client) == first + timedelta(seconds=61)
