"""Errors answered as RFC 9457 problem+json for the API, or as a friendly page for people."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from clipcart.core.errors import AppError
from clipcart.core.middleware import apply_security_headers

log = logging.getLogger(__name__)

HtmlErrorRenderer = Callable[[Request, int, str, str], Response]

_TITLES = {
    400: "Bad request",
    401: "You need to log in",
    403: "You are not allowed to do that",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "That is too large",
    415: "Unsupported media type",
    422: "Some fields need attention",
    429: "Too many attempts",
    500: "Something went wrong",
}


def wants_html(request: Request) -> bool:
    """True when a person's browser asked for a page rather than a program for JSON."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error as problem+json, or as a page for a browser (via the app's renderer)."""
    title = _TITLES.get(status, "Error")
    renderer: HtmlErrorRenderer | None = getattr(request.app.state, "html_error_renderer", None)
    if renderer is not None and wants_html(request):
        response = renderer(request, status, title, detail)
    else:
        body: dict[str, Any] = {
            "type": f"https://clipcart.dev/problems/{code}",
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
            "instance": request.url.path,
            "request_id": getattr(request.state, "request_id", None),
        }
        # Extension members never replace the standard ones (RFC 9457 section 3.2).
        body.update({key: value for key, value in (extra or {}).items() if key not in body})
        response = JSONResponse(body, status_code=status, media_type="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


async def handle_app_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, AppError)
    return problem_response(
        request,
        status=error.status,
        code=error.code,
        detail=error.message,
        extra=error.data,
        headers=error.headers,
    )


async def handle_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(part) for part in item["loc"] if part != "body"),
            "message": item["msg"],
        }
        for item in error.errors()
    ]
    return problem_response(
        request,
        status=422,
        code="validation_failed",
        detail="Some fields need attention.",
        extra={"errors": errors},
    )


async def handle_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else _TITLES.get(error.status_code, "")
    if error.status_code == 404:
        detail = "We could not find that page or item."
    return problem_response(
        request,
        status=error.status_code,
        code=f"http_{error.status_code}",
        detail=detail,
        headers=dict(error.headers or {}),
    )


async def handle_unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    # Starlette answers a 500 outside the middleware stack, so the request id and the
    # security headers are set here.
    request_id = getattr(request.state, "request_id", None)
    headers = {"Cache-Control": "no-store"}
    if request_id:
        headers["X-Request-ID"] = request_id
    response = problem_response(
        request,
        status=500,
        code="internal_error",
        detail="Something went wrong on our side. Please try again in a moment.",
        headers=headers,
    )
    apply_security_headers(response.headers, https=request.url.scheme == "https")
    return response


def install_error_handlers(app: FastAPI, *, html_renderer: HtmlErrorRenderer | None) -> None:
    """Answer every error the same way everywhere."""
    app.state.html_error_renderer = html_renderer
    app.add_exception_handler(AppError, handle_app_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_unexpected_error)
