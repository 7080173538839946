"""TOTP two-factor: setup with a QR code, confirm, log in with a code or a recovery code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from clipcart.accounts.models import RecoveryCode
from clipcart.core import clock
from clipcart.core.clock import FrozenClock
from clipcart.core.db import get_sessionmaker
from tests.api.test_accounts_auth import API, assert_problem, login, new_client, signup


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    with clock.frozen_at(datetime(2025, 3, 1, 12, 0, 10, tzinfo=UTC)) as moved:
        yield moved


@pytest.fixture
async def browser(app: Any) -> Any:
    async with new_client(app) as client:
        yield client


async def enable_two_factor(client: httpx.AsyncClient, clock: FrozenClock) -> tuple[str, list[str]]:
    """Set up and confirm TOTP; the secret and the recovery codes."""
    setup = await client.post(f"{API}/me/2fa/setup")
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    code = pyotp.TOTP(secret).at(clock.now())
    confirmed = await client.post(f"{API}/me/2fa/confirm", json={"code": code})
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


async def test_setup_gives_a_secret_uri_and_svg_qr_code(
    client: httpx.AsyncClient, frozen: FrozenClock
) -> None:
    await signup(client)
    response = await client.post(f"{API}/me/2fa/setup")
    body = response.json()
    assert body["uri"].startswith("otpauth://totp/ClipCart:jane%40example.com?secret=")
    assert body["secret"] in body["uri"]
    assert body["qr_svg"].startswith("<svg") and body["qr_svg"].rstrip().endswith("</svg>")
    assert (await client.get(f"{API}/me")).json()["two_factor_enabled"] is False


async def test_confirm_with_a_wrong_code_is_422(
    client: httpx.AsyncClient, frozen: FrozenClock
) -> None:
    await signup(client)
    await client.post(f"{API}/me/2fa/setup")
    response = await client.post(f"{API}/me/2fa/confirm", json={"code": "000000"})
    assert_problem(response, 422, "invalid_code")


async def test_confirm_before_setup_is_409(client: httpx.AsyncClient) -> None:
    await signup(client)
    response = await client.post(f"{API}/me/2fa/confirm", json={"code": "123456"})
    assert_problem(response, 409, "two_factor_not_started")


async def test_login_needs_a_valid_code_once_enabled(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, frozen: FrozenClock
) -> None:
    await signup(client)
    secret, codes = await enable_two_factor(client, frozen)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert (await client.get(f"{API}/me")).json()["two_factor_enabled"] is True

    response = await login(browser, "jane@example.com", expect=401)
    assert_problem(response, 401, "two_factor_required")
    response = await login(browser, "jane@example.com", otp_code="123456", expect=401)
    assert_problem(response, 401, "two_factor_required")
    # a wrong password still says only that
    response = await login(browser, "jane@example.com", "not the password", expect=401)
    assert_problem(response, 401, "invalid_credentials")

    frozen.advance(timedelta(seconds=30))
    code = pyotp.TOTP(secret).at(frozen.now())
    await login(browser, "jane@example.com", otp_code=code)
    assert (await browser.get(f"{API}/me")).status_code == 200


async def test_a_code_cannot_be_replayed(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, frozen: FrozenClock
) -> None:
    await signup(client)
    secret, _ = await enable_two_factor(client, frozen)
    frozen.advance(timedelta(seconds=30))
    code = pyotp.TOTP(secret).at(frozen.now())
    await login(browser, "jane@example.com", otp_code=code)
    response = await login(browser, "jane@example.com", otp_code=code, expect=401)
    assert_problem(response, 401, "two_factor_required")


async def test_recovery_codes_work_once_and_are_stored_hashed(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, frozen: FrozenClock
) -> None:
    await signup(client)
    _, codes = await enable_two_factor(client, frozen)
    async with get_sessionmaker()() as session:
        stored = set((await session.scalars(select(RecoveryCode.code_hash))).all())
    assert len(stored) == 10
    assert not any(code.replace("-", "") in stored or code in stored for code in codes)

    await login(browser, "jane@example.com", otp_code=codes[0].upper())
    response = await login(browser, "jane@example.com", otp_code=codes[0], expect=401)
    assert_problem(response, 401, "two_factor_required")
    await login(browser, "jane@example.com", otp_code=codes[1].replace("-", " "))


async def test_disable_needs_the_password(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, frozen: FrozenClock
) -> None:
    await signup(client)
    await enable_two_factor(client, frozen)
    response = await client.post(f"{API}/me/2fa/disable", json={"password": "wrong password"})
    assert_problem(response, 422, "wrong_password")
    response = await client.post(
        f"{API}/me/2fa/disable", json={"password": "correct horse battery staple"}
    )
    assert response.status_code == 204
    await login(browser, "jane@example.com")
    async with get_sessionmaker()() as session:
        assert (await session.scalars(select(RecoveryCode))).all() == []


async def test_setup_twice_while_enabled_is_409(
    client: httpx.AsyncClient, frozen: FrozenClock
) -> None:
    await signup(client)
    await enable_two_factor(client, frozen)
    assert_problem(await client.post(f"{API}/me/2fa/setup"), 409, "two_factor_already_enabled")
