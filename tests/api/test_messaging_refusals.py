"""Direct messages through the API: what is refused (bad input, blocks either way, strangers,
orders that are not one's own, suspended shops, too many messages) and that a refusal changes
nothing."""

from __future__ import annotations

import uuid
from typing import Any

from clipcart.messaging.models import Conversation, Message
from tests.api.test_accounts_auth import API, assert_problem, new_client
from tests.api.test_messaging import count, inbox, send, start, unread
from tests.api.test_shop_suspension import moderator
from tests.api.test_social_likes import PersonMaker, person
from tests.commerce_factories import (
    BuyerMaker,
    SellerMaker,
    buyer,
    commerce_sandbox,
    place_paid_order,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "person", "seller"]


async def test_refusals_change_nothing(app: Any, person: PersonMaker, seller: SellerMaker) -> None:
    shop = await seller("olivia", "acme")
    jane = await person("jane")
    assert_problem(
        await jane.client.post(f"{API}/conversations", json={"to": "jane", "text": "me"}),
        422,
        "message_self",
    )
    assert_problem(
        await shop.client.post(f"{API}/conversations", json={"shop": "acme", "text": "me"}),
        422,
        "message_self",
    )
    for text in ("", "   \n\t ", "\x00\x01\x7f"):
        refused = await jane.client.post(
            f"{API}/conversations", json={"to": "olivia", "text": text}
        )
        assert_problem(refused, 422, "validation_failed")
        assert refused.json()["errors"][0]["field"] == "text"
    too_long = await jane.client.post(
        f"{API}/conversations", json={"to": "olivia", "text": "x" * 2001}
    )
    assert_problem(too_long, 422, "validation_failed")
    huge = await jane.client.post(
        f"{API}/conversations", json={"to": "olivia", "text": "x" * 50000}
    )
    assert huge.status_code == 422
    assert_problem(
        await jane.client.post(f"{API}/conversations", json={"to": "nobody", "text": "hi"}),
        404,
        "user_not_found",
    )
    assert_problem(
        await jane.client.post(f"{API}/conversations", json={"shop": "noshop", "text": "hi"}),
        404,
        "shop_not_found",
    )
    for body in ({"text": "hi"}, {"to": "olivia", "shop": "acme", "text": "hi"}):
        assert (await jane.client.post(f"{API}/conversations", json=body)).status_code == 422
    weird = await jane.client.post(f"{API}/conversations", json={"to": "a\x00b", "text": "hi"})
    assert weird.status_code == 404
    unknown_product = await jane.client.post(
        f"{API}/conversations",
        json={"shop": "acme", "text": "hi", "product_id": str(uuid.uuid4())},
    )
    assert_problem(unknown_product, 422, "validation_failed")
    assert await count(Conversation) == 0 and await count(Message) == 0

    exactly = await start(jane.client, to="olivia", text="y" * 2000)
    assert len(exactly["message"]["text"]) == 2000
    async with new_client(app) as anonymous:
        assert (await anonymous.get(f"{API}/conversations")).status_code == 401


async def test_a_block_either_way_stops_messages_and_hides_the_conversation(
    person: PersonMaker,
) -> None:
    anna, bob = await person("anna"), await person("bobby")
    conversation_id = (await start(anna.client, to="bobby", text="hi"))["conversation"]["id"]
    assert (await anna.client.post(f"{API}/users/bobby/block")).status_code == 200
    for sender, target in ((anna, "bobby"), (bob, "anna")):
        refused = await sender.client.post(f"{API}/conversations", json={"to": target, "text": "x"})
        assert_problem(refused, 403, "blocked")
        assert_problem(await send(sender.client, conversation_id, "x"), 403, "blocked")
        assert await inbox(sender.client) == []
        gone = await sender.client.get(f"{API}/conversations/{conversation_id}")
        assert_problem(gone, 404, "conversation_not_found")
    assert await unread(bob.client) == 0  # the unread message from anna is hidden too
    assert await count(Message) == 1

    await anna.client.delete(f"{API}/users/bobby/block")
    assert (await bob.client.post(f"{API}/users/anna/block")).status_code == 200
    assert_problem(await send(anna.client, conversation_id, "x"), 403, "blocked")
    await bob.client.delete(f"{API}/users/anna/block")
    assert (await send(anna.client, conversation_id, "friends again")).status_code == 201
    assert [row["id"] for row in await inbox(bob.client)] == [conversation_id]


async def test_a_person_blocked_by_a_shops_staff_cannot_write_to_the_shop(
    seller: SellerMaker, person: PersonMaker
) -> None:
    shop = await seller("olivia", "acme")
    jane = await person("jane")
    conversation_id = (await start(jane.client, shop="acme", text="hello"))["conversation"]["id"]
    assert (await shop.client.post(f"{API}/users/jane/block")).status_code == 200

    refused = await jane.client.post(f"{API}/conversations", json={"shop": "acme", "text": "x"})
    assert_problem(refused, 403, "blocked")
    assert_problem(await send(jane.client, conversation_id, "again"), 403, "blocked")
    assert await count(Message) == 1
    # The shop can still write to her, and both still see what was said.
    assert (await send(shop.client, conversation_id, "Please stop.")).status_code == 201
    seen = await jane.client.get(f"{API}/conversations/{conversation_id}")
    assert seen.status_code == 200

    await shop.client.delete(f"{API}/users/jane/block")
    assert (await send(jane.client, conversation_id, "sorry")).status_code == 201


async def test_strangers_get_404_for_a_conversation(
    person: PersonMaker, seller: SellerMaker
) -> None:
    shop = await seller("olivia", "acme")
    anna, carl = await person("anna"), await person("carl")
    conversation_id = (await start(anna.client, shop="acme"))["conversation"]["id"]
    for path in (f"/conversations/{conversation_id}", f"/conversations/{uuid.uuid4()}"):
        assert_problem(await carl.client.get(f"{API}{path}"), 404, "conversation_not_found")
        assert_problem(await carl.client.post(f"{API}{path}/read"), 404, "conversation_not_found")
        assert_problem(
            await send(carl.client, path.rsplit("/")[-1], "hi"), 404, "conversation_not_found"
        )
    assert_problem(await carl.client.get(f"{API}/conversations?shop=acme"), 404, "shop_not_found")
    assert (await shop.client.get(f"{API}/conversations/{conversation_id}")).status_code == 200
    assert await count(Message) == 1


async def test_only_an_orders_buyer_and_shop_can_show_it(
    seller: SellerMaker, buyer: BuyerMaker, person: PersonMaker
) -> None:
    shop = await seller("olivia", "acme", stock=5)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    started = await start(jane.client, shop="acme", text="Where is it?", order_id=order["id"])
    card = started["message"]["order"]
    assert card == {
        "id": order["id"],
        "number": order["number"],
        "status": "paid",
        "url": f"/orders/{order['id']}",
    }
    conversation_id = started["conversation"]["id"]
    answer = await send(shop.client, conversation_id, "Ships today", order_id=order["id"])
    assert answer.status_code == 201, answer.text
    assert answer.json()["order"]["url"] == f"/seller/acme/orders/{order['id']}"

    bob = await person("bobby")
    refused = await bob.client.post(
        f"{API}/conversations", json={"shop": "acme", "text": "hm", "order_id": order["id"]}
    )
    assert_problem(refused, 422, "validation_failed")
    assert refused.json()["errors"][0]["field"] == "order_id"
    elsewhere = await jane.client.post(
        f"{API}/conversations", json={"to": "bobby", "text": "look", "order_id": order["id"]}
    )
    assert_problem(elsewhere, 422, "validation_failed")
    made_up = await send(jane.client, conversation_id, "x", order_id=str(uuid.uuid4()))
    assert_problem(made_up, 422, "validation_failed")
    assert await count(Message) == 2


async def test_a_suspended_shop_cannot_be_messaged(
    app: Any, seller: SellerMaker, person: PersonMaker
) -> None:
    shop = await seller("olivia", "acme")
    jane = await person("jane")
    conversation_id = (await start(jane.client, shop="acme"))["conversation"]["id"]
    mod = await moderator(app)
    try:
        assert (await mod.put(f"{API}/shops/acme/suspension")).status_code == 200
    finally:
        await mod.aclose()
    refused = await jane.client.post(f"{API}/conversations", json={"shop": "acme", "text": "x"})
    assert_problem(refused, 403, "shop_suspended")
    assert_problem(await send(jane.client, conversation_id, "x"), 403, "shop_suspended")
    [row] = await inbox(jane.client)
    assert row["can_send"] is False
    # The shop's staff can still answer what they were asked.
    assert (await send(shop.client, conversation_id, "We will refund you.")).status_code == 201
    assert await count(Message) == 2


async def test_sending_is_rate_limited(person: PersonMaker) -> None:
    anna, _ = await person("anna"), await person("bobby")
    conversation_id = (await start(anna.client, to="bobby", text="0"))["conversation"]["id"]
    for index in range(1, 20):
        assert (await send(anna.client, conversation_id, str(index))).status_code == 201
    limited = await send(anna.client, conversation_id, "one too many")
    assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
    assert await count(Message) == 20
