"""Jinja2 environment and the one function every page renders through."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from clipcart.accounts import service as accounts
from clipcart.accounts.dependencies import csrf_token_for
from clipcart.web.flash import clear_flashes, read_flashes
from clipcart.web.viewer import works_for_a_shop

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"


@lru_cache(maxsize=256)
def _fingerprint(path: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    """The URL of a static file, with a content fingerprint so browsers never run stale code."""
    file = (STATIC_DIR / path).resolve()
    if STATIC_DIR.resolve() not in file.parents or not file.is_file():
        raise FileNotFoundError(path)
    return f"/static/{path}?v={_fingerprint(path, file.stat().st_mtime_ns)}"


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(["html", "svg"], default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.globals["static_url"] = static_url
_environment.globals["avatar_url"] = accounts.avatar_url
templates = Jinja2Templates(env=_environment)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    viewer: Any = None,
    tab: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render `template` inside the base layout: viewer, CSRF token, flashes, active tab."""
    flashes = read_flashes(request)
    full_context: dict[str, Any] = {
        "viewer": viewer,
        "viewer_works_for_a_shop": viewer is not None and works_for_a_shop(request),
        "tab": tab,
        "flashes": flashes,
        "csrf_token": csrf_token_for(request),
        "request_id": getattr(request.state, "request_id", None),
        "errors": {},
        "values": {},
    }
    full_context.update(context or {})
    response = templates.TemplateResponse(
        request, template, full_context, status_code=status_code, headers=headers
    )
    if flashes:
        clear_flashes(request, response)
    return response
