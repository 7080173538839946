"""Who is looking at a page. Pages answer to browser sessions only: a bearer API token (meant
for programs, and possibly limited by scopes) is treated as anonymous here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clipcart.accounts.dependencies import get_principal
from clipcart.accounts.models import User


def viewer_from_state(request: Request) -> User | None:
    """The user of this request's browser session, if the guard found one."""
    principal = get_principal(request)
    if principal is None or principal.via != "session":
        return None
    return principal.user


async def _page_viewer(request: Request) -> User | None:
    return viewer_from_state(request)


Viewer = Annotated[User | None, Depends(_page_viewer)]
"""The signed-in user of a page (None for anonymous visitors and API-token callers)."""

__all__ = ["Viewer", "viewer_from_state"]
