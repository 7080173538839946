"""Direct messages through the API: people to people and people to shops (whose staff share
the shop's side), unread counts and read marks, idempotent retries, and every refusal."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from clipcart.core.db import unit_of_work
from clipcart.messaging.models import Conversation, Message
from clipcart.notifications.models import Notification
from tests.api.test_accounts_auth import API, assert_problem
from tests.api.test_social_likes import Person, PersonMaker, person
from tests.commerce_factories import (
    BuyerMaker,
    Seller,
    SellerMaker,
    buyer,
    commerce_sandbox,
    seller,
)
from tests.services import require_postgres

__all__ = ["buyer", "commerce_sandbox", "person", "seller"]


async def start(client: httpx.AsyncClient, expect: int = 201, **body: Any) -> dict[str, Any]:
    """POST /conversations; asserts the status."""
    body.setdefault("text", "Hello!")
    response = await client.post(f"{API}/conversations", json=_jsonable(body))
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data


async def send(
    client: httpx.AsyncClient, conversation_id: str, text: str, **body: Any
) -> httpx.Response:
    """POST /conversations/{id}/messages."""
    payload = _jsonable({"text": text, **body})
    return await client.post(f"{API}/conversations/{conversation_id}/messages", json=payload)


def _jsonable(body: dict[str, Any]) -> dict[str, Any]:
    return {
        key: str(value) if isinstance(value, uuid.UUID) else value for key, value in body.items()
    }


async def inbox(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """GET /conversations (one page of 100)."""
    response = await client.get(f"{API}/conversations", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def unread(client: httpx.AsyncClient) -> int:
    """The header badge's count."""
    response = await client.get(f"{API}/me/unread-messages")
    assert response.status_code == 200, response.text
    return int(response.json()["unread"])


async def message_notifications(user_id: uuid.UUID) -> list[Notification]:
    """The user's "new messages" notifications."""
    async with unit_of_work() as session:
        rows = await session.scalars(
            select(Notification).where(
                Notification.user_id == user_id, Notification.kind == "new_messages"
            )
        )
        return list(rows)


async def count(model: Any) -> int:
    """Rows in a table."""
    async with unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def add_staff(shop: Seller, handle: str) -> None:
    """Add a person to the seller's shop as fulfilment staff."""
    response = await shop.client.post(
        f"{API}/shops/{shop.shop_handle}/staff", json={"user_handle": handle, "role": "fulfilment"}
    )
    assert response.status_code == 201, response.text


async def test_a_buyer_asks_a_shop_and_its_staff_answer_as_the_shop(
    seller: SellerMaker, buyer: BuyerMaker, person: PersonMaker
) -> None:
    shop = await seller("olivia", "acme")
    sam = await person("sam")
    await add_staff(shop, "sam")
    jane = await buyer("jane")

    started = await start(
        jane.client, shop="acme", text="  Is this serum\x00 vegan?  ", product_id=shop.product_id
    )
    conversation_id = started["conversation"]["id"]
    message = started["message"]
    assert message["text"] == "Is this serum vegan?"  # trimmed, control characters removed
    assert message["mine"] is True and message["as_shop"] is False
    assert message["product"]["id"] == str(shop.product_id)
    assert message["product"]["url"] == f"/p/{shop.product_id}"
    assert started["conversation"]["other"]["kind"] == "shop"
    assert started["conversation"]["other"]["handle"] == "acme"
    assert started["conversation"]["unread"] == 0

    # The shop's side is shared: every staff member sees it unread, and is notified once.
    for staff in (shop.client, sam.client):
        [row] = await inbox(staff, shop="acme")
        assert row["id"] == conversation_id and row["unread"] == 1 and row["as_shop"] == "acme"
        assert row["other"] == {
            "kind": "person",
            "id": str(jane.id),
            "handle": "jane",
            "name": row["other"]["name"],
            "avatar_url": None,
            "url": "/@jane",
        }
        assert row["last_message_preview"] == "Is this serum vegan?"
        assert await unread(staff) == 1
    assert await inbox(shop.client) == []  # not olivia's personal conversation
    assert len(await message_notifications(shop.id)) == 1
    assert len(await message_notifications(sam.id)) == 1

    again = await start(jane.client, shop="@acme", text="Also, does it ship to Canada?")
    assert again["conversation"]["id"] == conversation_id  # one conversation per pair
    assert again["message"]["seq"] == 2
    assert len(await message_notifications(sam.id)) == 1  # no pile of notifications
    assert await unread(sam.client) == 2

    opened = await sam.client.get(f"{API}/conversations/{conversation_id}")
    assert opened.status_code == 200, opened.text
    assert [m["seq"] for m in opened.json()["messages"]] == [2, 1]  # newest first
    assert opened.json()["unread"] == 0
    assert await unread(shop.client) == 0  # read for the whole shop side
    assert [n.read_at is not None for n in await message_notifications(sam.id)] == [True]

    answer = await send(sam.client, conversation_id, "Yes, fully vegan, and we ship to Canada.")
    assert answer.status_code == 201, answer.text
    assert answer.json()["mine"] is True and answer.json()["as_shop"] is True
    assert len(await message_notifications(jane.id)) == 1
    assert await message_notifications(shop.id) != []  # the other staff member was told too
    assert len(await message_notifications(shop.id)) == 1  # ... but olivia's is still unread

    [row] = await inbox(jane.client)
    assert row["unread"] == 1 and row["last_message_mine"] is False
    assert row["last_message_preview"] == "Yes, fully vegan, and we ship to Canada."
    assert await unread(jane.client) == 1
    seen = (await jane.client.get(f"{API}/conversations/{conversation_id}")).json()
    newest = seen["messages"][0]
    assert newest["as_shop"] is True and newest["mine"] is False
    assert await unread(jane.client) == 0

    olivia_view = (await shop.client.get(f"{API}/conversations/{conversation_id}")).json()
    assert olivia_view["messages"][0]["mine"] is True  # sent by the shop's side
    assert olivia_view["messages"][0]["sender_handle"] == "sam"


async def test_read_marks_and_the_read_call(person: PersonMaker) -> None:
    anna, bob = await person("anna"), await person("bobby")
    conversation_id = (await start(anna.client, to="@bobby", text="one"))["conversation"]["id"]
    for text in ("two", "three"):
        assert (await send(anna.client, conversation_id, text)).status_code == 201
    assert await unread(bob.client) == 3
    assert await unread(anna.client) == 0  # your own messages are never unread to you
    read = await bob.client.post(f"{API}/conversations/{conversation_id}/read")
    assert read.status_code == 200 and read.json() == {"unread": 0}
    assert await unread(bob.client) == 0
    await send(bob.client, conversation_id, "hi back")
    assert await unread(anna.client) == 1
    async with unit_of_work() as session:
        conversation = await session.get(Conversation, uuid.UUID(conversation_id))
        assert conversation is not None and conversation.last_seq == 4


async def test_the_list_puts_the_newest_activity_first_and_pages(
    person: PersonMaker, seller: SellerMaker
) -> None:
    await seller("olivia", "acme")
    jane = await person("jane")
    others = [await person(handle) for handle in ("anna", "bobby", "carla")]
    ids = {}
    for other in others:
        ids[other.handle] = (await start(jane.client, to=other.handle))["conversation"]["id"]
    ids["acme"] = (await start(jane.client, shop="acme"))["conversation"]["id"]
    assert [row["other"]["handle"] for row in await inbox(jane.client)] == [
        "acme",
        "carla",
        "bobby",
        "anna",
    ]
    assert (await send(others[0].client, ids["anna"], "anna again")).status_code == 201
    rows = await inbox(jane.client)
    assert [row["other"]["handle"] for row in rows] == ["anna", "acme", "carla", "bobby"]
    assert rows[0]["unread"] == 1 and rows[1]["unread"] == 0

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await jane.client.get(f"{API}/conversations", params=params)).json()
        seen += [row["other"]["handle"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["anna", "acme", "carla", "bobby"]
    bad = await jane.client.get(f"{API}/conversations", params={"cursor": "nonsense"})
    assert bad.status_code == 400


async def test_a_retried_send_with_the_same_client_id_is_not_duplicated(
    person: PersonMaker,
) -> None:
    anna, bob = await person("anna"), await person("bobby")
    key = uuid.uuid4()
    first = await start(anna.client, to="bobby", text="Are you coming?", client_id=key)
    retry = await start(anna.client, to="bobby", text="Are you coming?", client_id=key)
    assert retry["message"]["id"] == first["message"]["id"]
    assert retry["conversation"]["id"] == first["conversation"]["id"]
    conversation_id = first["conversation"]["id"]

    key2 = uuid.uuid4()
    sent = [await send(anna.client, conversation_id, "Answer me", client_id=key2) for _ in "ab"]
    assert [r.status_code for r in sent] == [201, 201]
    assert sent[0].json()["id"] == sent[1].json()["id"]
    assert await count(Message) == 2
    assert await unread(bob.client) == 2
    assert len(await message_notifications(bob.id)) == 1

    # The same client_id from someone else is their own message; reused elsewhere it is a 409.
    assert (await send(bob.client, conversation_id, "Yes", client_id=key2)).status_code == 201
    carla = await person("carla")
    await start(carla.client, to="anna")
    other = await start(carla.client, to="bobby", text="x", expect=201)
    elsewhere = await send(anna.client, other["conversation"]["id"], "no", client_id=key)
    assert elsewhere.status_code == 404  # anna is not part of carla and bobby's conversation
    anna_carla = (await inbox(anna.client))[0]["id"]
    assert_problem(
        await send(anna.client, anna_carla, "reuse", client_id=key), 409, "client_id_reused"
    )


@pytest.mark.postgres
async def test_concurrent_first_messages_make_exactly_one_conversation(
    person: PersonMaker,
) -> None:
    require_postgres()
    anna, bob = await person("anna"), await person("bobby")

    async def first(sender: Person, to: str, index: int) -> httpx.Response:
        body = {"to": to, "text": f"hello {index}"}
        return await sender.client.post(f"{API}/conversations", json=body)

    answers = await asyncio.gather(
        *(first(anna, "bobby", index) for index in range(10)),
        *(first(bob, "anna", index) for index in range(10, 20)),
    )
    assert [answer.status_code for answer in answers] == [201] * 20, [a.text for a in answers]
    assert len({answer.json()["conversation"]["id"] for answer in answers}) == 1
    assert await count(Conversation) == 1
    async with unit_of_work() as session:
        seqs = sorted(await session.scalars(select(Message.seq)))
        conversation = await session.scalar(select(Conversation))
    assert seqs == list(range(1, 21))
    assert conversation is not None and conversation.last_seq == 20


@pytest.mark.postgres
async def test_concurrent_retries_of_one_message_store_it_once(person: PersonMaker) -> None:
    require_postgres()
    anna, _ = await person("anna"), await person("bobby")
    conversation_id = (await start(anna.client, to="bobby", text="hi"))["conversation"]["id"]
    key = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(
            send(anna.client, conversation_id, "sent on a bad network", client_id=key)
            for _ in "abcdefgh"
        )
    )
    assert [answer.status_code for answer in answers] == [201] * 8, [a.text for a in answers]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert await count(Message) == 2


async def test_odd_input_is_a_clear_4xx(person: PersonMaker) -> None:
    anna, _ = await person("anna"), await person("bobby")
    conversation_id = (await start(anna.client, to="bobby"))["conversation"]["id"]
    odd_starts: list[Any] = [
        {"to": "", "shop": "", "text": "hi"},
        {"to": 5, "text": "hi"},
        {"to": "bobby", "text": None},
        {"to": "bobby", "text": "hi", "product_id": "not-a-uuid"},
        {"to": "bobby", "text": "hi", "client_id": 12},
        {"to": "@" * 500, "text": "hi"},
        {"shop": "a\x00b", "text": "hi"},
        [],
    ]
    for body in odd_starts:
        answer = await anna.client.post(f"{API}/conversations", json=body)
        assert 400 <= answer.status_code < 500, (body, answer.text)
    odd_reads = [
        f"{API}/conversations/not-a-uuid",
        f"{API}/conversations/{conversation_id}?cursor=eyJ4IjoxfQ",
        f"{API}/conversations/{conversation_id}?cursor=WzEwMDAwMDAwMDAwMDBd",
        f"{API}/conversations/{conversation_id}?limit=0",
        f"{API}/conversations?shop=%00",
        f"{API}/conversations?cursor=W10",
    ]
    for path in odd_reads:
        answer = await anna.client.get(path)
        assert 400 <= answer.status_code < 500, (path, answer.text)
    assert await count(Message) == 1
