"""Messages pages without JavaScript: the entry buttons (profile, product, order), starting a
conversation, the thread and its send form (POST then redirect), the inbox with a tab per shop,
and errors shown in the page."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from clipcart.messaging.models import Message
from tests.api.test_accounts_auth import API
from tests.api.test_messaging import add_staff, count, start
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

HTML = {"Accept": "text/html"}


def hidden(page: str, name: str) -> str:
    """The value of a hidden input of the page."""
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    assert found, f"no hidden {name}"
    return found.group(1)


async def test_asking_a_shop_from_a_product_and_answering_from_the_shop_inbox(
    seller: SellerMaker, buyer: BuyerMaker, person: PersonMaker
) -> None:
    shop = await seller("olivia", "acme")
    sam = await person("sam")
    await add_staff(shop, "sam")
    jane = await buyer("jane")

    product_page = await jane.client.get(f"/p/{shop.product_id}", headers=HTML)
    ask = f"/inbox/new?shop=acme&amp;product={shop.product_id}"
    assert f'href="{ask}">Ask the shop</a>' in product_page.text
    own_product = await shop.client.get(f"/p/{shop.product_id}", headers=HTML)
    assert "Ask the shop" not in own_product.text

    form = await jane.client.get(ask.replace("&amp;", "&"), headers=HTML)
    assert form.status_code == 200
    assert "Ask Acme Goods" in form.text and "Glow Serum" in form.text
    assert hidden(form.text, "product") == str(shop.product_id)
    sent = await jane.client.post(
        "/inbox/new",
        data={
            "shop": "acme",
            "product": str(shop.product_id),
            "text": "Is it vegan?",
            "client_id": hidden(form.text, "client_id"),
        },
    )
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    assert re.fullmatch(r"/inbox/[0-9a-f-]{36}#latest", location)
    thread_path = location.removesuffix("#latest")

    thread = await jane.client.get(thread_path, headers=HTML)
    assert thread.status_code == 200
    assert "Is it vegan?" in thread.text
    assert f'href="/p/{shop.product_id}"' in thread.text  # the product card

    seller_inbox = await sam.client.get("/inbox", headers=HTML)
    assert 'href="/inbox?shop=acme"' in seller_inbox.text  # a tab per shop they work for
    assert re.search(r"Acme Goods <span class=\"message-count\">1<", seller_inbox.text)
    shop_inbox = await sam.client.get("/inbox?shop=acme", headers=HTML)
    assert f'href="{thread_path}"' in shop_inbox.text and "Is it vegan?" in shop_inbox.text
    opened = await sam.client.get(thread_path, headers=HTML)
    assert "you answer as the shop" in opened.text
    answered = await sam.client.post(
        thread_path,
        data={"text": "Yes, it is.", "client_id": hidden(opened.text, "client_id")},
    )
    assert answered.status_code == 303 and answered.headers["location"] == location

    mine = await jane.client.get("/inbox", headers=HTML)
    assert f'href="{thread_path}"' in mine.text and "Yes, it is." in mine.text
    assert 'class="message-count">1<' in mine.text
    final = (await jane.client.get(thread_path, headers=HTML)).text
    assert final.index("Is it vegan?") < final.index("Yes, it is.")  # oldest at the top
    assert 'class="message-count">1<' not in (await jane.client.get("/inbox", headers=HTML)).text
    badge = await jane.client.get(f"{API}/me/unread-messages")
    assert badge.json() == {"unread": 0}


async def test_the_send_form_shows_errors_and_a_double_submit_sends_once(
    person: PersonMaker,
) -> None:
    anna, _ = await person("anna"), await person("bobby")
    started = await start(anna.client, to="bobby", text="hello")
    path = f"/inbox/{started['conversation']['id']}"
    page = (await anna.client.get(path, headers=HTML)).text
    client_id = hidden(page, "client_id")

    empty = await anna.client.post(path, data={"text": "   ", "client_id": client_id})
    assert empty.status_code == 422
    assert "Write a message before sending." in empty.text
    too_long = await anna.client.post(path, data={"text": "x" * 2001, "client_id": client_id})
    assert too_long.status_code == 422 and "at most 2,000 characters" in too_long.text
    assert "x" * 2001 in too_long.text  # what they typed is kept
    assert await count(Message) == 1

    for _ in range(2):
        again = await anna.client.post(path, data={"text": "twice?", "client_id": client_id})
        assert again.status_code == 303
    assert await count(Message) == 2

    await anna.client.post(f"{API}/users/bobby/block")
    blocked = await anna.client.post(path, data={"text": "hi", "client_id": str(uuid.uuid4())})
    assert blocked.status_code in (403, 404)
    assert await count(Message) == 2


async def test_starting_errors_are_shown_on_the_form(person: PersonMaker) -> None:
    anna = await person("anna")
    await person("bobby")
    form = await anna.client.get("/inbox/new?to=bobby", headers=HTML)
    assert form.status_code == 200 and "Message bobby" in form.text
    refused = await anna.client.post("/inbox/new", data={"to": "bobby", "text": ""})
    assert refused.status_code == 422 and "Write a message before sending." in refused.text
    yourself = await anna.client.post("/inbox/new", data={"to": "anna", "text": "me"})
    assert yourself.status_code == 422 and "cannot message yourself" in yourself.text
    nobody = await anna.client.get("/inbox/new?to=nobody", headers=HTML)
    assert nobody.status_code == 404
    assert (await anna.client.get("/inbox/new", headers=HTML)).status_code == 404
    for odd in ("/inbox/new?shop=a%00b", "/inbox?shop=%00", "/inbox/new?to=%00"):
        assert (await anna.client.get(odd, headers=HTML)).status_code == 404
    assert await count(Message) == 0


async def test_entry_points_and_who_may_open_a_thread(
    app: Any,
    client: httpx.AsyncClient,
    seller: SellerMaker,
    buyer: BuyerMaker,
    person: PersonMaker,
) -> None:
    shop = await seller("olivia", "acme", stock=3)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)

    order_page = await jane.client.get(f"/orders/{order['id']}", headers=HTML)
    contact = f"/inbox/new?shop=acme&amp;order={order['id']}"
    assert f'href="{contact}">Contact the shop</a>' in order_page.text
    form = await jane.client.get(contact.replace("&amp;", "&"), headers=HTML)
    assert order["number"] in form.text and hidden(form.text, "order") == order["id"]
    sent = await jane.client.post(
        "/inbox/new", data={"shop": "acme", "order": order["id"], "text": "Where is it?"}
    )
    assert sent.status_code == 303
    thread_path = sent.headers["location"].removesuffix("#latest")
    seller_view = await shop.client.get(thread_path, headers=HTML)
    assert f'href="/seller/acme/orders/{order["id"]}"' in seller_view.text

    profile = await jane.client.get("/@olivia", headers=HTML)
    assert 'href="/inbox/new?to=olivia">Message</a>' in profile.text
    assert ">Message</a>" not in (await jane.client.get("/@jane", headers=HTML)).text
    home = await jane.client.get("/shop", headers=HTML)
    header = home.text[home.text.index('<header class="topbar">') : home.text.index("</header>")]
    assert 'href="/inbox" title="Messages">' in header and "data-messages-badge hidden" in header
    assert "data-messages-badge" not in (await client.get("/shop", headers=HTML)).text

    stranger = await person("carl")
    assert (await stranger.client.get(thread_path, headers=HTML)).status_code == 404
    refused = await stranger.client.post(thread_path, data={"text": "hi"})
    assert refused.status_code == 404
    assert (await stranger.client.get("/inbox?shop=acme", headers=HTML)).status_code == 404
    anonymous = await client.get(thread_path, headers=HTML)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert await count(Message) == 1


async def test_the_notifications_inbox_links_to_messages_with_the_unread_count(
    person: PersonMaker,
) -> None:
    anna, bob = await person("anna"), await person("bobby")
    before = await bob.client.get("/notifications")
    assert 'href="/inbox">Messages</a>' in before.text  # no count while nothing waits
    await start(anna.client, to="bobby", text="hi there")
    after = await bob.client.get("/notifications")
    assert re.search(r'href="/inbox">Messages <span class="message-count">1<', after.text)


async def test_the_inbox_tab_holds_activity_and_messages(person: PersonMaker) -> None:
    anna, bob = await person("anna"), await person("bobby")
    await start(anna.client, to="bobby", text="hi there")
    page = await bob.client.get("/inbox")
    assert page.status_code == 200
    assert '<a class="tab tab-inbox" href="/inbox" aria-current="page">' in page.text
    activity = page.text.index('aria-label="Activity"')
    conversations = page.text.index('aria-label="Conversations"')
    assert activity < conversations and 'href="/notifications"' in page.text
    assert "hi there" in page.text[conversations:]
