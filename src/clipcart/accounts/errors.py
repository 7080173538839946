"""Account errors: each is an AppError, so it renders as problem+json or a friendly page."""

from __future__ import annotations

from clipcart.core.errors import Forbidden, Unauthorized


class InvalidCredentials(Unauthorized):
    """Wrong email or password: one answer whether or not the account exists."""

    code, title = "invalid_credentials", "Wrong email or password"

    def __init__(self) -> None:
        super().__init__("That email and password do not match an account.")


class TwoFactorRequired(Unauthorized):
    """The password was right but the account also needs a two-factor code."""

    code, title = "two_factor_required", "Two-factor code needed"


class InvalidToken(Unauthorized):
    """A bearer token that is unknown, revoked or expired."""

    code, title = "invalid_token", "That API token is not valid"

    def __init__(self) -> None:
        super().__init__(
            "That API token is not valid: it may have been revoked or have expired.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


class CsrfFailed(Forbidden):
    """An unsafe cookie-authenticated request without a valid CSRF token."""

    code, title = "csrf_failed", "The form has expired"


class SessionRequired(Forbidden):
    """Something only a logged-in browser session may do, not an API token."""

    code, title = "session_required", "Log in with your password to do this"


class MissingScope(Forbidden):
    """The bearer token does not carry the scope this call needs."""

    code, title = "insufficient_scope", "That API token is not allowed to do this"
