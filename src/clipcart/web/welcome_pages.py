"""The demo's first-run page: the demo logins, what to try with each, and how far the
background rendering of the demo world's clips has come."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from clipcart.accounts import service as accounts
from clipcart.core.errors import NotFound
from clipcart.core.routing import DbSession, make_router
from clipcart.web.forms import see_other
from clipcart.web.templating import render, templates
from clipcart.web.viewer import Viewer

router = make_router(include_in_schema=False)
_demo_running = {"on": False}


def enable_welcome_link() -> None:
    """Show new visitors of the feed a link here (`clipcart demo` turns it on)."""
    _demo_running["on"] = True


def show_welcome_link() -> bool:
    """True when the feed should offer new visitors this page (templates call it)."""
    return _demo_running["on"]


templates.env.globals["show_welcome_link"] = show_welcome_link


@dataclass(frozen=True)
class Login:
    """One demo account and the things to try with it."""

    role: str
    email: str
    handle: str
    tries: tuple[tuple[str, str], ...]  # (what, link)


def _tries(role: str, shop_handle: str) -> tuple[tuple[str, str], ...]:
    tries: dict[str, tuple[tuple[str, str], ...]] = {
        "buyer": (
            ("Scroll For You: it leans to cooking and coffee, the buyer's tastes", "/"),
            ("Tap a product chip, then Buy now with the saved sandbox card", "/"),
            ("Follow an order from paid to delivered, or ask for a return", "/orders"),
            (f"Use the coupon WELCOME10 at @{shop_handle}", f"/shop/{shop_handle}"),
        ),
        "creator": (
            ("Post a video and tag products", "/upload"),
            ("See your videos and how they do", "/studio/videos"),
            ("Earnings from the sales your videos drive", "/studio/money"),
        ),
        "seller": (
            ("Ship the paid orders", f"/seller/{shop_handle}/orders"),
            ("Products, stock and a flash deal", f"/seller/{shop_handle}/products"),
            ("Balance, escrow and payouts", f"/seller/{shop_handle}/money"),
        ),
        "moderator": (("Review reported videos and comments", "/"),),
        "admin": (("Everything the other roles can do, and the admin API", "/docs"),),
    }
    return tries.get(role, ())


@router.get("/welcome", response_class=HTMLResponse)
async def welcome(request: Request, viewer: Viewer, session: DbSession) -> Response:
    """What to try in the demo, with each login (home when this is not a demo)."""
    from clipcart.demo.catalog import DEMO_SHOP_HANDLE
    from clipcart.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD

    logins: list[Login] = []
    for label, _role, email, handle, _name in DEMO_ACCOUNTS:
        try:
            await accounts.get_user_by_handle(handle, session=session)
        except NotFound:
            continue
        logins.append(Login(label, email, handle, _tries(label, DEMO_SHOP_HANDLE)))
    if not logins:
        return see_other("/")
    ready, total = await _media_progress()
    context = {
        "logins": logins,
        "password": DEMO_PASSWORD,
        "clips_ready": ready,
        "clips_total": total,
    }
    return render(request, "demo/welcome.html", context, viewer=viewer)


async def _media_progress() -> tuple[int, int]:
    from clipcart.demo.world.media_jobs import media_progress

    return await media_progress()
