"""The commerce pages served by the server, without JavaScript: cart forms, the address book,
checkout, the buyer's orders and their actions, the seller center's orders, returns, deals and
coupons, and the Inbox. Other people's orders are a 404."""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta
from typing import Any

from PIL import Image

from clipcart.commerce.models import Order
from clipcart.core import clock
from clipcart.core.db import get_sessionmaker
from tests.api.test_accounts_auth import API, new_client, signup
from tests.api.test_pages import HTML
from tests.commerce_factories import (
    BuyerMaker,
    SellerMaker,
    add_to_cart,
    buyer,
    commerce_sandbox,
    place_paid_order,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "seller"]  # fixtures used here


def _form(**fields: Any) -> dict[str, str]:
    return {key: str(value) for key, value in fields.items()}


async def _order(order_id: str) -> Order:
    async with get_sessionmaker()() as session:
        order = await session.get(Order, uuid.UUID(order_id))
        assert order is not None
        return order


async def test_a_visitor_adds_to_the_cart_without_javascript(app: Any, seller: SellerMaker) -> None:
    shop = await seller("olivia", "acme", stock=5, price=2500)
    async with new_client(app) as visitor:
        empty = await visitor.get("/cart", headers=HTML)
        assert empty.status_code == 200
        assert "Your cart is empty" in empty.text
        csrf = (await visitor.get(f"{API}/auth/csrf")).json()["csrf_token"]
        added = await visitor.post(
            "/cart/items",
            data=_form(csrf_token=csrf, variant=shop.variant_id, quantity=2, action="cart"),
        )
        assert added.status_code == 303 and added.headers["location"] == "/cart"
        page = await visitor.get("/cart", headers=HTML)
        assert "Glow Serum" in page.text and "$50.00" in page.text
        assert "Acme Goods" in page.text
        # Buy now without JavaScript goes to checkout (which asks a visitor to log in).
        buy = await visitor.post(
            "/cart/items",
            data=_form(csrf_token=csrf, variant=shop.variant_id, quantity=1, action="buy"),
        )
        assert buy.status_code == 303
        assert buy.headers["location"] == f"/checkout?variant={shop.variant_id}&quantity=1"
        checkout = await visitor.get(buy.headers["location"], headers=HTML)
        assert checkout.status_code == 303 and checkout.headers["location"].startswith("/login?")


async def test_cart_steppers_save_for_later_and_remove(
    app: Any, seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller("olivia", "acme", stock=3, price=1000)
    jane = await buyer("jane")
    cart = (await add_to_cart(jane.client, shop.variant_id, 1)).json()
    item_id = cart["shops"][0]["items"][0]["id"]
    more = await jane.client.post(f"/cart/items/{item_id}", data={"quantity": "3"})
    assert more.status_code == 303
    page = await jane.client.get("/cart", headers=HTML)
    assert "$30.00" in page.text
    # Past the stock: the page says how many are possible and nothing changes.
    too_many = await jane.client.post(f"/cart/items/{item_id}", data={"quantity": "4"})
    assert too_many.status_code == 303
    page = await jane.client.get("/cart", headers=HTML)
    assert re.search(r"3 or fewer|Only 3", page.text), page.text
    assert (await jane.client.get(f"{API}/cart")).json()["item_count"] == 3
    saved = await jane.client.post(f"/cart/items/{item_id}", data={"saved_for_later": "1"})
    assert saved.status_code == 303
    data = (await jane.client.get(f"{API}/cart")).json()
    assert data["item_count"] == 0 and len(data["saved_for_later"]) == 1
    page = await jane.client.get("/cart", headers=HTML)
    assert "Saved for later" in page.text and "Move to cart" in page.text
    back = await jane.client.post(f"/cart/items/{item_id}", data={"saved_for_later": "0"})
    assert back.status_code == 303
    assert (await jane.client.get(f"{API}/cart")).json()["item_count"] == 3
    removed = await jane.client.post(f"/cart/items/{item_id}/remove")
    assert removed.status_code == 303
    assert (await jane.client.get(f"{API}/cart")).json()["item_count"] == 0
    # Someone else's line is a 404.
    async with new_client(app) as other:
        await signup(other, "mallory")
        cart = (await add_to_cart(jane.client, shop.variant_id, 1)).json()
        theirs = cart["shops"][0]["items"][0]["id"]
        refused = await other.post(f"/cart/items/{theirs}/remove", headers=HTML)
        assert refused.status_code == 404


async def test_the_address_book_validates_each_field(app: Any, buyer: BuyerMaker) -> None:
    jane = await buyer("jane", with_address=False, card=None)
    page = await jane.client.get("/settings/addresses", headers=HTML)
    assert page.status_code == 200 and "No saved addresses yet" in page.text
    bad = await jane.client.post(
        "/settings/addresses",
        data=_form(
            name="Jane",
            line1="1 Market St",
            city="San Francisco",
            region="ZZ",
            postal_code="9410",
            country="US",
        ),
        headers=HTML,
    )
    assert bad.status_code == 422
    assert 'id="f-postal_code-error"' in bad.text and 'id="f-region-error"' in bad.text
    assert "ZIP" in bad.text
    good = await jane.client.post(
        "/settings/addresses",
        data=_form(
            name="Jane",
            line1="1 Market St",
            city="San Francisco",
            region="CA",
            postal_code="94103",
            country="US",
        ),
    )
    assert good.status_code == 303
    second = await jane.client.post(
        "/settings/addresses",
        data=_form(
            name="Jane",
            line1="10 Downing St",
            city="London",
            postal_code="sw1a 2aa",
            country="GB",
        ),
    )
    assert second.status_code == 303
    listed = (await jane.client.get(f"{API}/addresses")).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert len(items) == 2
    london = next(item for item in items if item["city"] == "London")
    assert london["postal_code"] == "SW1A 2AA"
    made = await jane.client.post(f"/settings/addresses/{london['id']}/default")
    assert made.status_code == 303
    page = await jane.client.get("/settings/addresses", headers=HTML)
    assert page.text.index("10 Downing St") < page.text.index("1 Market St")
    deleted = await jane.client.post(f"/settings/addresses/{london['id']}/delete")
    assert deleted.status_code == 303
    async with new_client(app) as other:
        await signup(other, "mallory")
        theirs = items[0]["id"]
        refused = await other.post(f"/settings/addresses/{theirs}/delete", headers=HTML)
        assert refused.status_code == 404


async def test_the_checkout_page_offers_saved_addresses_and_cards(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller("olivia", "acme", stock=3, price=1000)
    jane = await buyer("jane")
    page = await jane.client.get(f"/checkout?variant={shop.variant_id}&quantity=2", headers=HTML)
    assert page.status_code == 200
    assert "1 Market St" in page.text and "ending 4242" in page.text
    assert f'"variant_id": "{shop.variant_id}"' in page.text
    assert "js/commerce/checkout.js" in page.text
    newcomer = await buyer("newbie", with_address=False, card=None)
    page = await newcomer.client.get("/checkout", headers=HTML)
    assert page.status_code == 200
    assert 'id="address-form" novalidate>' in page.text  # shown: nothing saved yet
    assert 'id="card-form" novalidate>' in page.text
    # Until the script listens, the forms cannot be sent (a native GET would put the address
    # in the URL): every submit button comes disabled, for checkout.js to enable.
    submits = re.findall(r"<button[^>]*type=\"submit\"[^>]*>", page.text)
    assert len(submits) == 3 and all("disabled data-script-enables" in tag for tag in submits)


async def test_buyer_orders_ship_confirm_and_return_through_the_pages(
    app: Any, seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller("olivia", "acme", stock=5, price=2500)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane, quantity=2)
    listing = await jane.client.get("/orders", headers=HTML)
    assert listing.status_code == 200
    assert order["number"] in listing.text and "Paid" in listing.text
    detail = await jane.client.get(f"/orders/{order['id']}", headers=HTML)
    assert detail.status_code == 200
    assert "Cancel order" in detail.text and "1 Market St" in detail.text
    assert "Order placed" in detail.text

    # Another buyer, and a visitor, cannot see it.
    async with new_client(app) as other:
        await signup(other, "mallory")
        assert (await other.get(f"/orders/{order['id']}", headers=HTML)).status_code == 404
        assert (await other.get(f"/orders/{uuid.uuid4()}", headers=HTML)).status_code == 404
        assert (
            await other.get(f"/seller/{shop.shop_handle}/orders/{order['id']}", headers=HTML)
        ).status_code == 404
    async with new_client(app) as visitor:
        anonymous = await visitor.get(f"/orders/{order['id']}", headers=HTML)
        assert anonymous.status_code == 303

    # The seller sees it, ships it from the list in bulk with a bad and a good row.
    orders_page = await shop.client.get(f"/seller/{shop.shop_handle}/orders", headers=HTML)
    assert orders_page.status_code == 200 and order["number"] in orders_page.text
    assert f"/api/v1/shops/{shop.shop_handle}/orders.csv" in orders_page.text
    bad = await shop.client.post(
        f"/seller/{shop.shop_handle}/orders/ship",
        data={
            "order_id": order["id"],
            f"carrier-{order['id']}": "ups",
            f"tracking-{order['id']}": "x",
        },
    )
    assert bad.status_code == 303
    flashed = await shop.client.get(bad.headers["location"], headers=HTML)
    assert "0 shipped, 1 not" in flashed.text and "tracking number" in flashed.text
    assert (await _order(order["id"])).status == "paid"
    shipped = await shop.client.post(
        f"/seller/{shop.shop_handle}/orders/ship",
        data={
            "order_id": order["id"],
            f"carrier-{order['id']}": "ups",
            f"tracking-{order['id']}": "1Z999AA10123456784",
        },
    )
    assert shipped.status_code == 303
    assert (await _order(order["id"])).status == "shipped"
    filtered = await shop.client.get(
        f"/seller/{shop.shop_handle}/orders?status=shipped&q={order['number']}", headers=HTML
    )
    assert order["number"] in filtered.text
    none = await shop.client.get(f"/seller/{shop.shop_handle}/orders?status=paid", headers=HTML)
    assert order["number"] not in none.text

    detail = await jane.client.get(f"/orders/{order['id']}", headers=HTML)
    assert "1Z999AA10123456784" in detail.text and "UPS" in detail.text
    assert "Confirm delivery" in detail.text and "Cancel order" not in detail.text
    confirmed = await jane.client.post(f"/orders/{order['id']}/confirm-delivery")
    assert confirmed.status_code == 303
    assert (await _order(order["id"])).status == "delivered"
    again = await jane.client.post(f"/orders/{order['id']}/confirm-delivery", headers=HTML)
    assert again.status_code == 409

    # A return of one of the two, with a reason; more than bought is refused.
    form = await jane.client.get(f"/orders/{order['id']}/return", headers=HTML)
    assert form.status_code == 200 and "Request the return" in form.text
    line_id = order["lines"][0]["id"]
    nothing = await jane.client.post(
        f"/orders/{order['id']}/return", data={"reason": "damaged"}, headers=HTML
    )
    assert nothing.status_code == 422 and "Choose at least one item" in nothing.text
    requested = await jane.client.post(
        f"/orders/{order['id']}/return",
        data={f"qty-{line_id}": "1", "reason": "damaged", "details": "Cracked cap"},
    )
    assert requested.status_code == 303
    returns_page = await shop.client.get(f"/seller/{shop.shop_handle}/returns", headers=HTML)
    assert "Cracked cap" in returns_page.text and "It arrived damaged" in returns_page.text
    return_id = re.search(r"/returns/([0-9a-f-]{36})/approve", returns_page.text)
    assert return_id
    approved = await shop.client.post(
        f"/seller/{shop.shop_handle}/returns/{return_id.group(1)}/approve"
    )
    assert approved.status_code == 303
    received = await shop.client.post(
        f"/seller/{shop.shop_handle}/returns/{return_id.group(1)}/received"
    )
    assert received.status_code == 303
    refunded = await _order(order["id"])
    assert refunded.refunded == 2500
    detail = await jane.client.get(f"/orders/{order['id']}", headers=HTML)
    assert "Refunded" in detail.text


async def test_cancelling_a_paid_order_refunds_it(seller: SellerMaker, buyer: BuyerMaker) -> None:
    shop = await seller("olivia", "acme", stock=5, price=2500)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    cancelled = await jane.client.post(f"/orders/{order['id']}/cancel", data={"reason": ""})
    assert cancelled.status_code == 303
    stored = await _order(order["id"])
    assert stored.status == "cancelled" and stored.refunded == stored.total
    page = await jane.client.get(f"/orders/{order['id']}", headers=HTML)
    assert "Cancelled" in page.text and "money is on its way back" in page.text

    other = await place_paid_order(shop, jane)
    no_reason = await shop.client.post(
        f"/seller/{shop.shop_handle}/orders/{other['id']}/cancel",
        data={"reason": " "},
        headers=HTML,
    )
    assert no_reason.status_code == 422 and "Tell the buyer why" in no_reason.text
    assert (await _order(other["id"])).status == "paid"
    by_shop = await shop.client.post(
        f"/seller/{shop.shop_handle}/orders/{other['id']}/cancel",
        data={"reason": "Out of stock at the warehouse"},
    )
    assert by_shop.status_code == 303
    assert (await _order(other["id"])).cancel_reason == "Out of stock at the warehouse"


async def test_seller_deals_and_coupons_pages(seller: SellerMaker) -> None:
    shop = await seller("olivia", "acme", stock=20, price=2500)
    page = await shop.client.get(f"/seller/{shop.shop_handle}/deals", headers=HTML)
    assert page.status_code == 200 and "New flash deal" in page.text
    too_dear = await shop.client.post(
        f"/seller/{shop.shop_handle}/deals",
        data=_form(
            variant_id=shop.variant_id,
            deal_price="30.00",
            quantity=5,
            starts_at="",
            ends_at="2099-01-01T10:00",
        ),
        headers=HTML,
    )
    assert too_dear.status_code == 422
    made = await shop.client.post(
        f"/seller/{shop.shop_handle}/deals",
        data=_form(
            variant_id=shop.variant_id,
            deal_price="19.99",
            quantity=5,
            starts_at="",
            ends_at=(clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            per_buyer_limit=2,
        ),
    )
    assert made.status_code == 303, made.text
    deal = (await shop.client.get(f"{API}/variants/{shop.variant_id}/deal")).json()
    assert deal["deal_price"] == 1999 and deal["remaining"] == 5
    page = await shop.client.get(f"/seller/{shop.shop_handle}/deals", headers=HTML)
    assert "$19.99" in page.text and "0 / 5" in page.text

    coupons = await shop.client.get(f"/seller/{shop.shop_handle}/coupons", headers=HTML)
    assert coupons.status_code == 200
    saved = await shop.client.post(
        f"/seller/{shop.shop_handle}/coupons",
        data=_form(code="save10", kind="percent", value="10", min_spend="20"),
    )
    assert saved.status_code == 303, saved.text
    listed = await shop.client.get(f"/seller/{shop.shop_handle}/coupons", headers=HTML)
    assert "SAVE10" in listed.text and "10% off" in listed.text
    coupon_id = re.search(r"/coupons/([0-9a-f-]{36})/deactivate", listed.text)
    assert coupon_id
    off = await shop.client.post(
        f"/seller/{shop.shop_handle}/coupons/{coupon_id.group(1)}/deactivate"
    )
    assert off.status_code == 303
    assert "Inactive" in (await shop.client.get(f"/seller/{shop.shop_handle}/coupons")).text


async def test_the_inbox_lists_notifications_and_marks_them_read(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller("olivia", "acme", stock=5, price=2500)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    inbox = await shop.client.get("/notifications", headers=HTML)
    assert inbox.status_code == 200
    assert order["number"] in inbox.text and "unread" in inbox.text
    note_id = re.search(r"/notifications/([0-9a-f-]{36})/open", inbox.text)
    assert note_id
    opened = await shop.client.post(f"/notifications/{note_id.group(1)}/open")
    assert opened.status_code == 303
    read_all = await shop.client.post("/notifications/read-all")
    assert read_all.status_code == 303
    assert (await shop.client.get(f"{API}/notifications/unread-count")).json()["unread"] == 0
    assert "all caught up" in (await shop.client.get("/notifications", headers=HTML)).text


async def test_pages_answer_a_friendly_404_for_unknown_ids(buyer: BuyerMaker) -> None:
    jane = await buyer("jane")
    for path in ("/orders/not-a-uuid", f"/orders/{uuid.uuid4()}/return"):
        response = await jane.client.get(path, headers=HTML)
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]


async def test_the_seller_ships_one_order_from_its_page(
    app: Any, seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller("olivia", "acme", stock=5, price=2500)
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    path = f"/seller/{shop.shop_handle}/orders/{order['id']}"
    page = await shop.client.get(path, headers=HTML)
    assert page.status_code == 200 and "Mark shipped" in page.text and "1 Market St" in page.text
    bad = await shop.client.post(
        f"{path}/ship", data={"carrier": "ups", "tracking_number": "12"}, headers=HTML
    )
    assert bad.status_code == 422
    assert 'id="f-tracking-error"' in bad.text and "6 to 40 letters" in bad.text
    assert (await _order(order["id"])).status == "paid"
    good = await shop.client.post(
        f"{path}/ship", data={"carrier": "dhl", "tracking_number": "JD 0146 0000 3345"}
    )
    assert good.status_code == 303
    stored = await _order(order["id"])
    assert stored.status == "shipped" and stored.tracking_number == "JD014600003345"
    again = await shop.client.post(
        f"{path}/ship", data={"carrier": "dhl", "tracking_number": "JD014600003345"}, headers=HTML
    )
    assert again.status_code == 409
    # A member of another shop gets a 404 for this shop's order pages.
    other = await seller("oscar", "other", stock=1)
    assert (await other.client.get(path, headers=HTML)).status_code == 404
    assert (
        await other.client.get(f"/seller/{other.shop_handle}/orders/{order['id']}", headers=HTML)
    ).status_code == 404


async def test_the_seller_filters_orders_by_the_day_they_were_placed(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller("olivia", "acme", stock=5, price=2500)
    jane = await buyer("jane")
    older = await place_paid_order(shop, jane)
    newer = await place_paid_order(shop, jane)
    async with get_sessionmaker()() as session:
        row = await session.get(Order, uuid.UUID(older["id"]))
        assert row is not None
        row.created_at = clock.now() - timedelta(days=3)
        await session.commit()
    today = clock.now().date()
    path = f"/seller/{shop.shop_handle}/orders"

    recent = await shop.client.get(f"{path}?from={today - timedelta(days=1)}", headers=HTML)
    assert newer["number"] in recent.text and older["number"] not in recent.text
    assert f"from={today - timedelta(days=1)}" in recent.text  # the CSV export keeps the range
    early = await shop.client.get(f"{path}?to={today - timedelta(days=2)}", headers=HTML)
    assert older["number"] in early.text and newer["number"] not in early.text

    # A date that cannot be read, or a range that ends before it starts, is said and ignored.
    unreadable = await shop.client.get(f"{path}?from=yesterday", headers=HTML)
    assert unreadable.status_code == 200 and "Use a date like" in unreadable.text
    assert older["number"] in unreadable.text and newer["number"] in unreadable.text
    backwards = await shop.client.get(f"{path}?from={today}&to={today - timedelta(days=5)}")
    assert "The last day is before the first day." in backwards.text
    assert older["number"] in backwards.text and newer["number"] in backwards.text


async def test_order_pages_show_each_lines_picture(seller: SellerMaker, buyer: BuyerMaker) -> None:
    shop = await seller("olivia", "acme", stock=5, price=2500)
    picture = io.BytesIO()
    Image.new("RGB", (300, 300), "teal").save(picture, format="PNG")
    uploaded = await shop.client.post(
        f"{API}/products/{shop.product_id}/images",
        files={"file": ("hat.png", picture.getvalue(), "image/png")},
    )
    assert uploaded.status_code == 201, uploaded.text
    jane = await buyer("jane")
    order = await place_paid_order(shop, jane)
    for client, path in (
        (jane.client, f"/orders/{order['id']}"),
        (shop.client, f"/seller/{shop.shop_handle}/orders/{order['id']}"),
    ):
        page = await client.get(path, headers=HTML)
        thumb = re.search(r'<img class="cart-thumb" src="([^"]+)"', page.text)
        assert thumb, path
        served = await client.get(thumb.group(1))
        assert served.status_code == 200 and served.content[8:12] == b"WEBP"
