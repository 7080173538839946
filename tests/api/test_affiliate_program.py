"""The affiliate program end to end through the API: a shop opens a collaboration at 12%, a
creator tags the product in her video (the rate is locked), a buyer watches and buys through
the chip, the order completes and the commission becomes available and is paid out; a second
buyer's refunded order claws its commission back; the creator buying through her own video
earns nothing; the ledger stays consistent throughout."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.commerce import tasks as commerce_tasks
from clipcart.core import clock
from clipcart.core.clock import FrozenClock
from clipcart.core.db import unit_of_work
from clipcart.ledger import service as ledger
from clipcart.ledger import tasks as ledger_tasks
from tests.api.test_accounts_auth import API, assert_problem
from tests.api.test_commerce_fulfilment import frozen, later, ship
from tests.api.test_commerce_returns import ask_return, short_return_window
from tests.api.test_media_upload import VIDEOS, clips, upload_ready
from tests.commerce_factories import (
    Buyer,
    BuyerMaker,
    Seller,
    SellerMaker,
    buyer,
    commerce_sandbox,
    pay,
    place,
    seller,
)

__all__ = ["buyer", "clips", "commerce_sandbox", "frozen", "seller", "short_return_window"]

AFFILIATE = f"{API}/affiliate"


async def grant_creator(user_id: uuid.UUID) -> None:
    """Give a user the creator role (they may then post videos)."""
    async with unit_of_work() as session:
        user = await session.get(User, user_id)
        assert user is not None
        await accounts.grant_role(user, "creator", session=session)


async def send_events(client: httpx.AsyncClient, *events: dict[str, Any]) -> None:
    """Post page events (the buyer watching and tapping)."""
    body = []
    for fields in events:
        body.append(
            {
                "id": str(uuid.uuid4()),
                "occurred_at": clock.now().isoformat(),
                "session_id": "s-1",
                "surface": "for_you",
                "position": 0,
                **fields,
            }
        )
    response = await client.post(f"{API}/events", json={"events": body})
    assert response.status_code in (200, 202), response.text


async def buy(
    shopper: Buyer,
    shop: Seller,
    *,
    video_id: str | None = None,
    source: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Place and pay one unit of the shop's product (through the video's chip, or from the
    `source` given)."""
    item: dict[str, Any] = {"variant_id": str(shop.variant_id), "quantity": 1}
    if video_id is not None:
        item["source"] = {"video_id": video_id}
    if source is not None:
        item["source"] = source
    placed = await place(shopper.client, items=[item])
    assert placed.status_code == 201, placed.text
    paid = await pay(shopper.client, placed.json()["checkout_id"])
    assert paid.status_code == 200 and paid.json()["all_paid"], paid.text
    order: dict[str, Any] = placed.json()["orders"][0]
    return order


async def deliver(shop: Seller, shopper: Buyer, order_id: str) -> None:
    """The shop ships, the buyer confirms delivery."""
    assert (await ship(shop, order_id)).status_code == 200
    confirmed = await shopper.client.post(f"{API}/orders/{order_id}/confirm-delivery")
    assert confirmed.status_code == 200, confirmed.text


async def commissions(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """The current creator's commissions, newest first."""
    response = await client.get(f"{AFFILIATE}/me/commissions")
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def creator_balance(client: httpx.AsyncClient) -> dict[str, int]:
    """The creator's USD balances (pending, available, in transit)."""
    response = await client.get(f"{API}/ledger/me/balances")
    assert response.status_code == 200, response.text
    usd = [row for row in response.json() if row["currency"] == "USD"]
    return usd[0] if usd else {"pending": 0, "available": 0, "in_transit": 0}


async def test_collaboration_tag_sale_completion_payout_clawback_and_own_links(
    seller: SellerMaker,
    buyer: BuyerMaker,
    frozen: FrozenClock,
    clips: dict[str, Path],
    short_return_window: int,
) -> None:
    shop = await seller("olivia", "acme", price=10_000, stock=20)  # free shipping from $100
    cara = await buyer("cara")  # the creator, who also shops
    await grant_creator(cara.id)
    video = await upload_ready(cara.client, clips["portrait"], caption="My serum routine")
    tags = f"{VIDEOS}/{video['id']}/tags"

    # No collaboration yet: the tag is refused.
    refused = await cara.client.post(tags, json={"product_id": str(shop.product_id)})
    assert_problem(refused, 403, "affiliate_collaboration_required")

    opened = await shop.client.post(
        f"{AFFILIATE}/shops/acme/collaborations",
        json={"product_id": str(shop.product_id), "rate_bp": 1200},
    )
    assert opened.status_code == 201, opened.text
    collaboration = opened.json()
    assert (collaboration["kind"], collaboration["rate"], collaboration["live"]) == (
        "open",
        "12%",
        True,
    )
    offers = (await cara.client.get(f"{AFFILIATE}/offers")).json()
    assert [(o["product_id"], o["rate_bp"]) for o in offers] == [(str(shop.product_id), 1200)]
    assert offers[0]["commission_per_sale"]["amount"] == 1200

    tagged = await cara.client.post(tags, json={"product_id": str(shop.product_id)})
    assert tagged.status_code == 201, tagged.text
    # The shop raises the rate afterwards: only new tags get it, Cara's stays at 12%.
    raised = await shop.client.patch(
        f"{AFFILIATE}/collaborations/{collaboration['id']}", json={"rate_bp": 2000}
    )
    assert raised.status_code == 200 and raised.json()["rate_bp"] == 2000

    # Jane watches the video and buys through its product chip.
    jane = await buyer("jane")
    await send_events(
        jane.client,
        {"type": "impression", "video_id": video["id"]},
        {"type": "chip_tap", "video_id": video["id"], "product_id": str(shop.product_id)},
    )
    jane_order = await buy(jane, shop, video_id=video["id"])
    # John only tapped the chip earlier: the last touch in the event log credits Cara.
    john = await buyer("john")
    await send_events(
        john.client,
        {"type": "chip_tap", "video_id": video["id"], "product_id": str(shop.product_id)},
    )
    later(frozen, hours=1)
    john_order = await buy(john, shop)
    # Cara buying through her own video earns nothing.
    own_order = await buy(cara, shop, video_id=video["id"])

    rows = await commissions(cara.client)
    by_order = {row["order_id"]: row for row in rows}
    assert set(by_order) == {jane_order["id"], john_order["id"]}
    assert own_order["id"] not in by_order
    jane_commission = by_order[jane_order["id"]]
    assert jane_commission["rate_bp"] == 1200  # locked on the tag
    assert jane_commission["amount"]["amount"] == 1200
    assert jane_commission["status"] == "pending"
    assert jane_commission["source_kind"] == "video"
    assert jane_commission["source_video_id"] == video["id"]
    assert jane_commission["source_event_id"] is not None  # her chip tap is the evidence
    john_commission = by_order[john_order["id"]]
    assert john_commission["source_event_id"] is not None  # the chip tap is the evidence
    assert john_commission["source_at"] is not None
    assert (await creator_balance(cara.client))["pending"] == 2400

    # The shop sees who sells its products.
    shop_view = (await shop.client.get(f"{AFFILIATE}/shops/acme/commissions")).json()
    assert {row["creator_id"] for row in shop_view} == {str(cara.id)}

    # John sends his back: the refund claws back his order's commission.
    for shopper, order in ((jane, jane_order), (john, john_order)):
        await deliver(shop, shopper, order["id"])
    [line] = (await john.client.get(f"{API}/orders/{john_order['id']}")).json()["lines"]
    asked = await ask_return(john, john_order["id"], [(line["id"], 1)])
    assert asked.status_code == 201, asked.text
    await shop.client.post(f"{API}/returns/{asked.json()['id']}/approve")
    received = await shop.client.post(f"{API}/returns/{asked.json()['id']}/received")
    assert received.json()["status"] == "refunded", received.text
    john_commission = {row["order_id"]: row for row in await commissions(cara.client)}[
        john_order["id"]
    ]
    assert john_commission["status"] == "clawed_back"
    assert john_commission["clawed_back"]["amount"] == 1200
    assert john_commission["earned"]["amount"] == 0
    assert (await creator_balance(cara.client))["pending"] == 1200

    # The return window closes: Jane's order completes and the commission is available.
    later(frozen, days=short_return_window, seconds=1)
    assert await commerce_tasks.complete_orders() >= 1
    jane_commission = {row["order_id"]: row for row in await commissions(cara.client)}[
        jane_order["id"]
    ]
    assert jane_commission["status"] == "available" and jane_commission["available_at"]
    balance = await creator_balance(cara.client)
    assert (balance["pending"], balance["available"]) == (0, 1200)

    # ... and paid out.
    payout = await cara.client.post(
        f"{API}/ledger/me/payouts",
        json={"amount": 1200, "currency": "USD"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert payout.status_code == 201, payout.text
    assert await ledger_tasks.check_payout(payout.json()["id"]) == "in_transit"
    frozen.advance(timedelta(minutes=5))
    assert await ledger_tasks.advance_open_payouts() == {"paid": 1}
    balance = await creator_balance(cara.client)
    assert (balance["available"], balance["in_transit"]) == (0, 0)
    async with unit_of_work() as session:
        assert await ledger.verify_ledger(session=session) == []

    # The creator center and the shop side show the same sales.
    center = await cara.client.get("/studio/affiliate")
    assert center.status_code == 200, center.text
    assert "My serum routine" in center.text and "Clawed back" in center.text
    assert center.text.count("<svg") >= 4  # the four charts, then sparklines
    shop_page = await shop.client.get("/seller/acme/affiliate")
    assert shop_page.status_code == 200, shop_page.text
    assert "@cara" in shop_page.text
