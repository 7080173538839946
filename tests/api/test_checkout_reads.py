"""What placing and paying read: the live flash deal comes with the buyables (one statement,
the same deal as the product sheet shows, the cheapest when deals overlap), and a payment
that carries a commission moves it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select

from clipcart.affiliate import domain as affiliate_domain
from clipcart.affiliate.models import Commission
from clipcart.commerce import buyables, flash_deals
from clipcart.commerce.models import Order
from clipcart.commerce.promotion_models import FlashDeal
from clipcart.core import clock
from clipcart.core.db import get_engine, unit_of_work
from clipcart.payments.models import PaymentIntent
from tests.api.test_accounts_auth import API
from tests.commerce_factories import (
    BuyerMaker,
    SellerMaker,
    buyer,
    commerce_sandbox,
    items_body,
    pay,
    place,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "seller"]


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run meanwhile (through SQLAlchemy), in order."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = get_engine().sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def deal(variant_id: uuid.UUID, shop_id: uuid.UUID, price: int, **fields: Any) -> FlashDeal:
    """A deal row as the seller's API would write it, live for an hour unless told."""
    now = clock.now()
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "shop_id": shop_id,
        "variant_id": variant_id,
        "deal_price": price,
        "quantity": 5,
        "sold": 0,
        "per_buyer_limit": None,
        "starts_at": now - timedelta(minutes=1),
        "ends_at": now + timedelta(hours=1),
        "cancelled": False,
    } | fields
    return FlashDeal(**values)


async def test_the_buyables_read_brings_the_live_deal_the_sheet_shows(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500, stock=20, variants=3, free_shipping_threshold=None)
    overlapping, tied, plain = shop.variant_ids
    now = clock.now()
    same_price = sorted([uuid.uuid4(), uuid.uuid4()])
    async with unit_of_work() as session:
        session.add_all(
            [
                # The cheapest live deal wins, whatever is cheaper but not live.
                deal(overlapping, shop.shop_id, 1800),
                deal(overlapping, shop.shop_id, 1600),
                deal(overlapping, shop.shop_id, 900, cancelled=True),
                deal(overlapping, shop.shop_id, 800, sold=5),
                deal(overlapping, shop.shop_id, 700, starts_at=now + timedelta(minutes=5)),
                deal(
                    overlapping, shop.shop_id, 600, starts_at=now - timedelta(hours=1), ends_at=now
                ),
                # Two at the same price: the one the sheet shows.
                deal(tied, shop.shop_id, 2000, id=same_price[0]),
                deal(tied, shop.shop_id, 2000, id=same_price[1]),
                # None live: the usual price.
                deal(
                    plain,
                    shop.shop_id,
                    500,
                    starts_at=now - timedelta(hours=1),
                    ends_at=now - timedelta(minutes=1),
                ),
            ]
        )
    async with unit_of_work() as session:
        sheet = await flash_deals.active_deals_for_variants(shop.variant_ids, session=session)
        with statements() as seen:
            known, deals = await buyables.load_buyables_and_deals(shop.variant_ids, session=session)
    assert len(seen) == 1
    assert set(known) == set(shop.variant_ids)
    assert {key: row.id for key, row in deals.items()} == {
        key: row.id for key, row in sheet.items()
    }
    assert deals[overlapping].deal_price == 1600
    assert deals[tied].id == sheet[tied].id
    assert plain not in deals

    jane = await buyer("jane")
    quoted = await jane.client.post(
        f"{API}/checkout/quote",
        json={"items": items_body((overlapping, 1), (tied, 1), (plain, 1))},
    )
    assert quoted.status_code == 200, quoted.text
    lines = {line["variant_id"]: line for line in quoted.json()["shops"][0]["lines"]}
    assert lines[str(overlapping)]["unit_price"]["amount"] == 1600
    assert lines[str(overlapping)]["flash_deal_id"] == str(deals[overlapping].id)
    assert lines[str(tied)]["flash_deal_id"] == str(sheet[tied].id)
    assert lines[str(plain)]["unit_price"]["amount"] == 2500
    assert lines[str(plain)]["flash_deal_id"] is None


async def test_placing_reads_the_deals_with_the_variants_never_apart(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500, stock=5)
    jane = await buyer("jane")
    with statements() as placing:
        placed = await place(jane.client, (shop.variant_id, 1))
    assert placed.status_code == 201, placed.text
    # The quote and the checkout each read the deals along with the variants, never apart.
    assert not [sql for sql in placing if sql.lstrip().startswith("SELECT commerce_flash_deals")]
    assert placing, "the listener saw the checkout's statements"


async def test_a_payment_carrying_a_commission_still_moves_it(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500, stock=5)
    jane, cara = await buyer("jane"), await buyer("cara")
    placed = await place(jane.client, (shop.variant_id, 1))
    assert placed.status_code == 201, placed.text
    order_id = uuid.UUID(placed.json()["orders"][0]["id"])
    # A commission recorded with the order, as checkout does for an attributed line, and its
    # total carried by the payment (what tells paying that there is one to move).
    async with unit_of_work() as session:
        order = await session.get(Order, order_id)
        assert order is not None and order.payment_intent_id is not None
        intent = await session.get(PaymentIntent, order.payment_intent_id)
        assert intent is not None
        intent.commission, intent.creator_id = 240, cara.id
        session.add(
            Commission(
                order_id=order.id,
                order_line_id=uuid.uuid4(),
                order_number=order.number,
                shop_id=order.shop_id,
                product_id=shop.product_id,
                product_title="Glow Serum",
                creator_id=cara.id,
                currency="USD",
                line_total=2500,
                net_amount=2400,
                rate_bp=1000,
                amount=240,
                clawed_back=0,
                status=affiliate_domain.AWAITING_PAYMENT,
                source_kind="video",
            )
        )
    paid = await pay(jane.client, placed.json()["checkout_id"])
    assert paid.status_code == 200, paid.text
    assert [order["status"] for order in paid.json()["orders"]] == ["paid"]
    async with unit_of_work() as session:
        status = await session.scalar(
            select(Commission.status).where(Commission.order_id == order_id)
        )
    assert status == affiliate_domain.PENDING
