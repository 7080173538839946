"""One-shot messages shown on the next page after a redirect (a short-lived signed cookie)."""

from __future__ import annotations

from typing import Literal

from fastapi import Request, Response

from clipcart.core.security import sign, unsign

FLASH_COOKIE = "clipcart_flash"
_PURPOSE = "flash"
_MAX_AGE = 120
_KINDS = {"success", "info", "error"}

FlashKind = Literal["success", "info", "error"]


def flash(response: Response, message: str, *, kind: FlashKind = "success") -> None:
    """Show `message` on the next page this browser renders."""
    response.set_cookie(
        FLASH_COOKIE,
        sign(_PURPOSE, [[kind, message]]),
        max_age=_MAX_AGE,
        httponly=True,
        samesite="lax",
        path="/",
    )


def read_flashes(request: Request) -> list[tuple[str, str]]:
    """The messages waiting for this browser (forged or stale cookies are ignored)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    payload = unsign(_PURPOSE, raw, max_age=_MAX_AGE)
    if not isinstance(payload, list):
        return []
    messages: list[tuple[str, str]] = []
    for item in payload:
        if (
            isinstance(item, list)
            and len(item) == 2
            and item[0] in _KINDS
            and isinstance(item[1], str)
        ):
            messages.append((item[0], item[1][:300]))
    return messages


def clear_flashes(request: Request, response: Response) -> None:
    """Forget the messages once a page has shown them."""
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax")
