"""CSRF protection on cookie-authenticated unsafe requests, and the cookies that carry it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.test_accounts_auth import (
    API,
    assert_problem,
    csrf_for,
    login,
    new_client,
    signup,
)


@pytest.fixture
async def other_client(app: Any) -> Any:
    """A second browser."""
    async with new_client(app) as client:
        yield client


async def test_missing_csrf_token_is_403(client: httpx.AsyncClient) -> None:
    await signup(client)
    del client.headers["X-CSRF-Token"]
    response = await client.post(f"{API}/auth/logout")
    assert_problem(response, 403, "csrf_failed")
    assert (await client.get(f"{API}/me")).status_code == 200  # still logged in


async def test_wrong_csrf_token_is_403(client: httpx.AsyncClient) -> None:
    await signup(client)
    response = await client.patch(
        f"{API}/me", json={"bio": "hacked"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert_problem(response, 403, "csrf_failed")
    assert (await client.get(f"{API}/me")).json()["bio"] == ""


async def test_a_non_ascii_token_is_refused_not_a_crash(client: httpx.AsyncClient) -> None:
    await signup(client)
    del client.headers["X-CSRF-Token"]
    response = await client.post(f"{API}/auth/logout", data={"csrf_token": "ünïcode"})
    assert_problem(response, 403, "csrf_failed")


async def test_csrf_token_in_a_form_field_is_accepted(client: httpx.AsyncClient) -> None:
    data = await signup(client)
    del client.headers["X-CSRF-Token"]
    response = await client.post(f"{API}/auth/logout", data={"csrf_token": data["csrf_token"]})
    assert response.status_code == 204


async def test_csrf_token_in_a_multipart_form_is_accepted(client: httpx.AsyncClient) -> None:
    data = await signup(client)
    del client.headers["X-CSRF-Token"]
    response = await client.put(
        f"{API}/me/avatar",
        data={"csrf_token": data["csrf_token"]},
        files={"file": ("a.png", b"not an image", "image/png")},
    )
    assert_problem(response, 422, "avatar_invalid")  # past the guard, refused by the service


async def test_token_is_bound_to_the_session(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    anonymous_token = await csrf_for(client)
    await signup(client)
    response = await client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": anonymous_token})
    assert_problem(response, 403, "csrf_failed")
    # another browser's token does not fit this browser either
    await signup(other_client, "bob")
    response = await client.post(
        f"{API}/auth/logout", headers={"X-CSRF-Token": other_client.headers["X-CSRF-Token"]}
    )
    assert_problem(response, 403, "csrf_failed")


async def test_login_form_needs_the_token_once_the_browser_has_our_cookie(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    await signup(other_client)
    await client.get(f"{API}/auth/csrf")  # the browser has visited: it now holds clipcart_csrf
    response = await client.post(
        f"{API}/auth/login", json={"email": "jane@example.com", "password": "x" * 10}
    )
    assert_problem(response, 403, "csrf_failed")
    await login(client, "jane@example.com")


async def test_cross_site_unsafe_requests_are_refused(client: httpx.AsyncClient) -> None:
    await signup(client)
    response = await client.post(f"{API}/auth/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert_problem(response, 403, "csrf_failed")
    response = await client.post(f"{API}/auth/logout", headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 204


async def test_programs_without_cookies_need_no_csrf_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/auth/signup",
        json={"email": "jane@example.com", "handle": "jane", "password": "a fine password"},
    )
    assert response.status_code == 201


async def test_safe_methods_need_no_token(client: httpx.AsyncClient) -> None:
    await signup(client)
    del client.headers["X-CSRF-Token"]
    assert (await client.get(f"{API}/me")).status_code == 200


async def test_csrf_cookie_is_set_on_any_response_lacking_it(client: httpx.AsyncClient) -> None:
    for path in ("/", f"{API}/users/nobody", f"{API}/auth/csrf"):
        client.cookies.clear()
        response = await client.get(path)
        cookie = next(c for c in response.headers.get_list("set-cookie") if "clipcart_csrf" in c)
        lowered = cookie.lower()
        assert "httponly" in lowered and "samesite=lax" in lowered and "secure" not in lowered
    # once the browser has it, it is not sent again
    assert "clipcart_csrf" not in (await client.get("/")).headers.get("set-cookie", "")


async def test_probes_and_metrics_get_no_csrf_cookie(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        client.cookies.clear()
        response = await client.get(path)
        assert "clipcart_csrf" not in response.headers.get("set-cookie", "")


async def test_csrf_token_from_a_first_response_works_with_its_cookie(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_for(client)  # the response also set the nonce cookie it is built on
    response = await client.post(
        f"{API}/auth/signup",
        json={"email": "jane@example.com", "handle": "jane", "password": "a fine password"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 201


async def test_cookies_are_secure_over_https(app: Any) -> None:
    async with new_client(app, "https://testserver") as client:
        response = await client.post(
            f"{API}/auth/signup",
            json={"email": "jane@example.com", "handle": "jane", "password": "a fine password"},
        )
        assert response.status_code == 201
        cookies = [c.lower() for c in response.headers.get_list("set-cookie")]
        assert len(cookies) == 2
        assert all("secure" in c and "httponly" in c and "samesite=lax" in c for c in cookies)
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        assert (await client.get(f"{API}/me")).status_code == 200
        assert (await client.post(f"{API}/auth/logout")).status_code == 204
