"""Messages pages for someone a block stops from writing: the thread and the compose page
show a short note instead of a send form, while sending stays refused as before."""

from __future__ import annotations

import uuid

import httpx

from clipcart.messaging.models import Message
from tests.api.test_accounts_auth import API, assert_problem
from tests.api.test_messaging import add_staff, count, send, start
from tests.api.test_social_likes import PersonMaker, person
from tests.commerce_factories import SellerMaker, commerce_sandbox, seller

__all__ = ["commerce_sandbox", "person", "seller"]  # fixtures used here

HTML = {"Accept": "text/html"}
SEND_FORM = '<form class="message-form"'
NO_REPLY = "You can't reply to this conversation."


async def page(client: httpx.AsyncClient, path: str) -> str:
    response = await client.get(path, headers=HTML)
    assert response.status_code == 200, response.text
    return response.text


async def test_a_person_blocked_by_shop_staff_sees_a_note_instead_of_the_reply_form(
    seller: SellerMaker, person: PersonMaker
) -> None:
    shop = await seller("olivia", "acme")
    sam = await person("sam")
    await add_staff(shop, "sam")
    jane = await person("jane")
    conversation_id = (await start(jane.client, shop="acme", text="hello"))["conversation"]["id"]
    thread = f"/inbox/{conversation_id}"
    before = await page(jane.client, thread)
    assert SEND_FORM in before and NO_REPLY not in before

    # Any one of the staff blocking her is enough (the rule messaging applies when sending).
    assert (await sam.client.post(f"{API}/users/jane/block")).status_code == 200
    # The API says so too, in the conversation and in her list of conversations.
    detail = (await jane.client.get(f"{API}/conversations/{conversation_id}")).json()
    assert detail["can_send"] is False
    listed = (await jane.client.get(f"{API}/conversations")).json()["items"]
    assert [item["can_send"] for item in listed] == [False]
    shop_listed = (await shop.client.get(f"{API}/conversations?shop=acme")).json()["items"]
    assert [item["can_send"] for item in shop_listed] == [True]
    blocked = await page(jane.client, thread)
    assert NO_REPLY in blocked and SEND_FORM not in blocked
    assert "hello" in blocked  # what was said stays readable
    # Sending is refused as before, through the API and through the page (which shows the note).
    assert_problem(await send(jane.client, conversation_id, "again"), 403, "blocked")
    posted = await jane.client.post(thread, data={"text": "again", "client_id": str(uuid.uuid4())})
    assert posted.status_code == 403
    assert NO_REPLY in posted.text and SEND_FORM not in posted.text
    assert await count(Message) == 1

    # The shop's side still has its form and can still write to her.
    for staff in (shop.client, sam.client):
        shop_side = await page(staff, thread)
        assert SEND_FORM in shop_side and NO_REPLY not in shop_side
    assert (await send(shop.client, conversation_id, "Please stop.")).status_code == 201

    await sam.client.delete(f"{API}/users/jane/block")
    assert SEND_FORM in await page(jane.client, thread)
    detail = (await jane.client.get(f"{API}/conversations/{conversation_id}")).json()
    assert detail["can_send"] is True


async def test_the_compose_page_to_a_shop_that_blocked_you_shows_a_note(
    seller: SellerMaker, person: PersonMaker
) -> None:
    shop = await seller("olivia", "acme")
    jane = await person("jane")
    assert SEND_FORM in await page(jane.client, "/inbox/new?shop=acme")
    assert (await shop.client.post(f"{API}/users/jane/block")).status_code == 200

    compose = await page(jane.client, "/inbox/new?shop=acme")
    assert "You can't message Acme Goods." in compose and SEND_FORM not in compose
    refused = await jane.client.post("/inbox/new", data={"shop": "acme", "text": "hi"})
    assert refused.status_code == 403 and SEND_FORM not in refused.text
    assert_problem(
        await jane.client.post(f"{API}/conversations", json={"shop": "acme", "text": "x"}),
        403,
        "blocked",
    )
    assert await count(Message) == 0
    # The shop's own staff are not "blocked" from their shop (that is the 422 for oneself).
    own = await page(shop.client, "/inbox/new?shop=acme")
    assert SEND_FORM in own and "can't message" not in own


async def test_the_compose_page_between_two_people_with_a_block_shows_a_note(
    person: PersonMaker,
) -> None:
    anna, bobby, carl = await person("anna"), await person("bobby"), await person("carl")
    assert (await bobby.client.post(f"{API}/users/anna/block")).status_code == 200

    # Either way round: the blocked person, and the one who blocked.
    for sender, to in ((anna, "bobby"), (bobby, "anna")):
        compose = await page(sender.client, f"/inbox/new?to={to}")
        assert "You can't message" in compose and SEND_FORM not in compose
        refused = await sender.client.post("/inbox/new", data={"to": to, "text": "hi"})
        assert refused.status_code == 403 and SEND_FORM not in refused.text
    assert await count(Message) == 0
    # Anyone else still gets the form.
    assert SEND_FORM in await page(carl.client, "/inbox/new?to=anna")
