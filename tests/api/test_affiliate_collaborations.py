"""Collaborations, offers, showcases and samples through the API: who sees what at which rate,
pausing and ending, the shop's rules, and a sample's 14-day deadline recorded as missed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from clipcart.accounts.models import User
from clipcart.affiliate import service as affiliate
from clipcart.affiliate import tasks
from clipcart.core import clock
from clipcart.core.clock import FrozenClock
from clipcart.core.db import unit_of_work
from clipcart.core.errors import Forbidden
from clipcart.social import profiles
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup
from tests.api.test_commerce_fulfilment import frozen
from tests.commerce_factories import SellerMaker, commerce_sandbox, product_body, seller

__all__ = ["commerce_sandbox", "frozen", "seller"]

AFFILIATE = f"{API}/affiliate"


async def creator(app: Any, handle: str) -> tuple[httpx.AsyncClient, uuid.UUID]:
    """A signed-up person's client and id (anyone may promote products)."""
    client = new_client(app)
    data = await signup(client, handle)
    return client, uuid.UUID(data["user"]["id"])


async def offers(client: httpx.AsyncClient, **query: Any) -> list[dict[str, Any]]:
    response = await client.get(f"{AFFILIATE}/offers", params=query)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_open_and_targeted_offers_pausing_and_the_shops_rules(
    app: Any, seller: SellerMaker, frozen: FrozenClock
) -> None:
    shop = await seller("olivia", "acme", price=2_000)
    other = await seller("bruno", "bolt", price=9_000)
    maya, maya_id = await creator(app, "maya")
    leo, _leo_id = await creator(app, "leo")
    collaborations = f"{AFFILIATE}/shops/acme/collaborations"

    refused = await shop.client.post(
        collaborations, json={"product_id": str(other.product_id), "rate_bp": 1000}
    )
    assert_problem(refused, 422, "validation_failed")
    for rate in (0, 5001):
        bad = await shop.client.post(
            collaborations, json={"product_id": str(shop.product_id), "rate_bp": rate}
        )
        assert_problem(bad, 422, "rate_out_of_range")
    outsider = await maya.post(
        collaborations, json={"product_id": str(shop.product_id), "rate_bp": 1000}
    )
    assert outsider.status_code == 404
    no_one = await shop.client.post(
        collaborations,
        json={"product_id": str(shop.product_id), "rate_bp": 1000, "kind": "targeted"},
    )
    assert_problem(no_one, 422, "validation_failed")

    opened = await shop.client.post(
        collaborations, json={"product_id": str(shop.product_id), "rate_bp": 1000}
    )
    assert opened.status_code == 201, opened.text
    invited = await shop.client.post(
        collaborations,
        json={
            "product_id": str(shop.product_id),
            "rate_bp": 1000,
            "kind": "targeted",
            "creators": [{"handle": "maya", "rate_bp": 1800}],
            "ends_at": (clock.now() + timedelta(days=2)).isoformat(),
        },
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["invitations"] == [{"creator_id": str(maya_id), "rate_bp": 1800}]

    # Maya gets her invitation's rate, Leo the open one; filters narrow the list.
    assert [(o["rate_bp"], o["kind"]) for o in await offers(maya)] == [(1800, "targeted")]
    assert [(o["rate_bp"], o["kind"]) for o in await offers(leo)] == [(1000, "open")]
    assert await offers(leo, min_rate_bp=1500) == []
    assert await offers(leo, max_price=1_999) == []
    assert len(await offers(leo, max_price=2_000)) == 1
    assert_problem(
        await leo.get(f"{AFFILIATE}/offers", params={"sort": "nope"}), 422, "validation_failed"
    )

    # The invitation ends: Maya is back to the open rate.
    frozen.advance(timedelta(days=3))
    assert [o["rate_bp"] for o in await offers(maya)] == [1000]
    frozen.advance(timedelta(days=-3))

    # Paused: nothing is open, and tagging is refused.
    paused = await shop.client.patch(
        f"{AFFILIATE}/collaborations/{opened.json()['id']}", json={"status": "paused"}
    )
    assert paused.status_code == 200 and paused.json()["live"] is False
    assert await offers(leo) == []
    async with unit_of_work() as session:
        with pytest.raises(Forbidden):
            await affiliate.authorise_tag(
                creator_id=_leo_id,
                video_id=uuid.uuid4(),
                product_id=shop.product_id,
                session=session,
            )
    listed = (await shop.client.get(collaborations)).json()
    assert {c["status"] for c in listed} == {"paused", "active"}
    not_theirs = await other.client.patch(
        f"{AFFILIATE}/collaborations/{opened.json()['id']}", json={"status": "active"}
    )
    assert not_theirs.status_code == 404
    for client in (maya, leo):
        await client.aclose()


async def test_showcase_and_a_sample_whose_deadline_is_missed(
    app: Any, seller: SellerMaker, frozen: FrozenClock
) -> None:
    shop = await seller("olivia", "acme", price=2_000)
    maya, maya_id = await creator(app, "maya")
    product = str(shop.product_id)
    not_open = await maya.post(f"{AFFILIATE}/samples", json={"product_id": product})
    assert_problem(not_open, 422, "validation_failed")
    await shop.client.post(
        f"{AFFILIATE}/shops/acme/collaborations", json={"product_id": product, "rate_bp": 900}
    )

    shown = await maya.post(f"{AFFILIATE}/me/showcase", json={"product_id": product})
    assert shown.status_code == 204
    async with unit_of_work() as session:
        person = await session.get(User, maya_id)
        assert person is not None
        items = await profiles.showcase(person, None, limit=6, session=session)
    assert [item.product_id for item in items] == [shop.product_id]
    assert (await offers(maya))[0]["in_showcase"] is True

    asked = await maya.post(f"{AFFILIATE}/samples", json={"product_id": product})
    assert asked.status_code == 201 and asked.json()["status"] == "requested"
    again = await maya.post(f"{AFFILIATE}/samples", json={"product_id": product})
    assert_problem(again, 409, "sample_already_requested")
    sample_id = asked.json()["id"]
    assert [s["id"] for s in (await shop.client.get(f"{AFFILIATE}/shops/acme/samples")).json()]
    not_hers = await maya.post(f"{AFFILIATE}/samples/{sample_id}/decision", json={"approve": True})
    assert not_hers.status_code == 404
    approved = await shop.client.post(
        f"{AFFILIATE}/samples/{sample_id}/decision", json={"approve": True}
    )
    assert approved.status_code == 200, approved.text
    due = approved.json()["due_at"]
    mine = (await maya.get(f"{AFFILIATE}/me/samples")).json()
    assert mine[0]["status"] == "approved" and mine[0]["due_at"] == due
    twice = await shop.client.post(
        f"{AFFILIATE}/samples/{sample_id}/decision", json={"approve": False}
    )
    assert_problem(twice, 409, "sample_wrong_state")

    frozen.advance(timedelta(days=13, hours=23))
    assert await tasks.record_missed_samples() == 0
    frozen.advance(timedelta(hours=1))
    assert await tasks.record_missed_samples() == 1
    frozen.advance(timedelta(days=-14))
    missed = (await maya.get(f"{AFFILIATE}/me/samples")).json()[0]
    assert missed["status"] == "missed" and missed["missed_at"]
    await maya.aclose()


async def test_offers_filtered_by_a_category_include_its_subcategories(
    app: Any, seller: SellerMaker
) -> None:
    shop = await seller("olivia", "acme", price=2_000)  # Glow Serum, no category
    tee = await shop.client.post(
        f"{API}/shops/acme/products",
        json={**product_body(title="Linen Tee", sku_prefix="TEE"), "category_id": 212},
    )
    assert tee.status_code == 201, tee.text
    for product_id in (str(shop.product_id), tee.json()["id"]):
        opened = await shop.client.post(
            f"{AFFILIATE}/shops/acme/collaborations",
            json={"product_id": product_id, "rate_bp": 1000},
        )
        assert opened.status_code == 201, opened.text
    maya, _maya_id = await creator(app, "maya")
    assert len(await offers(maya)) == 2
    # 212 is Apparel & Accessories > Clothing > Shirts & Tops; 1604 is its parent, Clothing.
    for category_id in (1604, 212):
        found = await offers(maya, category_id=category_id)
        assert [offer["title"] for offer in found] == ["Linen Tee"]
    assert await offers(maya, category_id=5608) == []  # Luggage & Bags > Tote Bags

    page = await maya.get("/studio/affiliate?category_id=1604", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Linen Tee" in page.text and "Glow Serum" not in page.text
    assert '<option value="1604" selected>Apparel &amp; Accessories &gt; Clothing</option>' in (
        page.text
    )
