"""The security settings pages over HTTP: API tokens, log out everywhere, two-factor."""

from __future__ import annotations

import re

import httpx
import pyotp
from fastapi import FastAPI

from tests.api.test_pages import HTML, PASSWORD, csrf_from, form_token, log_out, sign_up

# --- security settings -------------------------------------------------------------------


async def test_an_api_token_is_shown_once_then_listed_and_revoked(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    token = await form_token(client, "/settings/security")

    created = await client.post(
        "/settings/security/tokens",
        data={
            "name": "Nightly export",
            "scopes": ["account:read", "catalog:read"],
            "expires_in_days": "30",
            "csrf_token": token,
        },
        headers=HTML,
    )

    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    secret = re.search(r'id="new-token">(cc_[^<]+)<', created.text)
    assert secret
    me = await client.get("/api/v1/me", headers={"authorization": f"Bearer {secret.group(1)}"})
    assert me.status_code == 200

    listing = await client.get("/settings/security", headers=HTML)
    assert secret.group(1) not in listing.text
    assert "Nightly export" in listing.text and secret.group(1)[:10] in listing.text
    revoke = re.search(r'action="(/settings/security/tokens/[^"]+/revoke)"', listing.text)
    assert revoke
    revoked = await client.post(
        revoke.group(1), data={"csrf_token": csrf_from(listing)}, headers=HTML
    )
    assert revoked.status_code == 303
    after = await client.get("/settings/security", headers=HTML)
    assert "Nightly export" not in after.text and "The token is revoked" in after.text
    refused = await client.get("/api/v1/me", headers={"authorization": f"Bearer {secret.group(1)}"})
    assert refused.status_code == 401


async def test_a_token_without_scopes_is_refused_next_to_the_scopes(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    token = await form_token(client, "/settings/security")

    answer = await client.post(
        "/settings/security/tokens", data={"name": "Nothing", "csrf_token": token}, headers=HTML
    )

    assert answer.status_code == 422
    assert 'id="f-scopes-error"' in answer.text and "at least one scope" in answer.text
    assert 'value="Nothing"' in answer.text


async def test_a_bearer_token_does_not_open_the_pages(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await sign_up(client)
    token = await form_token(client, "/settings/security")
    created = await client.post(
        "/settings/security/tokens",
        data={"name": "All", "scopes": ["account:read"], "csrf_token": token},
        headers=HTML,
    )
    secret = re.search(r'id="new-token">(cc_[^<]+)<', created.text)
    assert secret

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as bot:
        answer = await bot.post(
            "/settings/security/tokens",
            data={"name": "Escalated", "scopes": ["orders:write"]},
            headers={"authorization": f"Bearer {secret.group(1)}", **HTML},
        )

    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


async def test_log_out_everywhere_ends_every_session(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    account = await sign_up(client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        token = await form_token(other, "/login")
        logged_in = await other.post(
            "/login",
            data={"email": account["email"], "password": PASSWORD, "csrf_token": token},
            headers=HTML,
        )
        assert logged_in.status_code == 303
        token = await form_token(client, "/settings/security")

        answer = await client.post(
            "/settings/security/logout-everywhere", data={"csrf_token": token}, headers=HTML
        )

        assert answer.status_code == 303 and answer.headers["location"] == "/login"
        assert (await other.get("/me", headers=HTML)).headers["location"].startswith("/login")
    assert (await client.get("/me", headers=HTML)).headers["location"].startswith("/login")


async def test_two_factor_setup_and_login_with_a_code(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    setup = await client.post(
        "/settings/security/two-factor/setup",
        data={"csrf_token": await form_token(client, "/settings/security")},
        headers=HTML,
    )
    assert setup.status_code == 200 and setup.headers["cache-control"] == "no-store"
    assert 'src="data:image/svg+xml;base64,' in setup.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', setup.text)
    assert secret
    totp = pyotp.TOTP(secret.group(1))

    wrong = await client.post(
        "/settings/security/two-factor/confirm",
        data={
            "code": "000000" if totp.now() != "000000" else "111111",
            "csrf_token": csrf_from(setup),
        },
        headers=HTML,
    )
    assert wrong.status_code == 422 and 'id="f-code-error"' in wrong.text
    assert secret.group(1) in wrong.text  # the same secret, shown again

    confirmed = await client.post(
        "/settings/security/two-factor/confirm",
        data={"code": totp.now(), "csrf_token": csrf_from(setup)},
        headers=HTML,
    )
    assert confirmed.status_code == 200, confirmed.text
    codes = re.findall(
        r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", confirmed.text
    )
    assert len(codes) == 10
    await log_out(client)

    step_one = await client.post(
        "/login",
        data={
            "email": account["email"],
            "password": PASSWORD,
            "csrf_token": await form_token(client, "/login"),
        },
        headers=HTML,
    )
    assert step_one.status_code == 200 and 'name="pending"' in step_one.text
    assert PASSWORD not in step_one.text
    pending = re.search(r'name="pending" value="([^"]+)"', step_one.text)
    assert pending

    wrong_code = await client.post(
        "/login/two-factor",
        data={
            "pending": pending.group(1),
            "code": "zzzz-zzzz-zzzz-zzzz",
            "csrf_token": csrf_from(step_one),
        },
        headers=HTML,
    )
    assert wrong_code.status_code == 401 and 'id="f-code-error"' in wrong_code.text

    done = await client.post(
        "/login/two-factor",
        data={"pending": pending.group(1), "code": codes[0], "csrf_token": csrf_from(step_one)},
        headers=HTML,
    )
    assert done.status_code == 303
    assert (await client.get("/me", headers=HTML)).headers["location"] == f"/@{account['handle']}"


async def test_a_forged_two_factor_step_is_refused(client: httpx.AsyncClient) -> None:
    token = await form_token(client, "/login")

    answer = await client.post(
        "/login/two-factor",
        data={"pending": "forged", "code": "123456", "csrf_token": token},
        headers=HTML,
    )

    assert answer.status_code == 401
    assert "Enter your email and password again" in answer.text


async def test_turning_two_factor_off_needs_the_password(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    setup = await client.post(
        "/settings/security/two-factor/setup",
        data={"csrf_token": await form_token(client, "/settings/security")},
        headers=HTML,
    )
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', setup.text)
    assert secret
    await client.post(
        "/settings/security/two-factor/confirm",
        data={"code": pyotp.TOTP(secret.group(1)).now(), "csrf_token": csrf_from(setup)},
        headers=HTML,
    )
    token = await form_token(client, "/settings/security")

    refused = await client.post(
        "/settings/security/two-factor/disable",
        data={"password": "not-my-password", "csrf_token": token},
        headers=HTML,
    )
    assert refused.status_code == 422 and "not right" in refused.text
    assert "not-my-password" not in refused.text

    done = await client.post(
        "/settings/security/two-factor/disable",
        data={"password": PASSWORD, "csrf_token": token},
        headers=HTML,
    )
    assert done.status_code == 303
    page = await client.get("/settings/security", headers=HTML)
    assert "Set up two-factor" in page.text
