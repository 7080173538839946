"""Hypothesis drives the whole buying path through the HTTP API (the app in-process, the payment
sandbox reached the same way) on SQLite or PostgreSQL: add to cart, place (or be told "sold
out" with nothing kept), pay, a declined card, cancel (before and after paying), reservation
expiry (the clock moves, the job runs), ship, confirm delivery (or the auto-delivery job),
return and refund, completion (the job), restock and damaged stock written off.

After every step, for every variant: stock + held + committed == initial + restocks (the
reservations table and the stock movement log agree with the variant's stock and with the
model), stock never negative; every order has the status the model expects and its timeline
only made legal moves; the money taken equals the ledger's holds, refunds equal the ledger's
refunds and never exceed an order's (or a line's) total, the seller's money is released only
at completion, and the ledger balances.

The machine runs on its own event loop (rules are synchronous), as the payments machine does;
commerce_machine_support.py holds that harness and what the invariants read. The clock is
frozen and moved by the rules. Each example gets a new product, so the orders and stock of
earlier examples do not matter.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.commerce import domain, tasks
from clipcart.commerce.config import get_commerce_settings
from clipcart.commerce.models import Cart, CartItem
from clipcart.core import clock
from clipcart.ledger.domain import TransferKind
from clipcart.payments import service as payments
from clipcart.payments.sandbox import tasks as sandbox_tasks
from clipcart.payments.sandbox_client import SandboxProvider
from tests.api.test_accounts_auth import API
from tests.commerce_factories import product_body
from tests.integration.commerce_machine_support import (
    SEEN,
    ModelOrder,
    Person,
    Runner,
    ShopOwner,
    amount,
    event,
    has_returnable_units,
    ok,
    open_shop_and_buyers,
    read_money,
    read_orders,
    read_stock,
)

VARIANTS = 2
CARRIER = {"carrier": "ups", "tracking_number": "1Z999AA10123456784"}


class CommerceMachine(RuleBasedStateMachine):
    runner: ClassVar[Runner]
    seller: ClassVar[ShopOwner]
    buyers: ClassVar[list[Person]]
    clock: ClassVar[clock.FrozenClock]
    example: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        self.variants: list[uuid.UUID] = []
        self.product_id = ""
        self.stock: dict[uuid.UUID, int] = {}
        self.initial: dict[uuid.UUID, int] = {}
        self.restocked: dict[uuid.UUID, int] = {}  # restocked minus written off
        self.carts: list[dict[uuid.UUID, int]] = [{} for _ in self.buyers]
        self.orders: dict[str, ModelOrder] = {}

    # --- set-up -----------------------------------------------------------------------

    @initialize(stock=st.lists(st.integers(0, 6), min_size=VARIANTS, max_size=VARIANTS))
    def new_product(self, stock: list[int]) -> None:
        """A fresh product for this example and empty carts."""
        CommerceMachine.example += 1
        runner = self.runner

        async def empty_carts(session: AsyncSession) -> None:
            carts = select(Cart.id).where(Cart.user_id.in_([b.id for b in self.buyers]))
            await session.execute(delete(CartItem).where(CartItem.cart_id.in_(carts)))

        runner.unit(empty_carts)
        # Created without stock; each variant gets its own with a movement right after.
        body = product_body(
            title=f"Machine Tee {self.example}",
            price=1250,
            stock=0,
            variants=VARIANTS,
            sku_prefix=f"M{self.example}",
        )
        path = f"{API}/shops/{self.seller.shop_handle}/products"
        product = ok(runner.run(self.seller.client.post(path, json=body)), 201)
        self.product_id = product["id"]
        self.variants = [uuid.UUID(variant["id"]) for variant in product["variants"]]
        for variant, units in zip(self.variants, stock, strict=True):
            if units:
                self._change_stock(variant, units, reason="restock")
            self.stock[variant] = units
            self.initial[variant] = units
            self.restocked[variant] = 0

    def _change_stock(self, variant: uuid.UUID, delta: int, *, reason: str) -> None:
        body = {"variant_id": str(variant), "delta": delta, "reason": reason}
        response = self.runner.run(
            self.seller.client.patch(f"{API}/products/{self.product_id}/stock", json=body)
        )
        ok(response)

    def _orders_in(self, *statuses: str) -> list[ModelOrder]:
        return [order for order in self.orders.values() if order.status in statuses]

    def _held(self, variant: uuid.UUID) -> int:
        return sum(order.lines.get(variant, 0) for order in self._orders_in(domain.PENDING_PAYMENT))

    def _committed(self, variant: uuid.UUID) -> int:
        live = (domain.PAID, domain.SHIPPED, domain.DELIVERED, domain.COMPLETED, domain.REFUNDED)
        return sum(
            order.lines.get(variant, 0) - order.returned.get(variant, 0)
            for order in self._orders_in(*live)
        )

    def _release(self, order: ModelOrder) -> None:
        for variant, quantity in order.lines.items():
            self.stock[variant] += quantity

    # --- buying -----------------------------------------------------------------------

    @rule(buyer=st.integers(0, 1), index=st.integers(0, VARIANTS - 1), quantity=st.integers(1, 3))
    def add_to_cart(self, buyer: int, index: int, quantity: int) -> None:
        """Add units to the cart: refused (422, field quantity) beyond the stock."""
        variant = self.variants[index]
        body = {"variant_id": str(variant), "quantity": quantity}
        response = self.runner.run(self.buyers[buyer].client.post(f"{API}/cart/items", json=body))
        wanted = self.carts[buyer].get(variant, 0) + quantity
        if wanted <= self.stock[variant]:
            ok(response)
            self.carts[buyer][variant] = wanted
        else:
            assert response.status_code in {409, 422}, response.text
            if response.status_code == 422:
                assert "quantity" in response.text, response.text

    @rule(buyer=st.integers(0, 1), index=st.integers(0, VARIANTS - 1), quantity=st.integers(1, 2))
    def buy_now(self, buyer: int, index: int, quantity: int) -> None:
        """Buy now: add to the cart, place and pay with the good card at once."""
        self.add_to_cart(buyer, index, quantity)
        before = set(self.orders)
        self.place(buyer)
        for order_id in set(self.orders) - before:
            self._pay(self.orders[order_id], declined=False)

    @precondition(lambda self: any(self.carts))
    @rule(buyer=st.integers(0, 1))
    def place(self, buyer: int) -> None:
        """Check out the cart: one order, stock held; or 409 sold_out with nothing kept."""
        cart = self.carts[buyer]
        if not cart:
            return
        person = self.buyers[buyer]
        client = person.client
        enough = all(quantity <= self.stock[variant] for variant, quantity in cart.items())
        quoted = self.runner.run(client.post(f"{API}/checkout/quote", json={"items": None}))
        if not enough and quoted.status_code != 200:
            assert quoted.status_code in {409, 422}, quoted.text
            event(f"place: quote refused {quoted.status_code} {quoted.json().get('code')}")
            expected = 0  # placing anyway (a stale page): refused before any price check
        else:
            expected = int(ok(quoted)["grand_total"]["amount"])
        body = {"items": None, "expected_total": expected, "payment_method": person.card}
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        response = self.runner.run(client.post(f"{API}/checkout", json=body, headers=headers))
        if not enough:
            assert response.status_code == 409, response.text
            assert response.json()["code"] == "sold_out", response.text
            event("place: sold out, nothing kept")
            return
        placed = ok(response, 201)
        assert len(placed["orders"]) == 1, placed
        answer = placed["orders"][0]
        order = ModelOrder(answer["id"], placed["checkout_id"], buyer, dict(cart))
        order.placed_at = self.clock.now()
        detail = ok(self.runner.run(client.get(f"{API}/orders/{order.id}")))
        order.total = int(amount(detail["total"]))
        for line in detail["lines"]:
            order.line_ids[uuid.UUID(line["variant_id"])] = line["id"]
        assert detail["status"] == domain.PENDING_PAYMENT
        self.orders[order.id] = order
        for variant, quantity in cart.items():
            self.stock[variant] -= quantity
        self.carts[buyer] = {}
        event("place: placed")

    @precondition(lambda self: self._orders_in(domain.PENDING_PAYMENT))
    @rule(data=st.data(), declined=st.sampled_from([False, False, True]))
    def pay(self, data: st.DataObject, declined: bool) -> None:
        """Pay a pending order: captured -> paid; a declined card -> cancelled, stock back."""
        self._pay(data.draw(st.sampled_from(self._orders_in(domain.PENDING_PAYMENT))), declined)

    def _pay(self, order: ModelOrder, declined: bool) -> None:
        person = self.buyers[order.buyer]
        body = {"payment_method": person.declined_card if declined else person.card}
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        path = f"{API}/checkout/{order.checkout_id}/pay"
        answer = ok(self.runner.run(person.client.post(path, json=body, headers=headers)))
        statuses = {item["order_id"]: item["status"] for item in answer["orders"]}
        if declined:
            assert statuses[order.id] == domain.CANCELLED, answer
            order.status = domain.CANCELLED
            self._release(order)
            event("pay: declined")
        else:
            assert statuses[order.id] == domain.PAID, answer
            event("pay: paid")
            order.status = domain.PAID
            order.was_paid = True

    @precondition(lambda self: self._orders_in(domain.PENDING_PAYMENT, domain.PAID))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        """The buyer cancels before shipping: stock back, the money back when paid."""
        order = data.draw(st.sampled_from(self._orders_in(domain.PENDING_PAYMENT, domain.PAID)))
        client = self.buyers[order.buyer].client
        response = self.runner.run(
            client.post(f"{API}/orders/{order.id}/cancel", json={"reason": "Changed my mind"})
        )
        ok(response)
        event(f"cancel: {order.status}")
        order.status = domain.CANCELLED
        self._release(order)

    @rule(minutes=st.sampled_from([5, 5, 16]))
    def time_passes(self, minutes: int) -> None:
        """The clock moves and the expiry job runs: unpaid orders past their reservation go."""
        self.clock.advance(timedelta(minutes=minutes))
        self.runner.run(tasks.expire_reservations())
        reservation = timedelta(minutes=get_commerce_settings().reservation_minutes)
        for order in self._orders_in(domain.PENDING_PAYMENT):
            assert order.placed_at is not None
            if self.clock.now() > order.placed_at + reservation:
                event("expired")
                order.status = domain.CANCELLED
                self._release(order)

    # --- after paying -----------------------------------------------------------------

    @precondition(lambda self: self._orders_in(domain.PAID))
    @rule(data=st.data())
    def ship(self, data: st.DataObject) -> None:
        """The seller ships with a tracking number."""
        self._ship(data.draw(st.sampled_from(self._orders_in(domain.PAID))))

    def _ship(self, order: ModelOrder) -> None:
        path = f"{API}/shops/{self.seller.shop_handle}/orders/{order.id}/ship"
        ok(self.runner.run(self.seller.client.post(path, json=CARRIER)))
        order.status = domain.SHIPPED
        event("shipped")

    @precondition(lambda self: self._orders_in(domain.SHIPPED))
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        """The buyer confirms delivery."""
        self._deliver(data.draw(st.sampled_from(self._orders_in(domain.SHIPPED))))

    def _deliver(self, order: ModelOrder) -> None:
        client = self.buyers[order.buyer].client
        ok(self.runner.run(client.post(f"{API}/orders/{order.id}/confirm-delivery")))
        order.status = domain.DELIVERED
        order.delivered_at = self.clock.now()
        event("delivered")

    @precondition(lambda self: self._orders_in(domain.PAID))
    @rule(data=st.data())
    def ship_and_deliver(self, data: st.DataObject) -> None:
        """Shipped, and the parcel arrives (both steps at once, to reach returns sooner)."""
        order = data.draw(st.sampled_from(self._orders_in(domain.PAID)))
        self._ship(order)
        self._deliver(order)

    def _returnable(self) -> list[ModelOrder]:
        """Delivered orders with something left to send back, inside the return window."""
        window = timedelta(days=get_commerce_settings().return_window_days, hours=-1)
        return [
            order
            for order in self._orders_in(domain.DELIVERED)
            if has_returnable_units(order)
            and order.delivered_at is not None
            and self.clock.now() < order.delivered_at + window
        ]

    @precondition(lambda self: self._returnable())
    @rule(data=st.data())
    def return_and_refund(self, data: st.DataObject) -> None:
        """The buyer sends part (or all) back; the seller approves and receives it: refunded,
        stock back on sale."""
        order = data.draw(st.sampled_from(self._returnable()))
        variant = data.draw(
            st.sampled_from([v for v, q in order.lines.items() if q - order.returned.get(v, 0) > 0])
        )
        left = order.lines[variant] - order.returned.get(variant, 0)
        quantity = data.draw(st.integers(1, left))
        client = self.buyers[order.buyer].client
        lines = [{"order_line_id": order.line_ids[variant], "quantity": quantity}]
        form = {"lines": json.dumps(lines), "reason": "changed_mind", "details": "Too small"}
        requested = ok(
            self.runner.run(client.post(f"{API}/orders/{order.id}/returns", data=form)), 201
        )
        seller = self.seller.client
        return_id = requested["id"]
        ok(self.runner.run(seller.post(f"{API}/returns/{return_id}/approve", json={})))
        ok(self.runner.run(seller.post(f"{API}/returns/{return_id}/received", json={})))
        order.returned[variant] = order.returned.get(variant, 0) + quantity
        self.stock[variant] += quantity
        event("return: refunded")
        if all(order.returned.get(v, 0) == q for v, q in order.lines.items()):
            order.status = domain.REFUNDED
            event("return: order refunded in full")

    @precondition(lambda self: self._orders_in(domain.DELIVERED))
    @rule()
    def return_window_closes(self) -> None:
        """Time passes beyond the return window; the completion job completes delivered
        orders (and releases their money to the seller)."""
        settings_ = get_commerce_settings()
        self.clock.advance(timedelta(days=settings_.return_window_days, hours=1))
        self.runner.run(tasks.complete_orders())
        for order in self._orders_in(domain.DELIVERED):
            order.status = domain.COMPLETED
            event("completed")
        self._expire_all_pending()

    def _expire_all_pending(self) -> None:
        """Days went by: the expiry job cancels every unpaid order, stock back."""
        self.runner.run(tasks.expire_reservations())
        for order in self._orders_in(domain.PENDING_PAYMENT):
            order.status = domain.CANCELLED
            self._release(order)
            event("expired")

    @precondition(lambda self: self._orders_in(domain.SHIPPED))
    @rule()
    def delivery_deadline_passes(self) -> None:
        """The buyer never confirms: the job counts shipped orders as delivered N days on."""
        days = get_commerce_settings().delivery_auto_confirm_days
        self.clock.advance(timedelta(days=days, hours=1))
        self.runner.run(tasks.deliver_shipped_orders())
        for order in self._orders_in(domain.SHIPPED):
            order.status = domain.DELIVERED
            order.delivered_at = self.clock.now()
            event("delivered automatically")
        self._expire_all_pending()

    @rule(index=st.integers(0, VARIANTS - 1), units=st.sampled_from([3, 2, 1, -1, -2]))
    def restock(self, index: int, units: int) -> None:
        """The seller receives more units, or writes damaged ones off (so carts may now ask
        for more than is left)."""
        variant = self.variants[index]
        if units < 0:
            units = -min(-units, self.stock[variant])
            if not units:
                return
        self._change_stock(variant, units, reason="restock" if units > 0 else "damaged")
        self.stock[variant] += units
        self.restocked[variant] += units
        event("restocked" if units > 0 else "damaged")

    # --- invariants -------------------------------------------------------------------

    # --- invariants -------------------------------------------------------------------

    @invariant()
    def stock_is_conserved(self) -> None:
        if not self.variants:
            return
        stock, reserved, logged = self.runner.unit(lambda s: read_stock(s, self.variants))
        for variant in self.variants:
            held = reserved.get((variant, domain.HELD), 0)
            committed = reserved.get((variant, domain.COMMITTED), 0)
            assert stock[variant] >= 0
            assert stock[variant] == self.stock[variant], (variant, stock[variant], self.stock)
            assert logged.get(variant, 0) == stock[variant]  # the log explains the stock
            assert held == self._held(variant), (held, self._held(variant))
            assert committed == self._committed(variant), (committed, self._committed(variant))
            assert (
                stock[variant] + held + committed == self.initial[variant] + self.restocked[variant]
            )

    @invariant()
    def orders_are_legal(self) -> None:
        if not self.orders:
            return
        ids = [uuid.UUID(order_id) for order_id in self.orders]
        orders, timelines, lines = self.runner.unit(lambda s: read_orders(s, ids))
        assert len(orders) == len(self.orders)
        for order in orders:
            expected = self.orders[str(order.id)]
            assert order.status == expected.status, (order.status, expected)
            assert order.status in domain.ORDER_STATUSES
            timeline = timelines[order.id]
            assert timeline[0].from_status is None
            assert timeline[0].to_status == domain.PENDING_PAYMENT
            current = domain.PENDING_PAYMENT
            for step in timeline[1:]:
                assert step.from_status == current, [(e.from_status, e.to_status) for e in timeline]
                assert domain.may_move(current, step.to_status), (current, step.to_status)
                current = step.to_status
            assert current == order.status
            own_lines = [line for line in lines if line.order_id == order.id]
            assert 0 <= order.refunded <= order.total
            if order.status != domain.CANCELLED:  # returns refund per line
                assert order.refunded == sum(line.refunded for line in own_lines)
            for line in own_lines:
                assert 0 <= line.refunded <= line.total

    @invariant()
    def money_matches_the_ledger(self) -> None:
        if not self.orders:
            return
        refs = {
            domain.order_ref(uuid.UUID(order_id)): order for order_id, order in self.orders.items()
        }
        ids = [uuid.UUID(order_id) for order_id in self.orders]
        money = self.runner.unit(lambda s: read_money(s, list(refs), ids))
        assert money.problems == []
        sums = money.transfers
        for reference, model in refs.items():
            order = money.orders[reference]
            captured = money.captured[reference]
            refunded = money.refunded[reference]
            # Paid money is held in the ledger, exactly the order's total.
            assert captured == (order.total if model.was_paid else 0), (model, captured)
            assert sums.get((reference, TransferKind.PAYMENT_HOLD.value), 0) == captured
            assert sums.get((reference, TransferKind.ORDER_REFUND.value), 0) == refunded
            assert refunded == order.refunded <= order.total
            if model.status == domain.CANCELLED and model.was_paid:
                assert refunded == order.total  # a paid order cancelled is refunded in full
            # The seller's money is released at completion, and only then; or, when every item
            # came back, what was not refunded (shipping) is released with the last refund.
            released = (reference, TransferKind.ORDER_RELEASE.value) in sums
            due = model.status == domain.COMPLETED or (
                model.status == domain.REFUNDED and order.refunded < order.total
            )
            assert released == due, (model, sums)


def test_stock_and_orders_stay_consistent_through_random_buying() -> None:
    runner = Runner()
    frozen = clock.FrozenClock()
    previous = clock.set_clock(frozen)
    provider = SandboxProvider("http://testserver/sandbox", transport=runner.transport, timeout=30)
    payments.set_provider(provider)
    sandbox_tasks.set_delivery_transport(runner.transport)
    try:
        CommerceMachine.runner = runner
        CommerceMachine.clock = frozen
        CommerceMachine.seller, CommerceMachine.buyers = open_shop_and_buyers(runner)
        run_state_machine_as_test(
            CommerceMachine,
            settings=settings(
                max_examples=30,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
        print(f"\nsteps seen: {dict(sorted(SEEN.items()))}")
    finally:
        clock.set_clock(previous)
        payments.set_provider(None)
        sandbox_tasks.set_delivery_transport(None)
        runner.close()
