"""A bearer token's last use: shown in the token list, written at most once a minute."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from clipcart.core.clock import FrozenClock
from tests.api.test_accounts_auth import API, new_client, signup
from tests.api.test_accounts_sessions import frozen
from tests.api.test_accounts_tokens import bearer, create_token

__all__ = ["frozen"]  # the fixture, shared with the session tests


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
