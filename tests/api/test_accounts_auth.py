"""Sign up, log in, log out: the happy paths and every required failure answer.

The helpers at the top are shared by the other test_accounts_* modules."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import Depends
from sqlalchemy import select

from clipcart.accounts import service
from clipcart.accounts.dependencies import OptionalUser, require_role
from clipcart.accounts.models import AuthSession, User
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.core.ids import hash_token
from clipcart.core.routing import make_router

PASSWORD = "correct horse battery staple"
API = "/api/v1"
PROBLEM = "application/problem+json"


def new_client(app: Any, base_url: str = "http://testserver") -> httpx.AsyncClient:
    """Another browser-like client on the same app (its own cookie jar)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


async def csrf_for(client: httpx.AsyncClient) -> str:
    """The CSRF token for the client's current cookies."""
    response = await client.get(f"{API}/auth/csrf")
    assert response.status_code == 200
    return str(response.json()["csrf_token"])


async def signup(
    client: httpx.AsyncClient,
    handle: str = "jane",
    *,
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str | None = None,
    expect: int = 201,
) -> dict[str, Any]:
    """Sign up through the API; on success the client sends the new CSRF token from then on."""
    body: dict[str, Any] = {
        "email": email or f"{handle}@example.com",
        "handle": handle,
        "password": password,
    }
    if display_name is not None:
        body["display_name"] = display_name
    headers = {"X-CSRF-Token": await csrf_for(client)}
    response = await client.post(f"{API}/auth/signup", json=body, headers=headers)
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    if expect == 201:
        client.headers["X-CSRF-Token"] = data["csrf_token"]
    return data


async def login(
    client: httpx.AsyncClient,
    email: str,
    password: str = PASSWORD,
    *,
    otp_code: str | None = None,
    expect: int = 200,
) -> httpx.Response:
    """Log in through the API; on success the client sends the new CSRF token from then on."""
    body: dict[str, Any] = {"email": email, "password": password}
    if otp_code is not None:
        body["otp_code"] = otp_code
    client.headers.pop("X-CSRF-Token", None)
    headers = {"X-CSRF-Token": await csrf_for(client)}
    response = await client.post(f"{API}/auth/login", json=body, headers=headers)
    assert response.status_code == expect, response.text
    if expect == 200:
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return response


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    """A problem body minus the per-request id."""
    return {key: value for key, value in body.items() if key != "request_id"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


@pytest.fixture
async def other_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser."""
    async with new_client(app) as client:
        yield client


# --- sign up ------------------------------------------------------------------------------


async def test_signup_creates_a_buyer_and_logs_in(client: httpx.AsyncClient) -> None:
    data = await signup(client, "Jane.Doe", display_name="Jane Doe")
    user = data["user"]
    assert user["handle"] == "jane.doe"
    assert user["display_name"] == "Jane Doe"
    assert user["roles"] == ["buyer"]
    assert user["email"] == "jane.doe@example.com"
    assert user["two_factor_enabled"] is False
    assert len(user["id"]) == 36 and user["id"][14] == "7"  # UUIDv7, not a counter
    me = await client.get(f"{API}/me")
    assert me.status_code == 200
    assert me.json()["handle"] == "jane.doe"


async def test_signup_stores_only_an_argon2id_hash(client: httpx.AsyncClient) -> None:
    await signup(client)
    async with get_sessionmaker()() as session:
        user = await session.scalar(select(User).where(User.handle == "jane"))
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_session_cookie_is_httponly_lax_and_stored_hashed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/auth/signup",
        json={"email": "jane@example.com", "handle": "jane", "password": PASSWORD},
    )
    assert response.status_code == 201
    cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
    session_cookie = cookies["clipcart_session"].lower()
    assert "httponly" in session_cookie
    assert "samesite=lax" in session_cookie
    assert "secure" not in session_cookie  # plain http here
    assert "httponly" in cookies["clipcart_csrf"].lower()
    raw = client.cookies["clipcart_session"]
    async with get_sessionmaker()() as session:
        stored = (await session.scalars(select(AuthSession.token_hash))).all()
    assert stored == [hash_token(raw)]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"handle": "jane", "email": "jane@example.com"}, {"handle": "JANE", "email": "x@x.io"}),
        (
            {"handle": "jane", "email": "jane@example.com"},
            {"handle": "bob", "email": "Jane@Example.com"},
        ),
    ],
)
async def test_duplicate_handle_or_email_is_409(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, first: dict, second: dict
) -> None:
    await signup(client, first["handle"], email=first["email"])
    response = await other_client.post(f"{API}/auth/signup", json={**second, "password": PASSWORD})
    body = assert_problem(response, 409, "already_taken")
    field = "handle" if second["handle"].lower() == first["handle"] else "email"
    assert [error["field"] for error in body["errors"]] == [field]


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short1", "at least 8"),
        ("x" * 129, "at most 128"),
        ("password1", "too common"),
        ("PASSWORD1", "too common"),
        ("Iloveyou1", "too common"),
        ("aaaaaaaaaa", "different characters"),
        ("jane@example.com", "email or handle"),
    ],
)
async def test_weak_password_is_422_with_field_errors(
    client: httpx.AsyncClient, password: str, fragment: str
) -> None:
    response = await client.post(
        f"{API}/auth/signup",
        json={"email": "jane@example.com", "handle": "jane", "password": password},
    )
    body = assert_problem(response, 422, "validation_failed")
    [error] = body["errors"]
    assert error["field"] == "password"
    assert fragment in error["message"]
    assert "clipcart_session" not in response.cookies


async def test_long_passwords_are_allowed(client: httpx.AsyncClient) -> None:
    await signup(client, password="a long passphrase with spaces and ünïcode " * 3)


async def test_every_bad_field_is_listed_at_once(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/auth/signup",
        json={"email": "not-an-email", "handle": "admin", "password": "123"},
    )
    body = assert_problem(response, 422, "validation_failed")
    assert {error["field"] for error in body["errors"]} == {"email", "handle", "password"}


async def test_malformed_body_is_422_not_500(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/auth/signup", json={"email": 5})
    assert_problem(response, 422, "validation_failed")


# --- log in and out -----------------------------------------------------------------------


async def test_wrong_password_and_unknown_account_get_the_same_401(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    await signup(client)
    known = await login(other_client, "jane@example.com", "wrong password!", expect=401)
    unknown = await login(other_client, "nobody@example.com", "wrong password!", expect=401)
    assert_problem(known, 401, "invalid_credentials")
    assert without_request_id(known.json()) == without_request_id(unknown.json())
    assert known.headers.get("set-cookie", "").count("clipcart_session") == 0


async def test_wrong_password_takes_similar_time_whether_or_not_the_account_exists(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    await signup(client)

    async def timed(email: str) -> float:
        started = time.perf_counter()
        await login(other_client, email, "wrong password!", expect=401)
        return time.perf_counter() - started

    known = statistics.median([await timed("jane@example.com") for _ in range(3)])
    unknown = statistics.median([await timed(f"n{i}@example.com") for i in range(3)])
    # Without the dummy hash an unknown account would answer many times faster.
    assert 1 / 3 < unknown / known < 3


async def test_login_issues_a_new_session_id_and_ends_the_previous_one(
    client: httpx.AsyncClient, app: Any
) -> None:
    await signup(client)
    first = client.cookies["clipcart_session"]
    await login(client, "jane@example.com")
    second = client.cookies["clipcart_session"]
    assert second != first
    async with new_client(app) as stale:
        stale.cookies.set("clipcart_session", first)
        assert (await stale.get(f"{API}/me")).status_code == 401
    assert (await client.get(f"{API}/me")).status_code == 200


async def test_login_with_any_case_email(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    await signup(client)
    response = await login(other_client, "  JANE@example.COM ")
    assert response.json()["user"]["handle"] == "jane"


async def test_logout_ends_the_session(client: httpx.AsyncClient, app: Any) -> None:
    await signup(client)
    raw = client.cookies["clipcart_session"]
    response = await client.post(f"{API}/auth/logout")
    assert response.status_code == 204
    assert "clipcart_session" not in client.cookies
    assert_problem(await client.get(f"{API}/me"), 401, "not_authenticated")
    async with new_client(app) as replay:
        replay.cookies.set("clipcart_session", raw)
        assert (await replay.get(f"{API}/me")).status_code == 401


async def test_logout_everywhere_ends_every_session(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    await signup(client)
    await login(other_client, "jane@example.com")
    assert (await other_client.get(f"{API}/me")).status_code == 200
    response = await client.post(f"{API}/auth/logout-everywhere")
    assert response.status_code == 204
    assert (await client.get(f"{API}/me")).status_code == 401
    assert_problem(await other_client.get(f"{API}/me"), 401, "not_authenticated")


async def test_a_dead_session_cookie_is_removed(client: httpx.AsyncClient) -> None:
    client.cookies.set("clipcart_session", "made-up-token")
    response = await client.get(f"{API}/me")
    assert_problem(response, 401, "not_authenticated")
    assert 'clipcart_session=""' in response.headers.get("set-cookie", "")


async def test_me_needs_a_login(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/me"), 401, "not_authenticated")


# --- roles --------------------------------------------------------------------------------


def _add_probe_routes(app: Any) -> None:
    probe = make_router(prefix="/probe")

    @probe.get("/admin")
    async def admin_only(user: User = Depends(require_role("admin", "moderator"))) -> dict:
        return {"handle": user.handle}

    @probe.get("/optional")
    async def optional(user: OptionalUser) -> dict:
        return {"handle": user.handle if user else None}

    app.include_router(probe)


async def test_require_role_and_optional_user(client: httpx.AsyncClient, app: Any) -> None:
    _add_probe_routes(app)
    assert (await client.get("/probe/optional")).json() == {"handle": None}
    assert_problem(await client.get("/probe/admin"), 401, "not_authenticated")
    await signup(client)
    assert (await client.get("/probe/optional")).json() == {"handle": "jane"}
    assert_problem(await client.get("/probe/admin"), 403, "role_required")
    async with unit_of_work() as session:
        user = await service.get_user_by_handle("jane", session=session)
        await service.grant_role(user, "moderator", session=session)
    assert (await client.get("/probe/admin")).json() == {"handle": "jane"}
    assert sorted((await client.get(f"{API}/me")).json()["roles"]) == ["buyer", "moderator"]


async def test_grant_role_refuses_unknown_roles(client: httpx.AsyncClient) -> None:
    await signup(client)
    async with unit_of_work() as session:
        user = await service.get_user_by_handle("jane", session=session)
        with pytest.raises(Exception, match="Unknown role"):
            await service.grant_role(user, "superuser", session=session)


def test_require_role_refuses_unknown_role_names() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        require_role("wizard")


async def test_users_by_ids_reads_a_batch_of_accounts_by_id(
    app: Any, client: httpx.AsyncClient
) -> None:
    jane = uuid.UUID((await signup(client, "jane"))["user"]["id"])
    async with new_client(app) as other:
        bruno = uuid.UUID((await signup(other, "bruno"))["user"]["id"])
    unknown = uuid.uuid4()
    async with get_sessionmaker()() as session:
        found = await service.users_by_ids([jane, bruno, jane, unknown], session=session)
        assert set(found) == {jane, bruno}
        assert found[jane].handle == "jane" and found[bruno].handle == "bruno"
        assert await service.users_by_ids([], session=session) == {}
        assert await service.users_by_ids({unknown}, session=session) == {}
