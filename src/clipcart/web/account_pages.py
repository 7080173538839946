"""Account pages: sign up, log in (with a two-factor step), log out, profiles, edit profile.

They call the same `accounts.service` functions as the JSON API, so the rules and AppError
codes are the same; a form with a problem is rendered again with a 4xx status (so the unit
of work rolls back), and a successful POST answers 303 to the next page."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from clipcart.accounts import domain
from clipcart.accounts import service as accounts
from clipcart.accounts.dependencies import (
    SESSION_COOKIE,
    clear_session_cookie,
    client_ip,
    csrf_token_for,
    set_session_cookie,
)
from clipcart.accounts.models import User
from clipcart.accounts.schemas import LoginIn, ProfileIn, SignupIn
from clipcart.core.config import get_settings
from clipcart.core.errors import AppError
from clipcart.core.ids import hash_token
from clipcart.core.ratelimit import RateLimiter
from clipcart.core.routing import DbSession, make_router
from clipcart.core.security import sign, unsign
from clipcart.web import social_pages
from clipcart.web.flash import flash
from clipcart.web.forms import (
    FORM_ERROR,
    FormErrors,
    errors_from_app_error,
    errors_from_validation,
    form_values,
    safe_next,
    see_other,
)
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer, Viewer

router = make_router(include_in_schema=False)

SIGNUP_FIELDS = {"email", "handle", "display_name", "password"}
LOGIN_FIELDS = {"email", "password"}
PROFILE_FIELDS = {"handle", "display_name", "bio", "avatar"}

_TWO_FACTOR_PURPOSE = "login-two-factor"
_TWO_FACTOR_MAX_AGE = 300


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _problem(error: Exception, known_fields: set[str]) -> tuple[FormErrors, int, dict[str, str]]:
    """Form errors, status and headers for a failure of a service call."""
    if isinstance(error, ValidationError):
        return errors_from_validation(error), 422, {}
    assert isinstance(error, AppError)
    return errors_from_app_error(error, known_fields=known_fields), error.status, error.headers


async def _start_session(request: Request, user: User, response: Response, *, session: Any) -> None:
    """Log this browser in as `user`, ending the session it had before (no fixation)."""
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        await accounts.end_session(previous, session=session)
    _, raw_token = await accounts.start_session(
        user,
        session=session,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    set_session_cookie(response, raw_token, request)


def _browser_binding(request: Request) -> str:
    # Binds a pending two-factor login to this browser's (logged-out) CSRF token.
    return hash_token("two-factor|" + csrf_token_for(request))[:32]


# --- sign up ------------------------------------------------------------------------------


@router.get("/signup", response_class=HTMLResponse)
async def signup_form(request: Request, viewer: Viewer) -> Response:
    """The sign-up form."""
    next_url = safe_next(request.query_params.get("next"), default="")
    if viewer is not None:
        return see_other(next_url or f"/@{viewer.handle}")
    return render(request, "accounts/signup.html", {"next": next_url}, tab="me")


@router.post("/signup", response_class=HTMLResponse)
async def signup(request: Request, session: DbSession) -> Response:
    """Create the account, log this browser in and go to the new profile."""
    form = await request.form()
    values = form_values(form, "email", "handle", "display_name")
    next_url = safe_next(_text(form, "next"), default="")
    try:
        await accounts.check_signup_rate(limiter=_limiter(request), ip=client_ip(request))
        user = await accounts.sign_up(
            SignupIn(
                email=values["email"],
                handle=values["handle"],
                display_name=values["display_name"] or None,
                password=_text(form, "password"),
            ),
            session=session,
        )
    except (ValidationError, AppError) as error:
        errors, status, headers = _problem(error, SIGNUP_FIELDS)
        return render(
            request,
            "accounts/signup.html",
            {"values": values, "errors": errors, "next": next_url},
            status_code=status,
            headers=headers,
            tab="me",
        )
    response = see_other(next_url or f"/@{user.handle}")
    await _start_session(request, user, response, session=session)
    flash(response, f"Welcome to ClipCart, {user.display_name}! Your account is ready.")
    return response


# --- log in, two-factor step, log out ----------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, viewer: Viewer) -> Response:
    """The log-in form."""
    next_url = safe_next(request.query_params.get("next"), default="")
    if viewer is not None:
        return see_other(next_url or "/")
    return render(request, "accounts/login.html", {"next": next_url}, tab="me")


def _two_factor_page(
    request: Request,
    *,
    pending: str,
    next_url: str,
    errors: FormErrors | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "accounts/login_two_factor.html",
        {"pending": pending, "next": next_url, "errors": errors or {}},
        status_code=status_code,
        headers={"Cache-Control": "no-store", **(headers or {})},
        tab="me",
    )


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, session: DbSession) -> Response:
    """Check email and password; ask for a two-factor code when the account has it on."""
    form = await request.form()
    values = form_values(form, "email")
    next_url = safe_next(_text(form, "next"), default="")
    try:
        user = await accounts.authenticate(
            LoginIn(email=values["email"], password=_text(form, "password")),
            session=session,
            limiter=_limiter(request),
            ip=client_ip(request),
        )
    except (ValidationError, AppError) as error:
        if isinstance(error, AppError) and error.code == "two_factor_required":
            # The password was right: remember that (signed, short-lived, this browser only)
            # instead of carrying the password itself into the next form.
            pending = sign(
                _TWO_FACTOR_PURPOSE,
                {"email": values["email"], "browser": _browser_binding(request)},
            )
            return _two_factor_page(request, pending=pending, next_url=next_url)
        errors, status, headers = _problem(error, LOGIN_FIELDS)
        if FORM_ERROR not in errors and "password" in errors:
            errors[FORM_ERROR] = errors.pop("password")
        return render(
            request,
            "accounts/login.html",
            {"values": values, "errors": errors, "next": next_url},
            status_code=status,
            headers=headers,
            tab="me",
        )
    response = see_other(next_url or "/")
    await _start_session(request, user, response, session=session)
    flash(response, f"Welcome back, {user.display_name}.")
    return response


@router.post("/login/two-factor", response_class=HTMLResponse)
async def login_two_factor(request: Request, session: DbSession) -> Response:
    """The second step: a 6-digit code from the authenticator app, or a recovery code."""
    form = await request.form()
    next_url = safe_next(_text(form, "next"), default="")
    pending = _text(form, "pending")
    payload = unsign(_TWO_FACTOR_PURPOSE, pending, max_age=_TWO_FACTOR_MAX_AGE)
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("email"), str)
        or payload.get("browser") != _browser_binding(request)
    ):
        return render(
            request,
            "accounts/login.html",
            {
                "values": {},
                "errors": {
                    FORM_ERROR: "That took too long, so we stopped the login for your safety. "
                    "Enter your email and password again."
                },
                "next": next_url,
            },
            status_code=401,
            tab="me",
        )
    try:
        user = await accounts.finish_two_factor_login(
            payload["email"],
            _text(form, "code"),
            session=session,
            limiter=_limiter(request),
            ip=client_ip(request),
        )
    except (ValidationError, AppError) as error:
        errors, status, headers = _problem(error, {"code"})
        if FORM_ERROR in errors and "code" not in errors:
            errors["code"] = errors.pop(FORM_ERROR)
        return _two_factor_page(
            request,
            pending=pending,
            next_url=next_url,
            errors=errors,
            status_code=status,
            headers=headers,
        )
    response = see_other(next_url or "/")
    await _start_session(request, user, response, session=session)
    flash(response, f"Welcome back, {user.display_name}.")
    return response


@router.post("/logout", response_class=HTMLResponse)
async def logout(request: Request, session: DbSession) -> Response:
    """End this browser's session."""
    raw_token = request.cookies.get(SESSION_COOKIE)
    if raw_token:
        await accounts.end_session(raw_token, session=session)
    response = see_other("/")
    clear_session_cookie(response, request)
    flash(response, "You are logged out. See you soon!", kind="info")
    return response


# --- profiles -----------------------------------------------------------------------------


@router.get("/me", response_class=HTMLResponse)
async def me(request: Request, viewer: SignedInViewer) -> Response:
    """The Me tab: your own profile."""
    return see_other(f"/@{viewer.handle}")


@router.get("/@{handle}", response_class=HTMLResponse)
async def profile(request: Request, handle: str, viewer: Viewer, session: DbSession) -> Response:
    """A public profile: avatar, name, @handle, bio, counts, follow button and videos."""
    user = await accounts.get_user_by_handle(handle, session=session)
    if handle != user.handle:
        return RedirectResponse(f"/@{user.handle}", status_code=301)
    is_owner = viewer is not None and viewer.id == user.id
    extras = await social_pages.profile_extras(viewer, user, session=session)
    return render(
        request,
        "accounts/profile.html",
        {"user": user, "is_owner": is_owner, **extras},
        viewer=viewer,
        tab="me" if is_owner else None,
    )


def _edit_profile_page(
    request: Request,
    viewer: User,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "accounts/edit_profile.html",
        {
            "values": values
            or {"handle": viewer.handle, "display_name": viewer.display_name, "bio": viewer.bio},
            "errors": errors or {},
            "limits": {
                "bio": domain.BIO_MAX,
                "display_name": domain.DISPLAY_NAME_MAX,
                "handle": domain.HANDLE_MAX,
                "avatar_bytes": get_settings().avatar_max_bytes,
            },
        },
        viewer=viewer,
        tab="me",
        status_code=status_code,
        headers=headers,
    )


@router.get("/settings/profile", response_class=HTMLResponse)
async def edit_profile_form(request: Request, viewer: SignedInViewer) -> Response:
    """The edit-profile form."""
    return _edit_profile_page(request, viewer)


@router.post("/settings/profile", response_class=HTMLResponse)
async def edit_profile(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Save the profile and, when a picture was chosen, the new avatar."""
    form = await request.form()
    values = form_values(form, "handle", "display_name")
    # Browsers send textarea line breaks as CRLF; the bio rules allow only \n.
    values["bio"] = _text(form, "bio").replace("\r\n", "\n").replace("\r", "\n")
    upload = form.get("avatar")
    try:
        await accounts.update_profile(
            viewer,
            ProfileIn(
                handle=values["handle"] or None,
                display_name=values["display_name"],
                bio=values["bio"],
            ),
            session=session,
        )
        if isinstance(upload, UploadFile) and upload.filename:
            limit = get_settings().avatar_max_bytes
            content = await upload.read(limit + 1)
            await accounts.set_avatar(viewer, content, session=session)
    except (ValidationError, AppError) as error:
        errors, status, headers = _problem(error, PROFILE_FIELDS | {"file"})
        if "file" in errors:
            errors["avatar"] = errors.pop("file")
        if isinstance(error, AppError) and error.code.startswith("avatar") and FORM_ERROR in errors:
            errors["avatar"] = errors.pop(FORM_ERROR)
        return _edit_profile_page(
            request, viewer, values=values, errors=errors, status_code=status, headers=headers
        )
    response = see_other(f"/@{viewer.handle}")
    flash(response, "Your profile is saved.")
    return response
