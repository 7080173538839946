"""The HTML pages over HTTP: content types, CSRF, form errors, redirects, error pages."""

from __future__ import annotations

import io
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

HTML = {"accept": "text/html,application/xhtml+xml"}
PASSWORD = "violet-harbour-lantern-42"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(page: httpx.Response) -> str:
    """The CSRF token embedded in a page's forms."""
    match = CSRF_FIELD.search(page.text)
    assert match, "the page has no csrf_token field"
    return match.group(1)


async def form_token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path, headers=HTML)
    assert page.status_code == 200, page.text
    return csrf_from(page)


async def sign_up(
    client: httpx.AsyncClient, *, handle: str | None = None, display_name: str = "Test Person"
) -> dict[str, str]:
    """A new account made through the sign-up page (this client ends up logged in)."""
    handle = handle or f"u{uuid.uuid4().hex[:10]}"
    account = {
        "email": f"{handle}@example.com",
        "handle": handle,
        "display_name": display_name,
        "password": PASSWORD,
    }
    token = await form_token(client, "/signup")
    answer = await client.post("/signup", data={**account, "csrf_token": token}, headers=HTML)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/@{handle}"
    return account


async def log_out(client: httpx.AsyncClient) -> None:
    token = await form_token(client, "/settings/security")
    answer = await client.post("/logout", data={"csrf_token": token}, headers=HTML)
    assert answer.status_code == 303


def avatar_png(size: int = 160) -> bytes:
    """A small real PNG made with Pillow."""
    image = Image.new("RGB", (size, size), (209, 18, 79))
    for x in range(size // 4, size // 2):
        for y in range(size // 4, size // 2):
            image.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# --- plain pages -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/shop", "/login", "/signup"])
async def test_public_pages_answer_html_with_the_layout(
    client: httpx.AsyncClient, path: str
) -> None:
    page = await client.get(path, headers=HTML)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<meta name="csrf-token" content="' in page.text
    assert 'aria-label="Main"' in page.text  # the tab bar
    assert " style=" not in page.text and "<style" not in page.text
    assert "onclick" not in page.text and "<script>" not in page.text


async def test_home_marks_its_tab_and_says_the_feed_is_coming(client: httpx.AsyncClient) -> None:
    page = await client.get("/", headers=HTML)

    assert re.search(r'href="/"\s+aria-current="page"', page.text)
    assert "The feed arrives soon" in page.text
    assert 'href="/signup"' in page.text and 'href="/login"' in page.text


@pytest.mark.parametrize("path", ["/login", "/signup"])
async def test_forms_carry_the_csrf_token_of_this_browser(
    client: httpx.AsyncClient, path: str
) -> None:
    page = await client.get(path, headers=HTML)

    token = csrf_from(page)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert meta and meta.group(1) == token
    assert "clipcart_csrf" in client.cookies


async def test_static_files_are_served_with_fingerprints(client: httpx.AsyncClient) -> None:
    page = await client.get("/", headers=HTML)
    stylesheet = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', page.text)
    script = re.search(r'src="(/static/js/app\.js\?v=[0-9a-f]+)"', page.text)
    assert stylesheet and script

    css = await client.get(stylesheet.group(1))
    js = await client.get(script.group(1))

    assert css.status_code == 200 and "--color-accent" in css.text
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]


# --- CSRF --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/signup", "/logout"])
async def test_a_post_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, path: str
) -> None:
    await client.get("/login", headers=HTML)  # the browser now holds a CSRF cookie

    answer = await client.post(
        path, data={"email": "a@example.com", "password": PASSWORD}, headers=HTML
    )

    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "Reload the page" in answer.text


async def test_a_post_with_a_forged_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/login", headers=HTML)

    answer = await client.post(
        "/login",
        data={"email": "a@example.com", "password": PASSWORD, "csrf_token": "0" * 64},
        headers=HTML,
    )

    assert answer.status_code == 403


# --- sign up, log in, log out ------------------------------------------------------------


async def test_sign_up_logs_in_and_shows_the_new_profile(client: httpx.AsyncClient) -> None:
    account = await sign_up(client, display_name="Ada Lovelace")

    profile = await client.get(f"/@{account['handle']}", headers=HTML)

    assert profile.status_code == 200
    assert "Ada Lovelace" in profile.text and f"@{account['handle']}" in profile.text
    assert "Edit profile" in profile.text
    assert 'href="/studio/videos"' in profile.text and 'href="/seller"' in profile.text
    assert 'href="/studio/money"' not in profile.text  # earnings are for creators
    assert "Welcome to ClipCart, Ada Lovelace!" in profile.text  # the flash message
    again = await client.get(f"/@{account['handle']}", headers=HTML)
    assert "Welcome to ClipCart" not in again.text  # shown once


async def test_sign_up_errors_are_shown_next_to_the_fields(client: httpx.AsyncClient) -> None:
    token = await form_token(client, "/signup")

    answer = await client.post(
        "/signup",
        data={
            "email": "not-an-email",
            "handle": "x",
            "display_name": "Someone",
            "password": "short",
            "csrf_token": token,
        },
        headers=HTML,
    )

    assert answer.status_code == 422
    assert 'id="f-email-error"' in answer.text and "valid email" in answer.text
    assert 'id="f-handle-error"' in answer.text
    assert 'id="f-password-error"' in answer.text and "at least 8" in answer.text
    assert 'value="not-an-email"' in answer.text and 'value="Someone"' in answer.text
    assert 'value="short"' not in answer.text


async def test_a_taken_handle_gets_a_conflict_on_the_handle_field(
    client: httpx.AsyncClient,
) -> None:
    taken = await sign_up(client)
    await log_out(client)
    token = await form_token(client, "/signup")

    answer = await client.post(
        "/signup",
        data={
            "email": "other@example.com",
            "handle": taken["handle"],
            "password": PASSWORD,
            "csrf_token": token,
        },
        headers=HTML,
    )

    assert answer.status_code == 409
    assert 'id="f-handle-error"' in answer.text and "taken" in answer.text


async def test_a_wrong_password_renders_the_form_again_without_the_password(
    client: httpx.AsyncClient,
) -> None:
    account = await sign_up(client)
    await log_out(client)
    token = await form_token(client, "/login")
    wrong = "wrong-but-long-password-1"

    answer = await client.post(
        "/login",
        data={"email": account["email"], "password": wrong, "csrf_token": token},
        headers=HTML,
    )

    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    assert "do not match an account" in answer.text
    assert f'value="{account["email"]}"' in answer.text
    assert wrong not in answer.text
    assert "clipcart_session" not in answer.headers.get("set-cookie", "")


async def test_too_many_wrong_passwords_say_when_to_try_again(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    await log_out(client)
    token = await form_token(client, "/login")
    statuses = []
    for attempt in range(8):
        answer = await client.post(
            "/login",
            data={"email": account["email"], "password": f"wrong-{attempt}", "csrf_token": token},
            headers=HTML,
        )
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            break

    assert statuses[0] == 401 and statuses[-1] == 429
    assert int(answer.headers["retry-after"]) > 0
    assert "Try again in" in answer.text and 'action="/login"' in answer.text


async def test_log_out_then_log_in_again(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    await log_out(client)
    assert (await client.get("/me", headers=HTML)).headers["location"].startswith("/login")

    token = await form_token(client, "/login")
    answer = await client.post(
        "/login",
        data={"email": account["email"], "password": PASSWORD, "csrf_token": token},
        headers=HTML,
    )

    assert answer.status_code == 303 and answer.headers["location"] == "/"
    me = await client.get("/me", headers=HTML)
    assert me.status_code == 303 and me.headers["location"] == f"/@{account['handle']}"


async def test_the_csrf_token_changes_when_logging_in(client: httpx.AsyncClient) -> None:
    anonymous = await form_token(client, "/login")
    await sign_up(client)

    assert await form_token(client, "/settings/security") != anonymous


# --- login required and `next` -----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/upload",
        "/inbox",
        "/me",
        "/settings/profile",
        "/settings/security",
        "/seller",
        "/seller/someshop/products",
        "/seller/someshop/import",
        "/seller/someshop/money",
        "/shops/new",
        "/studio/videos",
        "/studio/money",
        "/studio/money?page=2",
    ],
)
async def test_login_required_pages_send_visitors_to_log_in(
    client: httpx.AsyncClient, path: str
) -> None:
    answer = await client.get(path, headers=HTML)

    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [path]


async def test_after_logging_in_the_visitor_goes_where_they_were_going(
    client: httpx.AsyncClient,
) -> None:
    account = await sign_up(client)
    await log_out(client)
    login_page = await client.get("/login?next=/settings/security", headers=HTML)
    assert 'name="next" value="/settings/security"' in login_page.text

    answer = await client.post(
        "/login",
        data={
            "email": account["email"],
            "password": PASSWORD,
            "next": "/settings/security",
            "csrf_token": csrf_from(login_page),
        },
        headers=HTML,
    )

    assert answer.status_code == 303 and answer.headers["location"] == "/settings/security"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/path",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x=1",
    ],
)
async def test_next_never_leaves_the_site(client: httpx.AsyncClient, target: str) -> None:
    account = await sign_up(client)
    await log_out(client)
    login_page = await client.get("/login", params={"next": target}, headers=HTML)
    assert "evil.example" not in login_page.text

    answer = await client.post(
        "/login",
        data={
            "email": account["email"],
            "password": PASSWORD,
            "next": target,
            "csrf_token": csrf_from(login_page),
        },
        headers=HTML,
    )

    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil.example" not in location or location.startswith("/%")


# --- error pages -------------------------------------------------------------------------


async def test_an_unknown_path_gets_a_friendly_404_page(client: httpx.AsyncClient) -> None:
    answer = await client.get("/no/such/page", headers=HTML)

    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Not found" in answer.text and 'href="/"' in answer.text
    assert 'aria-label="Main"' in answer.text  # with the tab bar


async def test_an_unknown_handle_gets_the_404_page(client: httpx.AsyncClient) -> None:
    answer = await client.get("/@nobody.here", headers=HTML)

    assert answer.status_code == 404
    assert "There is no one with that handle." in answer.text


async def test_programs_still_get_problem_json_for_unknown_paths(client: httpx.AsyncClient) -> None:
    answer = await client.get("/no/such/page", headers={"accept": "application/json"})

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_the_500_page_says_what_to_do_and_quotes_the_request_id(app: FastAPI) -> None:
    from starlette.requests import Request

    from clipcart.web.pages import render_error_page

    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [(b"accept", b"text/html")],
            "query_string": b"",
            "app": app,
            "state": {"request_id": "req-123"},
        }
    )

    answer = render_error_page(request, 500, "Something went wrong", "Please try again.")

    body = bytes(answer.body).decode()
    assert answer.status_code == 500
    assert "Something went wrong" in body and "req-123" in body and "try again" in body
    assert 'aria-label="Main"' in body


async def test_an_unexpected_error_gets_the_500_page_with_security_headers(app: FastAPI) -> None:
    async def explode() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-only/explode", explode)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        answer = await browser.get("/test-only/explode", headers=HTML)

    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "Something went wrong" in answer.text and "a bug" not in answer.text
    assert answer.headers["x-request-id"] in answer.text  # quoted for support
    assert 'aria-label="Main"' in answer.text
