"""One error hierarchy: each error knows its code, HTTP status, message and data."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An expected failure a client can act on; rendered as problem+json or a friendly page."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.title
        self.code = code or self.code
        self.data = data or {}
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(AppError):
    status, code, title = 400, "bad_request", "Bad request"


class Unauthorized(AppError):
    status, code, title = 401, "unauthorized", "You need to log in"


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "You are not allowed to do that"


class NotFound(AppError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class PayloadTooLarge(AppError):
    status, code, title = 413, "payload_too_large", "That is too large"


class ValidationFailed(AppError):
    """Input that parsed but breaks a rule; `data["errors"]` lists `{field, message}`."""

    status, code, title = 422, "validation_failed", "Some fields need attention"

    @classmethod
    def field(cls, field: str, message: str, *, code: str | None = None) -> ValidationFailed:
        """A failure of a single field."""
        return cls(message, code=code, data={"errors": [{"field": field, "message": message}]})


class FieldErrors:
    """Collects field errors so one answer lists everything that needs fixing."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def add(self, field: str, messages: list[str]) -> None:
        """Record `messages` against `field`."""
        self.errors.extend({"field": field, "message": message} for message in messages)

    def raise_if_any(self) -> None:
        """Raise ValidationFailed listing every error recorded, if there is one."""
        if self.errors:
            raise ValidationFailed("Some fields need attention.", data={"errors": self.errors})


class RateLimited(AppError):
    status, code, title = 429, "rate_limited", "Too many attempts"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(
            message or f"Too many attempts. Try again in {retry_after} seconds.",
            data={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


class ServiceUnavailable(AppError):
    status, code, title = 503, "unavailable", "Temporarily unavailable"
