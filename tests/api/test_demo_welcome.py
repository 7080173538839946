"""The demo's first-run page: the logins that exist, what to try with each, the clips' progress;
elsewhere (no demo accounts) it is not there."""

from __future__ import annotations

import httpx

from clipcart.accounts import service as accounts
from clipcart.accounts.schemas import SignupIn
from clipcart.core.db import unit_of_work
from clipcart.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD
from clipcart.demo.world import WorldSize, build_world


async def test_welcome_lists_the_demo_logins_and_what_to_try(client: httpx.AsyncClient) -> None:
    async with unit_of_work() as session:
        for _label, _role, email, handle, name in (DEMO_ACCOUNTS[0], DEMO_ACCOUNTS[2]):
            await accounts.sign_up(
                SignupIn(email=email, handle=handle, password=DEMO_PASSWORD, display_name=name),
                session=session,
            )
    await build_world(
        WorldSize(shops=1, products=2, creators=1, videos=3, users=1, events=10, media=True)
    )
    page = await client.get("/welcome")
    assert page.status_code == 200
    html = page.text
    assert DEMO_PASSWORD in html
    assert DEMO_ACCOUNTS[0][2] in html and DEMO_ACCOUNTS[2][2] in html
    assert DEMO_ACCOUNTS[1][2] not in html  # only the accounts that exist
    assert 'href="/orders"' in html and 'href="/seller/sams_corner/orders"' in html
    assert "<strong>0 of 3</strong> demo videos are ready" in html


async def test_without_the_demo_accounts_welcome_goes_home(client: httpx.AsyncClient) -> None:
    page = await client.get("/welcome", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/"
