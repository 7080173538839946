"""The seller's returns page reads each return's order and lines in bulk: the number of
queries it runs does not grow with the number of returns it shows."""

from __future__ import annotations

from typing import Any

from tests.api.test_commerce_fulfilment import delivered_order
from tests.api.test_commerce_returns import ask_return
from tests.api.test_feed import count_queries
from tests.api.test_pages import HTML
from tests.commerce_factories import (
    Buyer,
    BuyerMaker,
    Seller,
    SellerMaker,
    buyer,
    commerce_sandbox,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "seller"]  # fixtures used here


async def _returned_order(shop: Seller, jane: Buyer, *, details: str) -> dict[str, Any]:
    order = await delivered_order(shop, jane, 1)
    asked = await ask_return(jane, order["id"], [(order["lines"][0]["id"], 1)], details=details)
    assert asked.status_code == 201, asked.text
    return order


async def _returns_page(shop: Seller) -> tuple[str, list[str]]:
    with count_queries() as statements:
        page = await shop.client.get(f"/seller/{shop.shop_handle}/returns", headers=HTML)
    assert page.status_code == 200, page.text
    return page.text, statements


async def test_the_returns_page_runs_as_many_queries_for_one_return_as_for_four(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller("olivia", "acme", stock=10, price=2500, title="Glow Serum")
    jane = await buyer("jane")
    first = await _returned_order(shop, jane, details="Return number 0")
    one_text, one = await _returns_page(shop)
    assert first["number"] in one_text and "1 × Glow Serum" in one_text
    # Damaged: the shop was at fault, so the buyer gets the $5.00 shipping back too.
    assert "Return number 0" in one_text and "$30.00" in one_text
    assert "including $5.00 shipping" in one_text

    more = [await _returned_order(shop, jane, details=f"Return number {n}") for n in (1, 2, 3)]
    four_text, four = await _returns_page(shop)
    for n, order in enumerate([first, *more]):
        assert order["number"] in four_text and f"Return number {n}" in four_text
    assert four_text.count("1 × Glow Serum") == 4
    assert len(four) == len(one), (one, four)
