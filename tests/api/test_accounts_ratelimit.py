"""Login rate limits: per address, per account with growing backoff; a success resets."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from clipcart.core.config import get_settings
from tests.api.test_accounts_auth import API, assert_problem, login, new_client, signup


@pytest.fixture
async def browser(app: Any) -> Any:
    async with new_client(app) as client:
        yield client


async def test_too_many_attempts_from_one_address_is_429(browser: httpx.AsyncClient) -> None:
    limit = get_settings().login_attempts_per_minute_per_ip
    for number in range(limit):
        await login(browser, f"nobody{number}@example.com", "wrong password!", expect=401)
    response = await login(browser, "nobody@example.com", "wrong password!", expect=429)
    body = assert_problem(response, 429, "rate_limited")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert body["retry_after"] == retry_after


async def test_account_backs_off_after_repeated_failures(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    settings = get_settings()
    await signup(client)
    for _ in range(settings.login_failures_before_backoff):
        await login(browser, "jane@example.com", "wrong password!", expect=401)
    # now even the right password must wait
    response = await login(browser, "jane@example.com", expect=429)
    assert_problem(response, 429, "rate_limited")
    retry_after = int(response.headers["Retry-After"])
    assert settings.login_backoff_base_seconds - 2 <= retry_after
    assert retry_after <= settings.login_backoff_base_seconds
    # the same for an account that does not exist (nothing to learn from the answer)
    for _ in range(settings.login_failures_before_backoff):
        await login(browser, "ghost@example.com", "wrong password!", expect=401)
    assert_problem(await login(browser, "ghost@example.com", expect=429), 429, "rate_limited")


async def test_backoff_doubles_with_each_further_failure(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "login_backoff_base_seconds", 1)
    await signup(client)
    for _ in range(settings.login_failures_before_backoff):
        await login(browser, "jane@example.com", "wrong password!", expect=401)
    assert (await login(browser, "jane@example.com", expect=429)).headers["Retry-After"] == "1"
    await asyncio.sleep(1.1)
    await login(browser, "jane@example.com", "wrong password!", expect=401)
    assert (await login(browser, "jane@example.com", expect=429)).headers["Retry-After"] == "2"


async def test_a_success_resets_the_failure_count(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    almost = get_settings().login_failures_before_backoff - 1
    await signup(client)
    for _ in range(2):
        for _ in range(almost):
            await login(browser, "jane@example.com", "wrong password!", expect=401)
        await login(browser, "jane@example.com")


async def test_too_many_signups_from_one_address_is_429(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "signups_per_hour_per_ip", 2)
    for number in range(2):
        async with new_client(app) as client:
            await signup(client, f"user{number}")
    async with new_client(app) as client:
        response = await client.post(
            f"{API}/auth/signup",
            json={"email": "late@example.com", "handle": "late", "password": "a fine password"},
        )
        assert_problem(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) > 0
