"""Who is looking at a page. Pages answer to browser sessions only: a bearer API token (meant
for programs, and possibly limited by scopes) is treated as anonymous here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import inspect

from clipcart.accounts.dependencies import get_principal
from clipcart.accounts.models import User
from clipcart.shops import service as shops
from clipcart.web.forms import login_redirect


def viewer_from_state(request: Request) -> User | None:
    """The user of this request's browser session, if the guard found one."""
    principal = get_principal(request)
    if principal is None or principal.via != "session":
        return None
    return principal.user


def works_for_a_shop(request: Request) -> bool:
    """True when the page's viewer owns or staffs a shop. Opening a shop or joining its staff
    grants the seller account role, and the guard loads a user's roles with the user, so this
    asks the database nothing. The answer is kept for the request: an error page is rendered
    after its transaction was rolled back, when the user's roles can no longer be read."""
    known: bool | None = getattr(request.state, "viewer_works_for_a_shop", None)
    if known is not None:
        return known
    viewer = viewer_from_state(request)
    if viewer is None or "roles" in inspect(viewer).unloaded:
        return False
    answer = shops.SELLER_ACCOUNT_ROLE in viewer.role_names
    request.state.viewer_works_for_a_shop = answer
    return answer


async def _page_viewer(request: Request) -> User | None:
    works_for_a_shop(request)  # answered while the roles are loaded (see works_for_a_shop)
    return viewer_from_state(request)


Viewer = Annotated[User | None, Depends(_page_viewer)]
"""The signed-in user of a page (None for anonymous visitors and API-token callers)."""


class LoginRequired(Exception):
    """A page only a signed-in user may see was asked for by someone who is not signed in."""


async def _signed_in_viewer(request: Request) -> User:
    user = viewer_from_state(request)
    if user is None:
        raise LoginRequired
    works_for_a_shop(request)  # answered while the roles are loaded (see works_for_a_shop)
    return user


SignedInViewer = Annotated[User, Depends(_signed_in_viewer)]
"""The signed-in user of a page; anyone else is sent to log in and then brought back."""


async def send_to_login(request: Request, exc: Exception) -> Response:
    """The app's answer to LoginRequired: the login page, then back to where they were going."""
    return login_redirect(request)


__all__ = [
    "LoginRequired",
    "SignedInViewer",
    "Viewer",
    "send_to_login",
    "viewer_from_state",
    "works_for_a_shop",
]
