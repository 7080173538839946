"""`clipcart simulate`: simulated people using a running ClipCart through its HTTP API.

Buyers log in, scroll For You, send the events the feed page sends (impressions, watches),
like what they enjoy and now and then buy a product in a video with the sandbox card; the
shops' sellers ship what was paid and the buyers confirm delivery. Dashboards, balances,
counters and trends move as they would with real people."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from clipcart.demo.commerce import DEMO_ADDRESS, SANDBOX_CARD
from clipcart.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD
from clipcart.demo.world.people import WORLD_DOMAIN

API = "/api/v1"
DEMO_SHOP_OWNERS = {"sams_corner": DEMO_ACCOUNTS[2][2]}


@dataclass
class SimulationStats:
    """What the simulated people did so far."""

    logins: int = 0
    feed_pages: int = 0
    events: int = 0
    likes: int = 0
    orders: int = 0
    shipped: int = 0
    confirmed: int = 0
    errors: int = 0
    last_error: str = ""

    def line(self) -> str:
        """A one-line summary for the progress display."""
        return (
            f"feeds {self.feed_pages} · events {self.events} · likes {self.likes} · "
            f"orders {self.orders} · shipped {self.shipped} · confirmed {self.confirmed} · "
            f"errors {self.errors}"
        )


@dataclass
class _Shared:
    """State the buyers and sellers pass each other."""

    stats: SimulationStats
    to_ship: dict[str, asyncio.Queue[tuple[str, str]]] = field(default_factory=dict)
    shipped: dict[str, asyncio.Queue[str]] = field(default_factory=dict)  # buyer -> orders
    sellers: dict[str, asyncio.Task[None]] = field(default_factory=dict)


def shop_owner_email(shop_handle: str) -> str | None:
    """The login of the seller who owns a demo or world shop (world shops end in _<n>)."""
    if shop_handle in DEMO_SHOP_OWNERS:
        return DEMO_SHOP_OWNERS[shop_handle]
    _, _, number = shop_handle.rpartition("_")
    return f"seller{number}@{WORLD_DOMAIN}" if number.isdigit() else None


class _Person:
    """One logged-in person: an HTTP client with their cookies and CSRF token."""

    def __init__(self, client: httpx.AsyncClient, email: str, shared: _Shared) -> None:
        self.client = client
        self.email = email
        self.shared = shared

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        """Send a request, waiting out rate limits; None (and counted) when it failed."""
        for _ in range(5):
            try:
                response = await self.client.request(method, API + path, **kwargs)
            except httpx.HTTPError as error:
                self._failed(f"{method} {path}: {error!r}")
                return None
            if response.status_code == 429:
                await asyncio.sleep(min(30.0, float(response.headers.get("Retry-After", "2"))))
                continue
            if response.status_code >= 400:
                self._failed(f"{method} {path}: {response.status_code} {response.text[:200]}")
                return None
            return response
        self._failed(f"{method} {path}: still rate limited")
        return None

    def _failed(self, message: str) -> None:
        self.shared.stats.errors += 1
        self.shared.stats.last_error = message

    async def log_in(self, password: str) -> bool:
        """Log in with a password; True when it worked."""
        self.client.headers.pop("X-CSRF-Token", None)
        csrf = await self.request("GET", "/auth/csrf")
        if csrf is None:
            return False
        self.client.headers["X-CSRF-Token"] = csrf.json()["csrf_token"]
        response = await self.request(
            "POST", "/auth/login", json={"email": self.email, "password": password}
        )
        if response is None:
            return False
        self.client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        self.shared.stats.logins += 1
        return True


class _Buyer(_Person):
    """Scrolls, watches, likes, buys, and confirms what arrives."""

    def __init__(
        self, *args: Any, rng: random.Random, pace: float, buy_chance: float, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rng = rng
        self.pace = pace
        self.buy_chance = buy_chance
        self.card: str | None = None
        self.cursor: str | None = None
        self.session_id = f"sim{rng.getrandbits(40):x}"

    async def run(self, deadline: float, start_seller: Callable[[str], None]) -> None:
        """Use the app until `deadline` (loop time)."""
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            await self.confirm_arrivals()
            response = await self.request(
                "GET", "/feed", params={"tab": "for_you", "limit": 8, "cursor": self.cursor}
            )
            if response is None:
                await asyncio.sleep(1.0)
                continue
            page = response.json()
            self.shared.stats.feed_pages += 1
            self.cursor = page.get("next_cursor")
            for position, item in enumerate(page["items"]):
                if loop.time() >= deadline:
                    break
                await self._watch(item, position)
                if item["products"] and self.rng.random() < self.buy_chance:
                    await self._buy(item, start_seller)
            if not page["items"]:
                await asyncio.sleep(2.0 * self.pace + 0.05)

    async def _watch(self, item: dict[str, Any], position: int) -> None:
        video = item["video"]
        duration = int((video.get("duration_seconds") or 8.0) * 1000)
        completed = self.rng.random() < 0.4
        watched = duration if completed else int(duration * self.rng.uniform(0.1, 0.9))
        await asyncio.sleep(self.pace * watched / 1000 / 4)
        now = datetime.now(UTC).isoformat()
        common = {"occurred_at": now, "session_id": self.session_id, "surface": "for_you",
                  "position": position, "video_id": video["id"]}  # fmt: skip
        events = [
            {"id": str(uuid.uuid4()), "type": "impression", **common},
            {"id": str(uuid.uuid4()), "type": "watch", "watch_ms": watched,
             "duration_ms": duration, "completed": completed, **common},
        ]  # fmt: skip
        liked = not item["viewer"].get("liked") and self.rng.random() < (0.3 if completed else 0.05)
        if liked:
            events.append({"id": str(uuid.uuid4()), "type": "like", **common})
        if await self.request("POST", "/events", json={"events": events}) is not None:
            self.shared.stats.events += len(events)
        if liked and await self.request("POST", f"/videos/{video['id']}/like") is not None:
            self.shared.stats.likes += 1

    async def _buy(self, item: dict[str, Any], start_seller: Callable[[str], None]) -> None:
        product = self.rng.choice(item["products"])
        found = await self.request("GET", f"/products/{product['id']}")
        if found is None:
            return
        variants = [v for v in found.json().get("variants", []) if v.get("stock", 0) > 0]
        if not variants:
            return
        if self.card is None:
            saved = await self.request(
                "POST", "/payments/methods",
                json={"number": SANDBOX_CARD, "exp_month": 12, "exp_year": 2099, "cvc": "123"},
            )  # fmt: skip
            if saved is None:
                return
            self.card = saved.json()["token"]
        body: dict[str, Any] = {
            "items": [{"variant_id": self.rng.choice(variants)["id"], "quantity": 1}],
            "address": DEMO_ADDRESS,
            "payment_method": self.card,
        }
        quoted = await self.request("POST", "/checkout/quote", json=body)
        if quoted is None:
            return
        body["expected_total"] = quoted.json()["grand_total"]["amount"]
        placed = await self.request(
            "POST", "/checkout", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        if placed is None:
            return
        checkout = placed.json()
        paid = await self.request(
            "POST", f"/checkout/{checkout['checkout_id']}/pay",
            json={"payment_method": self.card}, headers={"Idempotency-Key": uuid.uuid4().hex},
        )  # fmt: skip
        if paid is None:
            return
        for order in checkout["orders"]:
            self.shared.stats.orders += 1
            handle = order["shop"]["handle"]
            self.shared.to_ship.setdefault(handle, asyncio.Queue()).put_nowait(
                (order["id"], self.email)
            )
            start_seller(handle)

    async def confirm_arrivals(self) -> None:
        """Confirm delivery of the orders the sellers shipped since last time."""
        arrived = self.shared.shipped.get(self.email)
        while arrived is not None and not arrived.empty():
            order_id = arrived.get_nowait()
            if await self.request("POST", f"/orders/{order_id}/confirm-delivery") is not None:
                self.shared.stats.confirmed += 1


class _Seller(_Person):
    """Ships the shop's paid orders as they come in."""

    async def run(self, shop_handle: str, deadline: float) -> None:
        """Ship `shop_handle`'s orders until `deadline` (loop time)."""
        queue = self.shared.to_ship.setdefault(shop_handle, asyncio.Queue())
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            try:
                order_id, buyer = await asyncio.wait_for(queue.get(), timeout=0.5)
            except TimeoutError:
                continue
            tracking = f"9400{uuid.uuid4().int % 10**18:018d}"
            shipped = await self.request(
                "POST", f"/shops/{shop_handle}/orders/{order_id}/ship",
                json={"carrier": "usps", "tracking_number": tracking},
            )  # fmt: skip
            if shipped is not None:
                self.shared.stats.shipped += 1
                self.shared.shipped.setdefault(buyer, asyncio.Queue()).put_nowait(order_id)
            queue.task_done()


async def simulate(
    base_url: str,
    *,
    users: int,
    minutes: float,
    seed: int = 7,
    pace: float = 1.0,
    buy_chance: float = 0.08,
    transport: httpx.AsyncBaseTransport | None = None,
    on_progress: Callable[[float, SimulationStats], None] | None = None,
) -> SimulationStats:
    """Run `users` simulated buyers (and the sellers their orders need) for `minutes`
    against the ClipCart at `base_url`; what they did. `pace` 0 runs as fast as it can;
    `buy_chance` is how often a video with products ends in a purchase."""
    shared = _Shared(SimulationStats())
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    clients: list[httpx.AsyncClient] = []

    def client() -> httpx.AsyncClient:
        made = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=30.0)
        clients.append(made)
        return made

    try:
        emails = await _buyer_emails(users, client(), shared)
        buyers = [
            _Buyer(
                client(), email, shared, rng=random.Random(rng.random()), pace=pace,
                buy_chance=buy_chance,
            )
            for email in emails
        ]  # fmt: skip
        logged_in = await asyncio.gather(*(buyer.log_in(DEMO_PASSWORD) for buyer in buyers))
        # The clock starts once everybody is in: logging in hashes slowly on purpose.
        started = loop.time()
        deadline = started + minutes * 60

        def start_seller(shop_handle: str) -> None:
            email = shop_owner_email(shop_handle)
            if shop_handle in shared.sellers or email is None:
                return

            async def work(email: str) -> None:
                seller = _Seller(client(), email, shared)
                if await seller.log_in(DEMO_PASSWORD):
                    await seller.run(shop_handle, deadline + 5)

            shared.sellers[shop_handle] = asyncio.create_task(work(email))

        tasks = [
            asyncio.create_task(buyer.run(deadline, start_seller))
            for buyer, ok in zip(buyers, logged_in, strict=True)
            if ok
        ]
        while not all(task.done() for task in tasks):
            if on_progress is not None:
                elapsed = (loop.time() - started) / max(1.0, minutes * 60)
                on_progress(min(1.0, elapsed), shared.stats)
            await asyncio.sleep(0.2)
        await _drain(shared, tasks, buyers)
    finally:
        running = [task for task in shared.sellers.values() if not task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        for made in clients:
            await made.aclose()
    if on_progress is not None:
        on_progress(1.0, shared.stats)
    return shared.stats


async def _drain(shared: _Shared, tasks: list[asyncio.Task[None]], buyers: list[_Buyer]) -> None:
    """After the deadline: let the sellers ship what was bought, and the buyers confirm it."""
    await asyncio.gather(*tasks, return_exceptions=True)
    for queue in shared.to_ship.values():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(queue.join(), timeout=15)
    for buyer in buyers:
        await buyer.confirm_arrivals()


async def _buyer_emails(count: int, probe: httpx.AsyncClient, shared: _Shared) -> list[str]:
    """World shoppers when the generated world is there, else the demo buyer."""
    person = _Person(probe, f"shopper0@{WORLD_DOMAIN}", shared)
    if await person.log_in(DEMO_PASSWORD):
        return [f"shopper{index}@{WORLD_DOMAIN}" for index in range(count)]
    shared.stats.errors = 0  # the probe's refusal is not a failure of the simulation
    return [DEMO_ACCOUNTS[0][2]]
