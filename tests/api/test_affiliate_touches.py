"""Attribution of showcase purchases and of earlier creator touches, through the API and the
pages: a product in a creator's showcase is linked with `?showcase=`, the product page carries
it into the buy form, the buy is credited to her with the tap as evidence; a later purchase
with no source finds her showcase tap past a tap on the shop's own page; a showcase claim for a
product that is not in that showcase credits no one."""

from __future__ import annotations

import html
import uuid

from clipcart.core.clock import FrozenClock
from tests.api.test_accounts_auth import API
from tests.api.test_affiliate_program import (
    AFFILIATE,
    buy,
    commissions,
    grant_creator,
    send_events,
)
from tests.api.test_commerce_fulfilment import frozen, later
from tests.api.test_payments_intents import make_admin
from tests.commerce_factories import (
    Buyer,
    BuyerMaker,
    Seller,
    SellerMaker,
    buyer,
    commerce_sandbox,
    place_and_pay,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "frozen", "seller"]

HTML = {"Accept": "text/html"}


async def open_collaboration(shop: Seller, rate_bp: int = 1000) -> None:
    opened = await shop.client.post(
        f"{AFFILIATE}/shops/{shop.shop_handle}/collaborations",
        json={"product_id": str(shop.product_id), "rate_bp": rate_bp},
    )
    assert opened.status_code == 201, opened.text


async def showcasing_creator(buyer: BuyerMaker, shop: Seller, handle: str) -> Buyer:
    """A creator who put the shop's product in her showcase."""
    creator = await buyer(handle)
    await grant_creator(creator.id)
    added = await creator.client.post(
        f"{AFFILIATE}/me/showcase", json={"product_id": str(shop.product_id)}
    )
    assert added.status_code == 204, added.text
    return creator


async def showcase_world(seller: SellerMaker, buyer: BuyerMaker) -> tuple[Seller, Buyer, Buyer]:
    """A shop's $50 product open to creators at 10%, Cara who showcases it, and Bob."""
    shop = await seller("olivia", "acme", price=5_000, stock=10)
    await open_collaboration(shop, rate_bp=1000)
    cara = await showcasing_creator(buyer, shop, "cara")
    return shop, cara, await buyer("bob")


async def line_source(shopper: Buyer, order_id: str) -> str:
    [line] = (await shopper.client.get(f"{API}/orders/{order_id}")).json()["lines"]
    kind: str = line["source_kind"]
    return kind


async def test_a_purchase_from_a_showcase_is_credited_to_its_creator(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop, cara, bob = await showcase_world(seller, buyer)

    # Her profile links the product with her showcase; the product page carries it.
    profile = await bob.client.get(f"/@{cara.handle}", headers=HTML)
    assert profile.status_code == 200
    link = f"/p/{shop.product_id}?showcase={cara.id}"
    assert f'href="{link}"' in html.unescape(profile.text)
    page = await bob.client.get(link, headers=HTML)
    assert page.status_code == 200
    assert f'name="showcase" value="{cara.id}" data-buy-source' in page.text

    tap_id = str(uuid.uuid4())
    await send_events(
        bob.client,
        {
            "id": tap_id,
            "type": "chip_tap",
            "surface": "profile",
            "product_id": str(shop.product_id),
            "target_id": str(cara.id),
        },
    )
    later(frozen, minutes=2)
    order = await buy(bob, shop, source={"showcase_id": str(cara.id)})

    [commission] = await commissions(cara.client)
    assert commission["order_id"] == order["id"]
    assert commission["source_kind"] == "showcase"
    assert commission["source_event_id"] == tap_id  # the tap in her showcase is the evidence
    assert commission["amount"]["amount"] == 500  # 10% of $50.00
    assert await line_source(bob, order["id"]) == "showcase"

    # Her own purchase from her own showcase earns nothing.
    await buy(cara, shop, source={"showcase_id": str(cara.id)})
    assert [row["order_id"] for row in await commissions(cara.client)] == [order["id"]]


async def test_an_earlier_showcase_tap_is_found_past_a_tap_with_no_creator(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop, cara, bob = await showcase_world(seller, buyer)
    await send_events(
        bob.client,
        {
            "type": "sheet_open",
            "surface": "profile",
            "product_id": str(shop.product_id),
            "target_id": str(cara.id),
        },
    )
    later(frozen, hours=3)
    # Days later Bob opens the product from the shop's own page, then buys with no source.
    await send_events(
        bob.client, {"type": "chip_tap", "surface": "shop", "product_id": str(shop.product_id)}
    )
    later(frozen, minutes=1)
    order = await buy(bob, shop)

    [commission] = await commissions(cara.client)
    assert (commission["order_id"], commission["source_kind"]) == (order["id"], "showcase")


async def test_a_showcase_claim_for_a_product_not_in_it_credits_no_one(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller("olivia", "acme", price=5_000, stock=10)
    await open_collaboration(shop)
    dana = await buyer("dana")  # a creator who never showcased it
    await grant_creator(dana.id)
    bob = await buyer("bob")
    await send_events(
        bob.client,
        {
            "type": "chip_tap",
            "surface": "profile",
            "product_id": str(shop.product_id),
            "target_id": str(dana.id),
        },
    )
    order = await buy(bob, shop, source={"showcase_id": str(dana.id)})
    assert await commissions(dana.client) == []
    assert await line_source(bob, order["id"]) == "direct"


async def test_the_buy_form_without_javascript_carries_the_showcase(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop, cara, bob = await showcase_world(seller, buyer)
    csrf = (await bob.client.get(f"{API}/auth/csrf")).json()["csrf_token"]
    form = {
        "csrf_token": csrf,
        "variant": str(shop.variant_id),
        "quantity": "1",
        "showcase": str(cara.id),
    }
    buy_now = await bob.client.post("/cart/items", data={**form, "action": "buy"})
    assert buy_now.status_code == 303
    assert buy_now.headers["location"] == (
        f"/checkout?variant={shop.variant_id}&quantity=1&showcase={cara.id}"
    )
    added = await bob.client.post("/cart/items", data={**form, "action": "cart"})
    assert added.status_code == 303 and added.headers["location"] == "/cart"
    [order] = await place_and_pay(bob)
    [commission] = await commissions(cara.client)
    assert (commission["order_id"], commission["source_kind"]) == (order["id"], "showcase")


async def test_a_refund_made_through_the_payments_api_claws_the_commission_back(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop, cara, bob = await showcase_world(seller, buyer)
    first = await buy(bob, shop, source={"showcase_id": str(cara.id)})
    second = await buy(bob, shop, source={"showcase_id": str(cara.id)})
    await make_admin(bob.client, "olivia")  # the platform's admin here: Olivia's account

    async def refund(order_id: str, amount: int) -> None:
        detail = (await bob.client.get(f"{API}/orders/{order_id}")).json()
        intent_id = detail["payment"]["intent_id"]
        refunded = await shop.client.post(
            f"{API}/payments/intents/{intent_id}/refunds",
            json={"amount": amount},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert refunded.status_code == 201, refunded.text

    async def clawed_back(order_id: str) -> int:
        rows = {row["order_id"]: row for row in await commissions(cara.client)}
        amount: int = rows[order_id]["clawed_back"]["amount"]
        return amount

    # The whole of the first order, in three refunds: the status stays partially refunded
    # between the first two, and the second still reaches the commission.
    total = (await bob.client.get(f"{API}/orders/{first['id']}")).json()["total"]["amount"]
    await refund(first["id"], 1_000)
    after_one = await clawed_back(first["id"])
    await refund(first["id"], 1_000)
    after_two = await clawed_back(first["id"])
    assert 0 < after_one < after_two < 500
    await refund(first["id"], total - 2_000)
    rows = {row["order_id"]: row for row in await commissions(cara.client)}
    assert rows[first["id"]]["status"] == "clawed_back"
    assert rows[first["id"]]["earned"]["amount"] == 0
    assert rows[second["id"]]["status"] == "pending"
    assert rows[second["id"]]["earned"]["amount"] == 500
    balance = (await cara.client.get(f"{API}/ledger/me/balances")).json()
    assert [row["pending"] for row in balance if row["currency"] == "USD"] == [500]
