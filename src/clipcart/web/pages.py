"""Placeholder: replaced by the web work."""

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

STATIC_DIR = Path(__file__).parent / "static"


def render_error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return HTMLResponse(f"<h1>{title}</h1><p>{detail}</p>", status_code=status)
