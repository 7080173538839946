"""Returns through the API: asking (lines, reason, photos) inside the window, the shop's
decisions, the automatic approval, the refund when the goods come back (ledger, stock, lines)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from clipcart.catalog.models import StockMovement
from clipcart.commerce import domain, return_photos, tasks
from clipcart.commerce.config import get_commerce_settings
from clipcart.commerce.tax_rates import set_tax_rate
from clipcart.core.clock import FrozenClock
from clipcart.core.config import get_settings
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.ledger import service as ledger
from tests.api.test_accounts_auth import API, assert_problem
from tests.api.test_commerce_fulfilment import (
    delivered_order,
    frozen,
    intent_of,
    is_released,
    later,
    ledger_refunds,
    notifications_of,
    order_lines,
    order_row,
    place_paid_order,
    ship,
    stock_of,
)
from tests.commerce_factories import Buyer, BuyerMaker, SellerMaker, buyer, commerce_sandbox, seller

__all__ = ["buyer", "commerce_sandbox", "frozen", "seller"]  # fixtures used here


def picture(size: int = 200, colour: str = "red") -> bytes:
    """A small PNG."""
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format="PNG")
    return out.getvalue()


async def ask_return(
    jane: Buyer,
    order_id: str,
    lines: list[tuple[str, int]],
    *,
    reason: str = "damaged",
    photos: list[bytes] | None = None,
    details: str = "The bottle was cracked.",
) -> httpx.Response:
    """POST a return request as multipart (lines as JSON, photos as files)."""
    data = {
        "lines": json.dumps([{"order_line_id": line, "quantity": q} for line, q in lines]),
        "reason": reason,
        "details": details,
    }
    files = [
        ("photos", (f"p{n}.png", content, "image/png")) for n, content in enumerate(photos or [])
    ]
    return await jane.client.post(
        f"{API}/orders/{order_id}/returns", data=data, files=files or None
    )


async def add_sales_tax() -> None:
    """California sales tax, so line totals do not divide evenly."""
    async with unit_of_work() as session:
        await set_tax_rate(
            "US", "CA", rate_bp=725, name="CA sales tax", included_in_price=False, session=session
        )


def test_line_share_is_proportional_and_the_last_unit_takes_the_remainder() -> None:
    shares = []
    paid = 0
    for before, count in ((0, 1), (1, 1), (2, 1)):
        share = domain.line_share(
            line_total=1000, line_quantity=3, before=before, count=count, paid_before=paid
        )
        shares.append(share)
        paid += share
    assert shares == [333, 333, 334] and sum(shares) == 1000
    assert (
        domain.line_share(line_total=1000, line_quantity=3, before=0, count=2, paid_before=0) == 666
    )
    assert (
        domain.line_share(line_total=1000, line_quantity=3, before=0, count=3, paid_before=0)
        == 1000
    )


async def test_a_partial_return_is_refunded_with_stock_back_and_the_ledger_refund(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    await add_sales_tax()
    shop = await seller(price=999, stock=10)
    jane = await buyer("jane")
    order = await delivered_order(shop, jane, 3)
    [line] = order["lines"]
    line_total = line["total"]["amount"]
    assert line_total == 2997 + 217  # 7.25% of 29.97, rounded half-up
    assert await stock_of(shop.variant_id) == 7

    asked = await ask_return(jane, order["id"], [(line["id"], 1)], photos=[picture(), picture(300)])
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request["status"] == "requested"
    assert request["amount"]["amount"] == line_total // 3 == 1071
    assert request["reason_label"] == "It arrived damaged"
    assert len(request["photos"]) == 2
    photo = await jane.client.get(request["photos"][0])
    assert photo.status_code == 200, photo.text
    assert photo.content[8:12] == b"WEBP"  # re-encoded, metadata dropped
    [asked_notice] = [n for n in await notifications_of(shop.id) if n.kind == "return_requested"]
    assert asked_notice.link == "/seller/acme/returns"
    assert asked_notice.title == f"Return requested for order {order['number']}"

    listed = (await shop.client.get(f"{API}/shops/{shop.shop_handle}/returns")).json()
    assert [item["id"] for item in listed["items"]] == [request["id"]]
    approved = await shop.client.post(f"{API}/returns/{request['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["decided_automatically"] is False

    # while the return is open the order is not completed, even after the window
    later(frozen, days=get_commerce_settings().return_window_days + 1)
    assert await tasks.complete_orders() == 0
    later(frozen, days=-(get_commerce_settings().return_window_days + 1))

    received = await shop.client.post(f"{API}/returns/{request['id']}/received")
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "refunded" and received.json()["refunded_at"]
    stored = await order_row(order["id"])
    assert stored.refunded == 1071 and stored.status == "delivered"
    [stored_line] = await order_lines(order["id"])
    assert stored_line.refunded == 1071
    assert await stock_of(shop.variant_id) == 8
    async with get_sessionmaker()() as session:
        reasons = list(
            await session.scalars(
                select(StockMovement.reason).where(StockMovement.variant_id == shop.variant_id)
            )
        )
    assert reasons.count("return") == 1
    intent = await intent_of(order["id"])
    assert intent.status == "partially_refunded" and intent.amount_refunded == 1071
    [refund] = await ledger_refunds(order["id"])
    assert refund.total >= 1071
    assert "order_refunded" in [n.kind for n in await notifications_of(jane.id)]
    again = await shop.client.post(f"{API}/returns/{request['id']}/received")
    assert_problem(again, 409, "return_wrong_state")
    assert len(await ledger_refunds(order["id"])) == 1

    # the rest comes back too: every unit refunded, the last ones take the remainder
    rest = await ask_return(jane, order["id"], [(line["id"], 2)], reason="changed_mind")
    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"]["amount"] == line_total - 1071
    await shop.client.post(f"{API}/returns/{rest.json()['id']}/approve")
    done = await shop.client.post(f"{API}/returns/{rest.json()['id']}/received")
    assert done.json()["status"] == "refunded"
    stored = await order_row(order["id"])
    assert stored.status == "refunded" and stored.refunded == line_total
    assert (await intent_of(order["id"])).amount_refunded == line_total
    assert await stock_of(shop.variant_id) == 10
    # shipping was not refunded: with nothing left to return it goes to the shop
    assert stored.total - stored.refunded == stored.shipping == 500
    assert await is_released(order["id"])
    async with get_sessionmaker()() as session:
        assert await ledger.verify_ledger(session=session) == []


async def test_completion_after_a_refunded_return_releases_the_rest(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(price=1000, stock=10)
    jane = await buyer("jane")
    order = await delivered_order(shop, jane, 2)
    [line] = order["lines"]
    asked = (await ask_return(jane, order["id"], [(line["id"], 1)])).json()
    await shop.client.post(f"{API}/returns/{asked['id']}/approve")
    await shop.client.post(f"{API}/returns/{asked['id']}/received")
    later(frozen, days=get_commerce_settings().return_window_days, seconds=1)
    assert await tasks.complete_orders() == 1
    assert (await order_row(order["id"])).status == "completed"
    assert await is_released(order["id"])


async def test_return_refusals(seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock) -> None:
    shop = await seller(price=1000, stock=10)
    jane, john = await buyer("jane"), await buyer("john")
    paid = await place_paid_order(shop, jane, 2)
    [paid_line] = paid["lines"]
    assert_problem(
        await ask_return(jane, paid["id"], [(paid_line["id"], 1)]), 409, "order_wrong_state"
    )
    await ship(shop, paid["id"])
    assert_problem(
        await ask_return(jane, paid["id"], [(paid_line["id"], 1)]), 409, "order_wrong_state"
    )
    await jane.client.post(f"{API}/orders/{paid['id']}/confirm-delivery")
    line_id = paid_line["id"]

    too_many = await ask_return(jane, paid["id"], [(line_id, 3)])
    assert_problem(too_many, 422, "return_too_many")
    assert too_many.json()["errors"][0]["message"] == "You can send back at most 2 of Glow Serum."
    split = await ask_return(jane, paid["id"], [(line_id, 1), (line_id, 2)])
    assert_problem(split, 422, "return_too_many")
    assert_problem(
        await ask_return(jane, paid["id"], [(line_id, 1)], reason="bored"), 422, "validation_failed"
    )
    assert_problem(
        await ask_return(jane, paid["id"], [(str(uuid.uuid4()), 1)]), 422, "validation_failed"
    )
    assert_problem(await ask_return(jane, paid["id"], [(line_id, 0)]), 422, "validation_failed")
    bad_json = await jane.client.post(
        f"{API}/orders/{paid['id']}/returns", data={"lines": "nope", "reason": "damaged"}
    )
    assert_problem(bad_json, 422, "validation_failed")
    not_a_picture = await ask_return(jane, paid["id"], [(line_id, 1)], photos=[b"GIF89a nope"])
    assert_problem(not_a_picture, 422, "photo_invalid")
    five = await ask_return(jane, paid["id"], [(line_id, 1)], photos=[picture()] * 5)
    assert_problem(five, 422, "validation_failed")
    assert_problem(await ask_return(john, paid["id"], [(line_id, 1)]), 404, "order_not_found")
    shop_asks = await shop.client.post(
        f"{API}/orders/{paid['id']}/returns",
        data={
            "lines": json.dumps([{"order_line_id": line_id, "quantity": 1}]),
            "reason": "damaged",
        },
    )
    assert_problem(shop_asks, 403, "buyer_only")

    first = await ask_return(jane, paid["id"], [(line_id, 2)])
    assert first.status_code == 201
    already = await ask_return(jane, paid["id"], [(line_id, 1)])
    assert already.json()["errors"][0]["message"] == "Glow Serum is already being returned."

    # a rejected return frees its units; after the window nothing more may be asked
    rejected = await shop.client.post(
        f"{API}/returns/{first.json()['id']}/reject", json={"note": "Used items are not taken back"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (await ask_return(jane, paid["id"], [(line_id, 1)])).status_code == 201


@pytest.fixture
def short_return_window(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A 2-day return window (moving the clock past 7 days would end the logins too)."""
    monkeypatch.setenv("CLIPCART_RETURN_WINDOW_DAYS", "2")
    get_commerce_settings.cache_clear()
    yield 2
    monkeypatch.delenv("CLIPCART_RETURN_WINDOW_DAYS")
    get_commerce_settings.cache_clear()


async def test_return_after_the_window_is_refused(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock, short_return_window: int
) -> None:
    shop = await seller(price=1000, stock=10)
    jane = await buyer("jane")
    order = await delivered_order(shop, jane, 1)
    [line] = order["lines"]
    later(frozen, days=1, hours=23)
    inside = await ask_return(jane, order["id"], [(line["id"], 1)], details="")
    assert inside.status_code == 201, inside.text
    await shop.client.post(f"{API}/returns/{inside.json()['id']}/reject", json={"note": "No"})
    later(frozen, hours=1, seconds=1)
    late = await ask_return(jane, order["id"], [(line["id"], 1)])
    body = assert_problem(late, 422, "return_window_closed")
    assert body["errors"][0]["field"] == "order"


async def test_the_shops_decisions_and_who_may_make_them(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=1000, stock=10)
    other = await seller("oscar", "other")
    jane = await buyer("jane")
    order = await delivered_order(shop, jane, 1)
    [line] = order["lines"]
    request = (await ask_return(jane, order["id"], [(line["id"], 1)])).json()
    url = f"{API}/returns/{request['id']}"

    assert_problem(await other.client.post(f"{url}/approve"), 404, "return_not_found")
    assert_problem(await jane.client.post(f"{url}/approve"), 404, "return_not_found")
    assert_problem(
        await other.client.get(f"{API}/shops/{shop.shop_handle}/returns"), 404, "shop_not_found"
    )
    assert (await other.client.get(f"{API}/shops/{other.shop_handle}/returns")).json()[
        "items"
    ] == []
    assert_problem(await shop.client.post(f"{url}/received"), 409, "return_wrong_state")
    no_note = await shop.client.post(f"{url}/reject", json={"note": "  "})
    assert_problem(no_note, 422, "validation_failed")
    assert no_note.json()["errors"][0]["field"] == "note"
    rejected = await shop.client.post(f"{url}/reject", json={"note": "Worn"})
    assert rejected.json()["decision_note"] == "Worn"
    assert_problem(await shop.client.post(f"{url}/approve"), 409, "return_wrong_state")
    filtered = await shop.client.get(
        f"{API}/shops/{shop.shop_handle}/returns", params={"status": "requested"}
    )
    assert filtered.json()["items"] == []
    seen = (await jane.client.get(f"{API}/orders/{order['id']}/returns")).json()
    assert [item["status"] for item in seen] == ["rejected"]
    assert "return_rejected" in [n.kind for n in await notifications_of(jane.id)]


async def test_unanswered_returns_are_approved_after_48_hours(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(price=1000, stock=10)
    jane = await buyer("jane")
    order = await delivered_order(shop, jane, 1)
    [line] = order["lines"]
    request = (await ask_return(jane, order["id"], [(line["id"], 1)])).json()
    hours = get_commerce_settings().return_answer_hours
    later(frozen, hours=hours - 1)
    assert await tasks.approve_unanswered_returns() == 0
    later(frozen, hours=1)
    assert await tasks.approve_unanswered_returns() == 1
    assert await tasks.approve_unanswered_returns() == 0
    later(frozen, hours=-hours)
    shown = (await jane.client.get(f"{API}/orders/{order['id']}/returns")).json()
    assert shown[0]["id"] == request["id"]
    assert shown[0]["status"] == "approved" and shown[0]["decided_automatically"] is True
    assert "did not answer" in shown[0]["decision_note"]


async def test_a_refund_interrupted_after_receipt_is_finished_by_the_job(
    seller: SellerMaker, buyer: BuyerMaker, monkeypatch: Any
) -> None:
    from clipcart.commerce import payment
    from clipcart.payments.provider import ProviderError

    shop = await seller(price=1000, stock=10)
    jane = await buyer("jane")
    order = await delivered_order(shop, jane, 2)
    [line] = order["lines"]
    request = (await ask_return(jane, order["id"], [(line["id"], 1)])).json()
    await shop.client.post(f"{API}/returns/{request['id']}/approve")
    real = payment.refund_order_amount

    async def provider_down(*args: Any, **kwargs: Any) -> uuid.UUID:
        raise ProviderError("The payment provider failed.")

    monkeypatch.setattr(payment, "refund_order_amount", provider_down)
    received = await shop.client.post(f"{API}/returns/{request['id']}/received")
    assert received.status_code == 200 and received.json()["status"] == "returned"
    assert await stock_of(shop.variant_id) == 9  # the goods are back either way
    monkeypatch.setattr(payment, "refund_order_amount", real)
    assert await tasks.finish_refunds() == 1
    assert (await order_row(order["id"])).refunded == 1000
    assert await tasks.finish_refunds() == 0
    assert len(await ledger_refunds(order["id"])) == 1


async def test_return_photos_are_private_to_the_buyer_the_shop_and_admins(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock, client: httpx.AsyncClient
) -> None:
    shop = await seller(price=999, stock=10)
    jane = await buyer("jane")
    order = await delivered_order(shop, jane, 1)
    [line] = order["lines"]
    asked = await ask_return(jane, order["id"], [(line["id"], 1)], photos=[picture()])
    assert asked.status_code == 201, asked.text
    request = asked.json()
    [url] = request["photos"]
    assert url.startswith(f"/api/v1/returns/{request['id']}/photos/")

    for viewer in (jane.client, shop.client):
        seen = await viewer.get(url)
        assert seen.status_code == 200, seen.text
        assert seen.headers["content-type"] == "image/webp"
        assert seen.headers["cache-control"].startswith("private")
    small_url = url.replace("-1280.webp", "-320.webp")
    small = await jane.client.get(small_url)
    assert small.status_code == 200
    # The pages show the small size from the same private address.
    page = await shop.client.get(f"/seller/{shop.shop_handle}/returns")
    assert page.status_code == 200 and small_url in page.text

    # Nobody else: another buyer, a visitor, or anyone guessing the public media address.
    bob = await buyer("bob")
    assert_problem(await bob.client.get(url), 404, "return_not_found")
    assert (await client.get(url)).status_code == 401
    name = url.rsplit("/", 1)[1]
    assert (await client.get(f"/media/returns/{name}")).status_code == 404
    assert not (get_settings().resolved_media_root / "returns").exists()
    # Only the return's own photos, by their exact names.
    other = url.rsplit("/", 1)[0] + "/" + "0" * 32 + "-1280.webp"
    assert_problem(await jane.client.get(other), 404, "photo_not_found")
    traversal = url.rsplit("/", 1)[0] + "/..%2F..%2Fclipcart.db"
    assert (await jane.client.get(traversal)).status_code == 404


def test_photos_stored_publicly_by_earlier_versions_are_moved_out_of_sight() -> None:
    legacy = return_photos.legacy_photo_directory()
    legacy.mkdir(parents=True, exist_ok=True)
    name = "ab" * 16 + "-1280.webp"
    (legacy / name).write_bytes(b"RIFF....WEBP")
    try:
        assert return_photos.move_legacy_photos() == 1
        assert not (legacy / name).exists()
        assert return_photos.photo_file(name, ["ab" * 16]) == return_photos.photo_directory() / name
        assert return_photos.move_legacy_photos() == 0  # nothing left: a second run is harmless
    finally:
        (return_photos.photo_directory() / name).unlink(missing_ok=True)
        legacy.rmdir()
