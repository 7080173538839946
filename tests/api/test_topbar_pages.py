"""The top bar's seller link: "Seller center" for people who own or staff a shop, a short
"Sell" link to opening a shop for everyone else signed in, nothing for visitors; deciding it
asks the database nothing."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.api.test_feed import count_queries
from tests.api.test_messaging import add_staff
from tests.api.test_pages import HTML
from tests.api.test_social_likes import PersonMaker, person
from tests.commerce_factories import SellerMaker, commerce_sandbox, seller

__all__ = ["commerce_sandbox", "person", "seller"]  # fixtures used here

SELLER_CENTER = '<a class="topbar-link topbar-seller" href="/seller">Seller center</a>'
SELL = '<a class="topbar-link topbar-seller" href="/shops/new">Sell</a>'


async def topbar(client: httpx.AsyncClient, path: str = "/shop", status: int = 200) -> str:
    """The top bar of a page as `client` sees it."""
    page = await client.get(path, headers=HTML)
    assert page.status_code == status, page.text
    return page.text[page.text.index('<header class="topbar">') : page.text.index("</header>")]


async def test_seller_center_for_shop_owners_and_staff_sell_for_others(
    client: httpx.AsyncClient, seller: SellerMaker, person: PersonMaker
) -> None:
    owner = await seller("olivia", "acme")
    staff = await person("sam")
    await add_staff(owner, "sam")
    shopper = await person("jane")

    for works_for_a_shop in (owner.client, staff.client):
        bar = await topbar(works_for_a_shop)
        assert SELLER_CENTER in bar and ">Sell<" not in bar

    bar = await topbar(shopper.client)
    assert SELL in bar and "Seller center" not in bar
    # "Sell" leads where a person without a shop is sent from /seller: opening one.
    seller_home = await shopper.client.get("/seller", headers=HTML)
    assert 'href="/shops/new">Open a shop</a>' in seller_home.text
    assert (await shopper.client.get("/shops/new", headers=HTML)).status_code == 200

    visitor = await topbar(client)
    assert "topbar-seller" not in visitor and 'href="/login">Log in</a>' in visitor


async def test_opening_a_shop_turns_sell_into_seller_center(
    seller: SellerMaker, person: PersonMaker
) -> None:
    await seller("olivia", "acme")
    jane = await person("jane")
    assert SELL in await topbar(jane.client, "/shops/new")
    csrf = (await jane.client.get("/api/v1/auth/csrf")).json()["csrf_token"]
    opened = await jane.client.post(
        "/shops/new",
        data={
            "csrf_token": csrf,
            "handle": "janes",
            "name": "Jane's Things",
            "country": "US",
            "currency": "USD",
        },
    )
    assert opened.status_code == 303, opened.text
    assert SELLER_CENTER in await topbar(jane.client)


async def test_leaving_the_last_shop_turns_seller_center_back_into_sell(
    seller: SellerMaker, person: PersonMaker
) -> None:
    acme = await seller("olivia", "acme")
    other = await seller("omar", "bazaar")
    sam = await person("sam")
    await add_staff(acme, "sam")
    await add_staff(other, "sam")

    removed = await acme.client.delete("/api/v1/shops/acme/staff/sam")
    assert removed.status_code == 204, removed.text
    assert SELLER_CENTER in await topbar(sam.client)  # still on bazaar's staff
    removed = await other.client.delete("/api/v1/shops/bazaar/staff/sam")
    assert removed.status_code == 204, removed.text
    bar = await topbar(sam.client)
    assert SELL in bar and "Seller center" not in bar
    me = (await sam.client.get("/api/v1/me")).json()
    assert "seller_staff" not in me["roles"]


async def test_the_seller_link_reads_nothing_from_the_database(
    seller: SellerMaker, person: PersonMaker
) -> None:
    owner = await seller("olivia", "acme")
    shopper = await person("jane")
    counts = []
    for viewer in (owner.client, shopper.client):
        with count_queries() as statements:
            await topbar(viewer, "/shops/new")  # a page that reads nothing about shops itself
        assert not [sql for sql in statements if "shop_staff" in sql], statements
        counts.append(len(statements))
    assert counts[0] == counts[1]


async def test_error_pages_keep_the_seller_link(
    seller: SellerMaker, person: PersonMaker, caplog: pytest.LogCaptureFixture
) -> None:
    # An error page is drawn after its request's transaction was rolled back.
    owner = await seller("olivia", "acme")
    shopper = await person("jane")
    missing = f"/orders/{uuid.uuid4()}"
    assert SELLER_CENTER in await topbar(owner.client, missing, status=404)
    assert SELL in await topbar(shopper.client, missing, status=404)
    assert SELL in await topbar(shopper.client, "/inbox/new?to=nobody", status=404)
    assert not [r for r in caplog.records if "error page failed" in r.getMessage()]
