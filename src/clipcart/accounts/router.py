"""Accounts API under /api/v1: sign up, log in and out, profile, avatar, API tokens, 2FA."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, File, Request, Response, UploadFile

from clipcart.accounts import service
from clipcart.accounts.dependencies import (
    SESSION_COOKIE,
    SessionUser,
    clear_session_cookie,
    client_ip,
    csrf_token_for,
    require_scope,
    set_session_cookie,
)
from clipcart.accounts.models import User
from clipcart.accounts.schemas import (
    ApiTokenCreatedOut,
    ApiTokenIn,
    ApiTokenOut,
    AuthOut,
    CsrfOut,
    LoginIn,
    MeOut,
    PasswordConfirmIn,
    ProfileIn,
    PublicUserOut,
    RecoveryCodesOut,
    SignupIn,
    TotpCodeIn,
    TotpSetup,
)
from clipcart.core.config import get_settings
from clipcart.core.routing import DbSession, make_router

router = make_router(prefix="/api/v1", tags=["accounts"])

AccountReader = Annotated[User, Depends(require_scope("account:read"))]
AccountWriter = Annotated[User, Depends(require_scope("account:write"))]


async def _log_in(request: Request, response: Response, user: User, db: DbSession) -> AuthOut:
    """End the browser's previous session, start a new one and set its cookie."""
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        await service.end_session(previous, session=db)
    _, raw_token = await service.start_session(
        user, session=db, ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )
    set_session_cookie(response, raw_token, request)
    return AuthOut(user=MeOut.of(user), csrf_token=csrf_token_for(request))


@router.post("/auth/signup", status_code=201)
async def signup(data: SignupIn, request: Request, response: Response, db: DbSession) -> AuthOut:
    """Create an account (role buyer) and log in."""
    await service.check_signup_rate(limiter=request.app.state.rate_limiter, ip=client_ip(request))
    user = await service.sign_up(data, session=db)
    return await _log_in(request, response, user, db)


@router.post("/auth/login")
async def login(data: LoginIn, request: Request, response: Response, db: DbSession) -> AuthOut:
    """Log in with email and password (and a two-factor code when it is on)."""
    user = await service.authenticate(
        data, session=db, limiter=request.app.state.rate_limiter, ip=client_ip(request)
    )
    return await _log_in(request, response, user, db)


@router.get("/auth/csrf")
async def csrf(request: Request) -> CsrfOut:
    """The CSRF token this browser must send with unsafe requests."""
    return CsrfOut(csrf_token=csrf_token_for(request))


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, db: DbSession) -> Response:
    """Log this browser out."""
    response = Response(status_code=204)
    raw_token = request.cookies.get(SESSION_COOKIE)
    if raw_token:
        await service.end_session(raw_token, session=db)
    clear_session_cookie(response, request)
    return response


@router.post("/auth/logout-everywhere", status_code=204)
async def logout_everywhere(request: Request, user: AccountWriter, db: DbSession) -> Response:
    """End every browser session of this account (API tokens stay valid)."""
    response = Response(status_code=204)
    await service.end_all_sessions(user, session=db)
    clear_session_cookie(response, request)
    return response


@router.get("/me")
async def me(user: AccountReader) -> MeOut:
    """The logged-in user's own account."""
    return MeOut.of(user)


@router.patch("/me")
async def update_me(data: ProfileIn, user: AccountWriter, db: DbSession) -> MeOut:
    """Change the handle, display name or bio."""
    return MeOut.of(await service.update_profile(user, data, session=db))


@router.put("/me/avatar")
async def put_avatar(
    user: AccountWriter, db: DbSession, file: Annotated[UploadFile, File()]
) -> MeOut:
    """Upload a profile picture (JPEG, PNG, WebP or GIF; cropped square)."""
    content = await file.read(get_settings().avatar_max_bytes + 1)
    return MeOut.of(await service.set_avatar(user, content, session=db))


@router.delete("/me/avatar")
async def delete_avatar(user: AccountWriter, db: DbSession) -> MeOut:
    """Remove the profile picture."""
    return MeOut.of(await service.remove_avatar(user, session=db))


@router.get("/users/{handle}")
async def user_profile(handle: str, db: DbSession) -> PublicUserOut:
    """Anyone's public profile by @handle."""
    return PublicUserOut.of(await service.get_user_by_handle(handle, session=db))


@router.post("/tokens", status_code=201)
async def create_token(data: ApiTokenIn, user: SessionUser, db: DbSession) -> ApiTokenCreatedOut:
    """Create a scoped API token; its secret is in this answer only."""
    token, raw_token = await service.create_api_token(user, data, session=db)
    return ApiTokenCreatedOut(**ApiTokenOut.of(token).model_dump(), token=raw_token)


@router.get("/tokens")
async def list_tokens(user: AccountReader, db: DbSession) -> list[ApiTokenOut]:
    """This account's API tokens that have not been revoked."""
    return [ApiTokenOut.of(token) for token in await service.list_api_tokens(user, session=db)]


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: uuid.UUID, user: AccountWriter, db: DbSession) -> Response:
    """Revoke an API token; it stops working at once."""
    await service.revoke_api_token(user, token_id, session=db)
    return Response(status_code=204)


@router.post("/me/2fa/setup")
async def setup_two_factor(user: SessionUser, db: DbSession) -> TotpSetup:
    """Start two-factor setup: a secret and QR code to scan."""
    return await service.begin_totp_setup(user, session=db)


@router.post("/me/2fa/confirm")
async def confirm_two_factor(
    data: TotpCodeIn, user: SessionUser, db: DbSession
) -> RecoveryCodesOut:
    """Turn two-factor on with a code from the app; answers the recovery codes (shown once)."""
    return RecoveryCodesOut(recovery_codes=await service.confirm_totp(user, data.code, session=db))


@router.post("/me/2fa/disable", status_code=204)
async def disable_two_factor(data: PasswordConfirmIn, user: SessionUser, db: DbSession) -> Response:
    """Turn two-factor off (needs the password)."""
    await service.disable_totp(user, data.password, session=db)
    return Response(status_code=204)
