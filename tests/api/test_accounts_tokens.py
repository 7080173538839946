"""Bearer API tokens: create (shown once, stored hashed), list, scopes, revoke, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clipcart.accounts.models import ApiToken
from clipcart.core import clock
from clipcart.core.db import get_sessionmaker
from clipcart.core.ids import hash_token
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup


async def create_token(
    client: httpx.AsyncClient, scopes: list[str], **extra: Any
) -> dict[str, Any]:
    """A new token through the API (the client must be logged in)."""
    response = await client.post(
        f"{API}/tokens", json={"name": "my script", "scopes": scopes, **extra}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def program(app: Any) -> Any:
    """A client without cookies, like a script."""
    async with new_client(app) as client:
        yield client


async def test_token_is_shown_once_and_stored_hashed(client: httpx.AsyncClient) -> None:
    await signup(client)
    created = await create_token(client, ["account:read"])
    secret = created["token"]
    assert secret.startswith("cc_") and len(secret) > 40
    assert created["prefix"] == secret[:10]
    listed = (await client.get(f"{API}/tokens")).json()
    assert [item["id"] for item in listed] == [created["id"]]
    assert "token" not in listed[0]
    async with get_sessionmaker()() as session:
        stored = await session.scalar(select(ApiToken))
    assert stored is not None
    assert stored.token_hash == hash_token(secret)
    assert secret not in (stored.token_hash, stored.prefix)


async def test_bearer_token_authenticates_within_its_scopes(
    client: httpx.AsyncClient, program: httpx.AsyncClient
) -> None:
    await signup(client)
    secret = (await create_token(client, ["account:read"]))["token"]
    response = await program.get(f"{API}/me", headers=bearer(secret))
    assert response.status_code == 200
    assert response.json()["handle"] == "jane"
    response = await program.patch(f"{API}/me", json={"bio": "hi"}, headers=bearer(secret))
    body = assert_problem(response, 403, "insufficient_scope")
    assert body["required_scope"] == "account:write"


async def test_bearer_calls_need_no_csrf_token_even_with_cookies(
    client: httpx.AsyncClient,
) -> None:
    await signup(client)
    secret = (await create_token(client, ["account:write"]))["token"]
    del client.headers["X-CSRF-Token"]
    response = await client.patch(
        f"{API}/me", json={"bio": "from a script"}, headers=bearer(secret)
    )
    assert response.status_code == 200
    assert response.json()["bio"] == "from a script"


async def test_a_token_cannot_make_tokens_or_change_two_factor(
    client: httpx.AsyncClient, program: httpx.AsyncClient
) -> None:
    await signup(client)
    secret = (await create_token(client, ["account:read", "account:write"]))["token"]
    response = await program.post(
        f"{API}/tokens", json={"name": "x", "scopes": ["account:read"]}, headers=bearer(secret)
    )
    assert_problem(response, 403, "session_required")
    response = await program.post(f"{API}/me/2fa/setup", headers=bearer(secret))
    assert_problem(response, 403, "session_required")


async def test_revoked_token_is_401(client: httpx.AsyncClient, program: httpx.AsyncClient) -> None:
    await signup(client)
    created = await create_token(client, ["account:read"])
    assert (await program.get(f"{API}/me", headers=bearer(created["token"]))).status_code == 200
    response = await client.delete(f"{API}/tokens/{created['id']}")
    assert response.status_code == 204
    response = await program.get(f"{API}/me", headers=bearer(created["token"]))
    assert_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert (await client.get(f"{API}/tokens")).json() == []
    # revoking again, or someone else's token, is a 404
    assert_problem(await client.delete(f"{API}/tokens/{created['id']}"), 404, "token_not_found")


async def test_cannot_revoke_someone_elses_token(client: httpx.AsyncClient, app: Any) -> None:
    await signup(client)
    created = await create_token(client, ["account:read"])
    async with new_client(app) as mallory:
        await signup(mallory, "mallory")
        response = await mallory.delete(f"{API}/tokens/{created['id']}")
        assert_problem(response, 404, "token_not_found")


async def test_unknown_token_is_401_even_on_public_pages(program: httpx.AsyncClient) -> None:
    response = await program.get(f"{API}/users/jane", headers=bearer("cc_made_up"))
    assert_problem(response, 401, "invalid_token")


async def test_expired_token_is_401(client: httpx.AsyncClient, program: httpx.AsyncClient) -> None:
    with clock.frozen_at(datetime(2025, 3, 1, tzinfo=UTC)) as frozen:
        await signup(client)
        secret = (await create_token(client, ["account:read"], expires_in_days=1))["token"]
        assert (await program.get(f"{API}/me", headers=bearer(secret))).status_code == 200
        frozen.advance(timedelta(days=1, seconds=1))
        assert_problem(await program.get(f"{API}/me", headers=bearer(secret)), 401, "invalid_token")


async def test_logout_everywhere_leaves_tokens_working(
    client: httpx.AsyncClient, program: httpx.AsyncClient
) -> None:
    await signup(client)
    secret = (await create_token(client, ["account:read"]))["token"]
    assert (await client.post(f"{API}/auth/logout-everywhere")).status_code == 204
    assert (await program.get(f"{API}/me", headers=bearer(secret))).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["root"]}, "scopes"),
        ({"name": "  ", "scopes": ["account:read"]}, "name"),
    ],
)
async def test_bad_token_requests_are_422(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    await signup(client)
    response = await client.post(f"{API}/tokens", json=body)
    problem = assert_problem(response, 422, "validation_failed")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_tokens_need_a_login(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/tokens"), 401, "not_authenticated")
