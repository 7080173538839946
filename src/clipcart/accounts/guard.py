"""Who is calling, and is the call allowed: run for every request before its handler.

How CSRF works here:
- Every browser gets a random nonce in the `clipcart_csrf` cookie (HttpOnly, SameSite=Lax).
  `CsrfCookieMiddleware` issues it on any response to a request that arrived without one and
  puts the nonce in `request.state.csrf_nonce`, so a page rendered in that same response can
  already embed the matching token.
- The token a page embeds is `csrf_token(nonce, marker)`: an HMAC under the secret key, where
  the marker is derived from the session cookie (empty when logged out). Logging in or out
  therefore changes the token; `accounts.dependencies.csrf_token_for(request)` computes it.
- Unsafe requests (POST, PUT, PATCH, DELETE) that carry either of our cookies and are not
  bearer-authenticated must send it as the `X-CSRF-Token` header or the `csrf_token` form
  field; `Sec-Fetch-Site: cross-site` on an unsafe request is always refused.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass, field
from typing import Literal

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clipcart.accounts import domain, service
from clipcart.accounts.errors import CsrfFailed, InvalidToken
from clipcart.accounts.models import ApiToken, AuthSession, User
from clipcart.core.config import get_settings
from clipcart.core.ids import hash_token
from clipcart.core.security import csrf_token_matches

SESSION_COOKIE = "clipcart_session"
CSRF_COOKIE = "clipcart_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SESSION_SCOPES = frozenset(domain.API_SCOPES)
_NONCE_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_NO_COOKIE_PREFIXES = ("/static/", "/media/", "/healthz", "/readyz", "/metrics")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user, how they proved it, and what they may do."""

    user: User
    via: Literal["session", "token"]
    scopes: frozenset[str]
    auth_session: AuthSession | None = None
    api_token: ApiToken | None = field(default=None)


def session_marker(raw_session_token: str | None) -> str:
    """What binds a CSRF token to one session cookie (empty when there is none)."""
    return hash_token("csrf|" + raw_session_token) if raw_session_token else ""


def csrf_nonce(request: Request) -> str:
    """This browser's CSRF nonce: from the middleware, else its cookie, else a new one."""
    nonce: str | None = getattr(request.state, "csrf_nonce", None)
    if nonce is None:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        nonce = cookie if _NONCE_SHAPE.fullmatch(cookie) else secrets.token_urlsafe(32)
        request.state.csrf_nonce = nonce
    return nonce


def current_session_token(request: Request) -> str | None:
    """The session token this response leaves the browser with (a new login's, or the cookie)."""
    state = request.state
    if getattr(state, "session_cookie_cleared", False) or getattr(
        state, "drop_session_cookie", False
    ):
        return None
    new: str | None = getattr(state, "new_session_token", None)
    return new or request.cookies.get(SESSION_COOKIE) or None


def cookie_header(name: str, value: str, *, secure: bool, max_age: int | None) -> str:
    """A Set-Cookie value for one of our cookies: HttpOnly, SameSite=Lax, path /."""
    if _PLAIN_COOKIE_VALUE.fullmatch(value):
        before, after = _around_the_value(name, secure=secure, max_age=max_age)
        return f"{before}{value}{after}"
    return _written_by_starlette(name, value, secure=secure, max_age=max_age)


# Tokens, nonces and ids need no quoting: for them the header differs only by the value, so it
# is written around a template made once per cookie (Starlette's cookie code cost ~7 µs a
# response, and a visitor's first responses each set one or two cookies).
_PLAIN_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]+")


@functools.cache
def _around_the_value(name: str, *, secure: bool, max_age: int | None) -> tuple[str, str]:
    placeholder = "COOKIE-VALUE"
    written = _written_by_starlette(name, placeholder, secure=secure, max_age=max_age)
    before, _, after = written.partition(placeholder)
    return before, after


def _written_by_starlette(name: str, value: str, *, secure: bool, max_age: int | None) -> str:
    response = Response()
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    return response.headers["set-cookie"]


class CsrfCookieMiddleware:
    """Gives every browser a CSRF nonce cookie, and drops a session cookie the guard found
    dead; both happen on the way out of any response (pages, API answers and errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = HTTPConnection(scope).cookies
        state = scope.setdefault("state", {})
        existing = cookies.get(CSRF_COOKIE, "")
        issue = not _NONCE_SHAPE.fullmatch(existing)
        state["csrf_nonce"] = secrets.token_urlsafe(32) if issue else existing
        if str(scope.get("path", "")).startswith(_NO_COOKIE_PREFIXES):
            issue = False  # cacheable files carry no cookies
        secure = scope.get("scheme") == "https"

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                already = " ".join(headers.getlist("set-cookie"))
                if issue and f"{CSRF_COOKIE}=" not in already:
                    max_age = get_settings().session_absolute_timeout_seconds
                    nonce = state["csrf_nonce"]
                    headers.append(
                        "set-cookie",
                        cookie_header(CSRF_COOKIE, nonce, secure=secure, max_age=max_age),
                    )
                if state.get("drop_session_cookie") and f"{SESSION_COOKIE}=" not in already:
                    headers.append(
                        "set-cookie", cookie_header(SESSION_COOKIE, "", secure=secure, max_age=0)
                    )
            await send(message)

        await self.app(scope, receive, send_with_cookies)


async def guard_request(request: Request, session: AsyncSession) -> None:
    """Resolve the caller into `request.state.principal` and refuse forged browser requests."""
    request.state.principal = None
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        token = await service.resolve_api_token(credentials.strip(), session=session)
        if token is None:
            raise InvalidToken()
        request.state.principal = Principal(
            user=token.user, via="token", scopes=frozenset(token.scopes), api_token=token
        )
        return  # a bearer token is never sent by a browser on its own: no CSRF to fear

    raw_session = request.cookies.get(SESSION_COOKIE)
    if raw_session:
        auth_session = await service.resolve_session(raw_session, session=session)
        if auth_session is None:
            request.state.drop_session_cookie = True
        else:
            request.state.principal = Principal(
                user=auth_session.user,
                via="session",
                scopes=SESSION_SCOPES,
                auth_session=auth_session,
            )
    if request.method not in SAFE_METHODS:
        await _check_csrf(request, raw_session)


async def _check_csrf(request: Request, raw_session: str | None) -> None:
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfFailed("Requests from other sites are not accepted. Reload the page and retry.")
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if not raw_session and not nonce:
        return  # no ambient credentials: nothing a forged request could borrow
    presented = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if not presented and content_type.startswith(_FORM_TYPES):
        value = (await request.form()).get(CSRF_FORM_FIELD)
        presented = value if isinstance(value, str) else None
    if not presented and _is_event_beacon(request):
        return
    if not csrf_token_matches(presented, nonce, session_marker(raw_session)):
        raise CsrfFailed(
            "This form has expired or came from somewhere else. Reload the page and try again."
        )


EVENT_BEACON_PATH = "/api/v1/events"


def _is_event_beacon(request: Request) -> bool:
    """POST /api/v1/events may come without a CSRF token.

    The pages send events with navigator.sendBeacon on pagehide, which cannot add headers (and
    sends text/plain). The endpoint only appends to the analytics log (and the view counters,
    which any visitor moves anyway): it changes no state a forged request could abuse (no
    purchase, no follow, no like), and an attacker can already
    post any events from their own session, so a token would protect nothing. Cross-site
    requests are still refused above (Sec-Fetch-Site), so other sites cannot even add noise
    from a modern browser.
    """
    return request.method == "POST" and request.url.path == EVENT_BEACON_PATH
