"""FastAPI dependencies for routers and pages: who is calling, what they may do, CSRF, cookies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Response

from clipcart.accounts import domain
from clipcart.accounts.errors import MissingScope, SessionRequired
from clipcart.accounts.guard import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Principal,
    csrf_nonce,
    current_session_token,
    session_marker,
)
from clipcart.accounts.models import User
from clipcart.core.config import get_settings
from clipcart.core.errors import Forbidden, Unauthorized
from clipcart.core.security import csrf_token

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "CurrentPrincipal",
    "CurrentUser",
    "OptionalUser",
    "SessionUser",
    "clear_session_cookie",
    "client_ip",
    "csrf_token_for",
    "get_principal",
    "require_role",
    "require_scope",
    "set_session_cookie",
]


def get_principal(request: Request) -> Principal | None:
    """The caller the guard resolved for this request (None when anonymous)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal


async def _current_principal(request: Request) -> Principal:
    principal = get_principal(request)
    if principal is None:
        raise Unauthorized("Log in to continue.", code="not_authenticated")
    return principal


async def _current_user(principal: CurrentPrincipal) -> User:
    return principal.user


async def _optional_user(request: Request) -> User | None:
    principal = get_principal(request)
    return principal.user if principal else None


async def _session_user(principal: CurrentPrincipal) -> User:
    if principal.via != "session":
        raise SessionRequired("Do this from a logged-in browser, not with an API token.")
    return principal.user


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]
CurrentUser = Annotated[User, Depends(_current_user)]
OptionalUser = Annotated[User | None, Depends(_optional_user)]
SessionUser = Annotated[User, Depends(_session_user)]


def require_role(*roles: str) -> Callable[[Principal], Awaitable[User]]:
    """A dependency giving the current user when they hold any of `roles` (403 otherwise)."""
    unknown = set(roles) - set(domain.ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    wanted = frozenset(roles)

    async def user_with_role(principal: CurrentPrincipal) -> User:
        if not principal.user.role_names & wanted:
            raise Forbidden(
                "Your account does not have the role needed for this.", code="role_required"
            )
        return principal.user

    return user_with_role


def require_scope(scope: str) -> Callable[[Principal], Awaitable[User]]:
    """A dependency giving the current user when a token caller holds `scope` (sessions may
    do everything their user may)."""
    if scope not in domain.API_SCOPES:
        raise ValueError(f"unknown scope: {scope}")

    async def user_with_scope(principal: CurrentPrincipal) -> User:
        if principal.via == "token" and scope not in principal.scopes:
            raise MissingScope(
                f"This API token needs the '{scope}' scope for this.",
                data={"required_scope": scope},
            )
        return principal.user

    return user_with_scope


def csrf_token_for(request: Request) -> str:
    """The CSRF token to embed in this response's forms and `<meta name="csrf-token">`."""
    return csrf_token(csrf_nonce(request), session_marker(current_session_token(request)))


def client_ip(request: Request) -> str:
    """The caller's address, as the server (or the trusted proxy) reports it."""
    return request.client.host if request.client else "unknown"


def set_session_cookie(response: Response, raw_token: str, request: Request) -> None:
    """Put a new session token in the browser (Secure when served over https)."""
    response.set_cookie(
        SESSION_COOKIE,
        raw_token,
        max_age=get_settings().session_absolute_timeout_seconds,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    request.state.new_session_token = raw_token
    request.state.session_cookie_cleared = False
    request.state.drop_session_cookie = False


def clear_session_cookie(response: Response, request: Request | None = None) -> None:
    """Remove the session cookie from the browser (pass `request` to keep CSRF tokens right)."""
    secure = request is not None and request.url.scheme == "https"
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
    if request is not None:
        request.state.session_cookie_cleared = True
        request.state.new_session_token = None
