"""Pages that are not about accounts: home, the tabs still to come, and the error pages."""

from __future__ import annotations

import html
import logging
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from clipcart.core.routing import make_router
from clipcart.web.templating import STATIC_DIR, render, templates
from clipcart.web.viewer import viewer_from_state

__all__ = ["STATIC_DIR", "render_error_page", "router"]

log = logging.getLogger(__name__)

router = make_router(include_in_schema=False)


# The home page (the feed) lives in web/feed_pages.py.
# The + tab (/upload) lives in web/video_pages.py with the other video pages.
# The inbox (/inbox) lives in web/message_pages.py.


_ERROR_PAGE_HEADERS = {"Cache-Control": "no-store"}


def render_error_page(request: Request, status: int, title: str, detail: str) -> Response:
    """A friendly error page (with the tab bar) saying what to do next; never raises."""
    context: dict[str, Any] = {"status": status, "title": title, "detail": detail}
    try:
        return render(
            request,
            "error.html",
            context,
            status_code=status,
            viewer=viewer_from_state(request),
            headers=_ERROR_PAGE_HEADERS,
        )
    except Exception:  # the error page itself must never turn into a second error
        log.exception("error page failed to render")
    try:
        template = templates.get_template("error.html")
        body = template.render(
            {
                **context,
                "request": request,
                "viewer": None,
                "tab": None,
                "flashes": [],
                "csrf_token": "",
                "request_id": getattr(request.state, "request_id", None),
            }
        )
    except Exception:
        log.exception("plain error page failed to render")
        body = (
            f"<!doctype html><title>{html.escape(title)}</title>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(detail)}</p><p><a href='/'>Home</a></p>"
        )
    return HTMLResponse(body, status_code=status, headers=_ERROR_PAGE_HEADERS)
