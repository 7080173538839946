"""Form helpers for pages: errors keyed by field, safe `next` targets, redirects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from clipcart.core.errors import AppError

FORM_ERROR = "__form__"
"""The key of an error that belongs to the whole form rather than one field."""

FormErrors = dict[str, str]

_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def _clean_message(message: str) -> str:
    for prefix in _PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message[:1].upper() + message[1:] if message else message


def errors_from_validation(error: ValidationError) -> FormErrors:
    """Pydantic's complaints as one clear message per field (the first one wins)."""
    errors: FormErrors = {}
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or FORM_ERROR
        errors.setdefault(field, _clean_message(item["msg"]))
    return errors


def errors_from_app_error(error: AppError, *, known_fields: set[str]) -> FormErrors:
    """An AppError's `{field, message}` list (or its single message) keyed for the form."""
    errors: FormErrors = {}
    listed = error.data.get("errors")
    if isinstance(listed, list):
        for item in listed:
            if not isinstance(item, Mapping):
                continue
            field = str(item.get("field") or "")
            message = str(item.get("message") or error.message)
            errors.setdefault(field if field in known_fields else FORM_ERROR, message)
    single = error.data.get("field")
    if isinstance(single, str) and single in known_fields:
        errors.setdefault(single, error.message)
    if not errors:
        errors[FORM_ERROR] = error.message
    return errors


def form_errors(
    error: ValidationError | AppError, *, known_fields: set[str]
) -> tuple[FormErrors, int]:
    """A refused form's messages per field and the status to show them with."""
    if isinstance(error, ValidationError):
        return errors_from_validation(error), 422
    return errors_from_app_error(error, known_fields=known_fields), error.status


def form_values(form: Mapping[str, Any], *names: str) -> dict[str, str]:
    """The text the person typed into `names` (never files), for re-rendering the form."""
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip() if isinstance(value, str) else ""
    return values


def safe_next(target: str | None, *, default: str = "/") -> str:
    """`target` when it is a path on this site, else `default` (refuses //host, schemes, \\)."""
    if not target or len(target) > 2000:
        return default
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(char) < 0x20 or char == "\\" for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def see_other(url: str) -> RedirectResponse:
    """The 303 that follows a successful POST (or sends a browser elsewhere)."""
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> RedirectResponse:
    """Send an anonymous visitor to log in, then back to where they were going."""
    target = request.url.path
    if request.url.query:
        target = f"{target}?{request.url.query}"
    return see_other(f"/login?next={quote(safe_next(target), safe='/@')}")


PURCHASE_SOURCE_PARAMS = {
    "video": "video_id",
    "live": "live_id",
    "share": "share_code",
    "showcase": "showcase_id",
}
"""Where a purchase came from, as pages carry it (`?video=&live=&share=&showcase=`, or hidden
form fields of those names) -> the key the cart and checkout keep it under."""


def purchase_source(values: Mapping[str, Any]) -> dict[str, str]:
    """The purchase source a page was given (its query or form), keyed as the cart keeps it;
    empty or over-long values are dropped (checkout checks the rest)."""
    source: dict[str, str] = {}
    for param, key in PURCHASE_SOURCE_PARAMS.items():
        value = str(values.get(param) or "").strip()
        if value and len(value) <= 100:
            source[key] = value
    return source


def purchase_source_params(source: Mapping[str, str]) -> dict[str, str]:
    """A purchase source as pages carry it (the inverse of `purchase_source`)."""
    return {param: source[key] for param, key in PURCHASE_SOURCE_PARAMS.items() if key in source}
