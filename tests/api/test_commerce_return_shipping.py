"""Shipping on returns: when the shop was at fault (damaged, wrong item, not as described) and a
return sends the last item back, the buyer also gets the shipping back; a change of mind does
not. The ledger stays balanced and the shop is left with nothing of a fully refunded order."""

from __future__ import annotations

from typing import Any

from clipcart.commerce import domain
from clipcart.core.clock import FrozenClock
from clipcart.core.db import get_sessionmaker
from clipcart.ledger import service as ledger
from tests.api.test_accounts_auth import API
from tests.api.test_commerce_fulfilment import (
    delivered_order,
    frozen,
    intent_of,
    is_released,
    order_row,
)
from tests.api.test_commerce_returns import ask_return
from tests.commerce_factories import (
    Buyer,
    BuyerMaker,
    Seller,
    SellerMaker,
    buyer,
    commerce_sandbox,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "frozen", "seller"]  # fixtures used here


def test_the_rule_refunds_what_lies_beyond_the_lines_only_for_the_shops_faults() -> None:
    def rule(reason: str, everything_back: bool = True, refunded_beyond: int = 0) -> int:
        return domain.beyond_lines_refund(
            reason=reason,
            everything_back=everything_back,
            order_total=2498,
            line_totals=1998,
            refunded_beyond=refunded_beyond,
        )

    assert [rule(reason) for reason in ("damaged", "wrong_item", "not_as_described")] == [500] * 3
    assert rule("changed_mind") == rule("does_not_fit") == rule("other") == 0
    assert rule("damaged", everything_back=False) == 0
    assert rule("damaged", refunded_beyond=200) == 300
    assert rule("damaged", refunded_beyond=900) == 0  # never negative


async def _return_and_refund(
    shop: Seller, jane: Buyer, order: dict[str, Any], lines: list[tuple[str, int]], reason: str
) -> dict[str, Any]:
    """Ask for a return, have the shop approve and receive it (the refund follows)."""
    asked = await ask_return(jane, order["id"], lines, reason=reason)
    assert asked.status_code == 201, asked.text
    request: dict[str, Any] = asked.json()
    assert (await shop.client.post(f"{API}/returns/{request['id']}/approve")).status_code == 200
    received = await shop.client.post(f"{API}/returns/{request['id']}/received")
    assert received.status_code == 200 and received.json()["status"] == "refunded"
    return request


async def test_a_damaged_order_sent_back_whole_refunds_the_shipping_too(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(price=999, stock=10)
    jane = await buyer("jane")
    order = await delivered_order(shop, jane, 2)
    [line] = order["lines"]
    stored = await order_row(order["id"])
    assert stored.shipping == 500

    request = await _return_and_refund(shop, jane, order, [(line["id"], 2)], "damaged")
    assert request["amount"]["amount"] == stored.total  # the lines and the shipping
    assert request["shipping_refund"]["amount"] == 500

    after = await order_row(order["id"])
    assert after.status == "refunded" and after.refunded == after.total
    intent = await intent_of(order["id"])
    assert intent.status == "refunded" and intent.amount_refunded == after.total
    async with get_sessionmaker()() as session:
        assert await ledger.verify_ledger(session=session) == []
    page = await jane.client.get(f"/orders/{order['id']}")
    assert "including $5.00 shipping" in page.text


async def test_the_last_of_several_returns_carries_the_shipping_and_a_change_of_mind_none(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock
) -> None:
    shop = await seller(price=999, stock=10)
    jane, john = await buyer("jane"), await buyer("john")

    # Damaged, sent back in two goes: only the return with the last unit adds the shipping.
    order = await delivered_order(shop, jane, 2)
    [line] = order["lines"]
    first = await _return_and_refund(shop, jane, order, [(line["id"], 1)], "damaged")
    assert first["shipping_refund"]["amount"] == 0
    last = await _return_and_refund(shop, jane, order, [(line["id"], 1)], "wrong_item")
    assert last["shipping_refund"]["amount"] == 500
    stored = await order_row(order["id"])
    assert stored.refunded == stored.total
    assert first["amount"]["amount"] + last["amount"]["amount"] == stored.total
    assert (await intent_of(order["id"])).amount_refunded == stored.total
    seller_page = await shop.client.get(f"/seller/{shop.shop_handle}/returns")
    assert "including $5.00 shipping" in seller_page.text

    # A change of mind sends everything back but the shipping stays the shop's.
    other = await delivered_order(shop, john, 2)
    [other_line] = other["lines"]
    kept = await _return_and_refund(shop, john, other, [(other_line["id"], 2)], "changed_mind")
    assert kept["shipping_refund"]["amount"] == 0
    stored = await order_row(other["id"])
    assert stored.total - stored.refunded == stored.shipping == 500
    assert await is_released(other["id"])
    async with get_sessionmaker()() as session:
        assert await ledger.verify_ledger(session=session) == []
