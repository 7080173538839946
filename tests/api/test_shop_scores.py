"""A shop's fulfilment score: the share of its due orders (paid in the last 90 days) shipped
on time and not cancelled by the shop, refreshed by the hourly job, shown on the shop's page
and used by creators to filter the products open to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clipcart.commerce import tasks
from clipcart.core.clock import FrozenClock
from clipcart.shops import domain
from tests.api.test_accounts_auth import API
from tests.api.test_affiliate_collaborations import creator, offers
from tests.api.test_affiliate_program import AFFILIATE, buy
from tests.api.test_commerce_fulfilment import frozen, later, ship
from tests.commerce_factories import BuyerMaker, SellerMaker, buyer, commerce_sandbox, seller

__all__ = ["buyer", "commerce_sandbox", "frozen", "seller"]

PAID = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def kept(
    shipped_after: timedelta | None = None,
    *,
    cancelled: bool = False,
    cancelled_by_buyer: bool = False,
    now: datetime = PAID + timedelta(days=10),
) -> bool | None:
    return domain.order_kept(
        paid_at=PAID,
        shipped_at=PAID + shipped_after if shipped_after is not None else None,
        cancelled=cancelled,
        cancelled_by_buyer=cancelled_by_buyer,
        processing_days=2,
        now=now,
    )


def test_which_orders_a_shop_kept() -> None:
    assert kept(timedelta(days=3)) is True  # two processing days and a day's grace
    assert kept(timedelta(days=3, seconds=1)) is False
    assert kept(None) is False  # overdue and not shipped
    assert kept(None, now=PAID + timedelta(days=2)) is None  # not due yet
    assert kept(None, cancelled=True) is False  # the shop (or the system) cancelled it
    assert kept(None, cancelled=True, cancelled_by_buyer=True) is None  # not the shop's doing


@pytest.mark.parametrize(
    ("due", "kept_count", "score"),
    [(0, 0, None), (4, 4, None), (5, 5, 100), (7, 5, 71), (200, 199, 99), (5, 0, 0)],
)
def test_the_score_needs_enough_orders_and_rounds_down(
    due: int, kept_count: int, score: int | None
) -> None:
    assert domain.fulfilment_score(due, kept_count) == score


async def test_the_score_from_real_orders_on_the_shop_page_and_in_creator_offers(
    seller: SellerMaker, buyer: BuyerMaker, frozen: FrozenClock, app: object
) -> None:
    shop = await seller("olivia", "acme", price=2_000, stock=50)  # ships in 2 days
    jane = await buyer("jane")
    orders = [await buy(jane, shop) for _ in range(8)]
    cancelled = await jane.client.post(
        f"{API}/orders/{orders[7]['id']}/cancel", json={"reason": "Changed my mind"}
    )
    assert cancelled.status_code == 200, cancelled.text  # the buyer's doing: not counted
    assert await tasks.score_shops() == 0  # nothing due yet: still no score

    later(frozen, days=1)
    for order in orders[:5]:
        assert (await ship(shop, order["id"])).status_code == 200
    later(frozen, days=4)
    assert (await ship(shop, orders[5]["id"])).status_code == 200  # late
    # orders[6] is never shipped: overdue.
    assert await tasks.score_shops() == 1
    assert await tasks.score_shops() == 0  # a rerun changes nothing

    page = await jane.client.get("/shop/acme", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "71% of orders shipped on time" in page.text

    opened = await shop.client.post(
        f"{AFFILIATE}/shops/acme/collaborations",
        json={"product_id": str(shop.product_id), "rate_bp": 1000},
    )
    assert opened.status_code == 201, opened.text
    maya, _maya_id = await creator(app, "maya")
    [offer] = await offers(maya, min_shop_score=70)
    assert offer["shop_score"] == 71
    assert await offers(maya, min_shop_score=80) == []
    center = await maya.get("/studio/affiliate?min_shop_score=80", headers={"Accept": "text/html"})
    assert "No products match" in center.text
