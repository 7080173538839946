"""The security settings page: log out everywhere, API tokens, two-factor authentication.

Secrets (a new API token, a TOTP secret, recovery codes) are shown once, in the answer to the
POST that made them, with `Cache-Control: no-store`, rather than after a redirect: that way
they are never stored anywhere (no flash cookie, no server copy) on their way to the page."""

from __future__ import annotations

import re
import uuid
from base64 import b64encode
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from clipcart.accounts import domain
from clipcart.accounts import service as accounts
from clipcart.accounts.dependencies import clear_session_cookie
from clipcart.accounts.models import User
from clipcart.accounts.schemas import ApiTokenIn, TotpSetup
from clipcart.core.errors import AppError
from clipcart.core.routing import DbSession, make_router
from clipcart.web.flash import flash
from clipcart.web.forms import (
    FORM_ERROR,
    FormErrors,
    errors_from_app_error,
    errors_from_validation,
    form_values,
    see_other,
)
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer

router = make_router(include_in_schema=False)

SECURITY_URL = "/settings/security"
TOKEN_FIELDS = {"name", "scopes", "expires_in_days"}
EXPIRY_CHOICES = (("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never"))
NO_STORE = {"Cache-Control": "no-store"}


def _problem(error: Exception, known_fields: set[str]) -> tuple[FormErrors, int, dict[str, str]]:
    if isinstance(error, ValidationError):
        return errors_from_validation(error), 422, {}
    assert isinstance(error, AppError)
    return errors_from_app_error(error, known_fields=known_fields), error.status, error.headers


def qr_image(svg: str) -> Markup:
    """The setup QR code as an <img> that scales cleanly (the SVG gets a viewBox)."""
    size = re.search(r'width="(\d+)" height="(\d+)"', svg)
    if size:
        width, height = size.groups()
        svg = svg.replace(
            size.group(0),
            f'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"',
            1,
        )
    encoded = b64encode(svg.encode()).decode()
    return Markup(
        '<img class="qr" src="data:image/svg+xml;base64,{}" width="192" height="192" '
        'alt="QR code to scan with your authenticator app">'
    ).format(encoded)


async def _security_page(
    request: Request,
    viewer: User,
    *,
    session: Any,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "tokens": await accounts.list_api_tokens(viewer, session=session),
        "scopes": domain.API_SCOPES,
        "expiry_choices": EXPIRY_CHOICES,
        "two_factor_enabled": viewer.two_factor_enabled,
        "recovery_codes_left": (
            await accounts.unused_recovery_code_count(viewer, session=session)
            if viewer.two_factor_enabled
            else 0
        ),
        "values": {"name": "", "scopes": [], "expires_in_days": "90"},
        "errors": {},
        "error_form": None,
        "new_token": None,
    }
    context.update(extra or {})
    return render(
        request,
        "accounts/security.html",
        context,
        viewer=viewer,
        tab="me",
        status_code=status_code,
        headers=headers,
    )


@router.get(SECURITY_URL, response_class=HTMLResponse)
async def security(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Sessions, API tokens and two-factor settings."""
    return await _security_page(request, viewer, session=session)


@router.post(f"{SECURITY_URL}/logout-everywhere", response_class=HTMLResponse)
async def logout_everywhere(
    request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """End every session of this account, this browser's included."""
    ended = await accounts.end_all_sessions(viewer, session=session)
    response = see_other("/login")
    clear_session_cookie(response, request)
    devices = "1 device" if ended == 1 else f"{ended} devices"
    flash(response, f"You are logged out everywhere ({devices}). Log in again to continue.")
    return response


@router.post(f"{SECURITY_URL}/tokens", response_class=HTMLResponse)
async def create_token(request: Request, viewer: SignedInViewer, session: DbSession) -> Response:
    """Create an API token and show its secret, this once."""
    form = await request.form()
    values: dict[str, Any] = form_values(form, "name", "expires_in_days")
    values["scopes"] = [scope for scope in form.getlist("scopes") if isinstance(scope, str)]
    try:
        expires = values["expires_in_days"]
        token, raw_token = await accounts.create_api_token(
            viewer,
            ApiTokenIn(
                name=values["name"],
                scopes=values["scopes"],
                expires_in_days=int(expires) if expires.isdigit() else None,
            ),
            session=session,
        )
    except (ValidationError, AppError) as error:
        errors, status, headers = _problem(error, TOKEN_FIELDS)
        return await _security_page(
            request,
            viewer,
            session=session,
            extra={"values": values, "errors": errors, "error_form": "token"},
            status_code=status,
            headers=headers,
        )
    return await _security_page(
        request,
        viewer,
        session=session,
        extra={"new_token": {"name": token.name, "secret": raw_token}},
        headers=NO_STORE,
    )


@router.post(f"{SECURITY_URL}/tokens/{{token_id}}/revoke", response_class=HTMLResponse)
async def revoke_token(
    request: Request, token_id: uuid.UUID, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Revoke one of your API tokens."""
    await accounts.revoke_api_token(viewer, token_id, session=session)
    response = see_other(SECURITY_URL)
    flash(response, "The token is revoked: programs using it can no longer get in.")
    return response


def _totp_setup_page(
    request: Request,
    viewer: User,
    setup: TotpSetup,
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "accounts/totp_setup.html",
        {
            "qr": qr_image(setup.qr_svg),
            "secret": setup.secret,
            "errors": errors or {},
        },
        viewer=viewer,
        tab="me",
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
    )


@router.post(f"{SECURITY_URL}/two-factor/setup", response_class=HTMLResponse)
async def begin_two_factor(
    request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Start two-factor setup: a new secret to scan."""
    setup = await accounts.begin_totp_setup(viewer, session=session)
    return _totp_setup_page(request, viewer, setup)


@router.post(f"{SECURITY_URL}/two-factor/confirm", response_class=HTMLResponse)
async def confirm_two_factor(
    request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Turn two-factor on with a code from the app; show the recovery codes once."""
    form = await request.form()
    code = form_values(form, "code")["code"]
    pending_secret = viewer.totp_pending_secret
    try:
        codes = await accounts.confirm_totp(viewer, code, session=session)
    except AppError as error:
        errors, status, headers = _problem(error, {"code"})
        if pending_secret is None:
            return await _security_page(
                request,
                viewer,
                session=session,
                extra={"errors": errors, "error_form": "two_factor"},
                status_code=status,
                headers=headers,
            )
        if FORM_ERROR in errors and "code" not in errors:
            errors["code"] = errors.pop(FORM_ERROR)
        # Show the same secret again: the person may already have scanned it.
        uri = domain.totp_uri(pending_secret, account_name=viewer.email)
        setup = TotpSetup(secret=pending_secret, uri=uri, qr_svg=domain.qr_code_svg(uri))
        return _totp_setup_page(
            request, viewer, setup, errors=errors, status_code=status, headers=headers
        )
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes},
        viewer=viewer,
        tab="me",
        headers=NO_STORE,
    )


@router.post(f"{SECURITY_URL}/two-factor/disable", response_class=HTMLResponse)
async def disable_two_factor(
    request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Turn two-factor off (needs the password)."""
    form = await request.form()
    password = form.get("password")
    try:
        await accounts.disable_totp(
            viewer, password if isinstance(password, str) else "", session=session
        )
    except AppError as error:
        errors, status, headers = _problem(error, {"password"})
        return await _security_page(
            request,
            viewer,
            session=session,
            extra={"errors": errors, "error_form": "two_factor"},
            status_code=status,
            headers=headers,
        )
    response = see_other(SECURITY_URL)
    flash(response, "Two-factor authentication is off.", kind="info")
    return response
