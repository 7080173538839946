"""Flash sale: 5,000 buyers on one SKU with 100 units, on PostgreSQL (a scratch database),
through HTTP against one Granian worker (the payment sandbox in a second one, as for
bench/checkout.py). Every buyer tries once: POST /api/v1/checkout for one unit, and the
winners pay at once. Buyers arrive over --connections keep-alive connections.

Figures: sold (units paid), oversold (units reserved beyond the stock, from the database),
errors_5xx, soldout_p99_ms (client-side latency of the 409 "sold_out" answers after the SKU
sold out), reservations_per_s (checkout attempts decided per second — placed or refused —
over the whole burst), plus how long selling out took.

    .venv/bin/python -m bench.flash_sale [--buyers 5000] [--stock 100] [--connections 50]

Writes bench/results/flash_sale.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench._commerce import Buyer, Stocked
from bench._http import REPO_ROOT, machine_description
from bench.checkout import Connection, clipcart_servers, quote_total, seed, server_cpu_seconds
from bench.events import scratch_postgres

RESULTS = REPO_ROOT / "bench" / "results" / "flash_sale.json"
TARGETS = {"sold": 100, "oversold": 0, "errors_5xx": 0, "soldout_p99_ms": 50}
console = Console()


@dataclass
class Burst:
    """What the burst of buyers saw."""

    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    soldout_latencies: list[float] = field(default_factory=list)
    placed_latencies: list[float] = field(default_factory=list)
    paid: int = 0
    sold_out_at: float | None = None  # seconds from the start to the first sold-out answer
    errors_5xx: int = 0

    def percentile_ms(self, values: list[float], fraction: float) -> float:
        """A percentile of `values` (seconds) in ms."""
        ordered = sorted(values)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def _burst(
    base_url: str, stocked: Stocked, buyers: list[Buyer], *, total: int, connections: int
) -> Burst:
    burst = Burst()
    queue = iter(buyers)
    started = time.perf_counter()

    async def client() -> None:
        connection = await Connection.open(base_url)
        try:
            for buyer in queue:
                body = {
                    "items": [{"variant_id": str(stocked.variant_id), "quantity": 1}],
                    "address_id": str(buyer.address_id),
                    "payment_method": buyer.card_token,
                    "expected_total": total,
                }
                headers = buyer.headers | {"Idempotency-Key": uuid.uuid4().hex}
                sent = time.perf_counter()
                status, answer = await connection.post("/api/v1/checkout", body, headers)
                elapsed = time.perf_counter() - sent
                code = answer.get("code", "") if isinstance(answer, dict) else ""
                burst.statuses[f"checkout {status} {code}".strip()] += 1
                if status >= 500:
                    burst.errors_5xx += 1
                if status == 409 and code == "sold_out":
                    burst.soldout_latencies.append(elapsed)
                    if burst.sold_out_at is None:
                        burst.sold_out_at = time.perf_counter() - started
                    continue
                if status != 201:
                    continue
                burst.placed_latencies.append(elapsed)
                headers = buyer.headers | {"Idempotency-Key": uuid.uuid4().hex}
                path = f"/api/v1/checkout/{answer['checkout_id']}/pay"
                status, answer = await connection.post(path, {}, headers)
                burst.statuses[f"pay {status}"] += 1
                if status >= 500:
                    burst.errors_5xx += 1
                orders = answer.get("orders", []) if isinstance(answer, dict) else []
                if status == 200 and [order.get("status") for order in orders] == ["paid"]:
                    burst.paid += 1
        finally:
            connection.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    burst.seconds = time.perf_counter() - started
    return burst


@dataclass(frozen=True)
class Ledgered:
    """What the database says after the burst."""

    stock_left: int
    paid_units: int
    reserved_units: int  # held + committed (not released)
    orders: dict[str, int]


async def _database_view(database_url: str, stocked: Stocked) -> Ledgered:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from clipcart.catalog.models import Variant
    from clipcart.commerce.models import Order, OrderLine, StockReservation
    from clipcart.core.db import create_engine

    engine = create_engine(database_url)
    try:
        async with async_sessionmaker(engine)() as session:
            stock = await session.scalar(
                select(Variant.stock).where(Variant.id == stocked.variant_id)
            )
            paid = await session.scalar(
                select(func.coalesce(func.sum(OrderLine.quantity), 0))
                .join(Order, Order.id == OrderLine.order_id)
                .where(OrderLine.variant_id == stocked.variant_id, Order.status == "paid")
            )
            reserved = await session.scalar(
                select(func.coalesce(func.sum(StockReservation.quantity), 0)).where(
                    StockReservation.variant_id == stocked.variant_id,
                    StockReservation.status.in_(("held", "committed")),
                )
            )
            orders = dict(
                (
                    await session.execute(select(Order.status, func.count()).group_by(Order.status))
                ).all()
            )
        return Ledgered(int(stock or 0), int(paid or 0), int(reserved or 0), orders)
    finally:
        await engine.dispose()


def main() -> None:
    """Run the burst, check the database, print the table, write the results file."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=5000)
    parser.add_argument("--stock", type=int, default=100)
    parser.add_argument("--connections", type=int, default=50, help="concurrent buyers")
    args = parser.parse_args()
    console.print(
        f"{args.buyers:,} buyers, one try each, over {args.connections} keep-alive connections, "
        f"for one SKU with {args.stock} units; ClipCart in one Granian worker on PostgreSQL"
    )
    with tempfile.TemporaryDirectory(prefix="clipcart-bench-flash-") as temporary:
        root = Path(temporary)
        with scratch_postgres() as url:
            with console.status(f"seeding {args.buyers:,} buyers"):
                stocked, buyers = seed(url, buyers=args.buyers + 1, stock=args.stock, variants=1)
            with (
                console.status("the flash sale is on"),
                clipcart_servers(url, root, profile=False) as (base, _, _),
            ):
                total = quote_total(base, stocked, buyers[0])
                before = server_cpu_seconds()
                burst = asyncio.run(
                    _burst(base, stocked, buyers[1:], total=total, connections=args.connections)
                )
                after = server_cpu_seconds()
            view = asyncio.run(_database_view(url, stocked))

    attempts = sum(count for name, count in burst.statuses.items() if name.startswith("checkout"))
    figures: dict[str, float] = {
        "sold": view.paid_units,
        "oversold": max(0, view.reserved_units - args.stock) + max(0, -view.stock_left),
        "errors_5xx": burst.errors_5xx,
        "soldout_p99_ms": round(burst.percentile_ms(burst.soldout_latencies, 0.99), 1),
        "reservations_per_s": round(attempts / burst.seconds, 1) if burst.seconds else 0.0,
        "soldout_p50_ms": round(burst.percentile_ms(burst.soldout_latencies, 0.5), 1),
        "placed_p50_ms": round(burst.percentile_ms(burst.placed_latencies, 0.5), 1),
        "seconds_to_sell_out": round(burst.sold_out_at or 0.0, 2),
        "burst_seconds": round(burst.seconds, 2),
        "stock_left": view.stock_left,
        # CPU the ClipCart process spent per checkout answer (most of them sold-out answers).
        "app_cpu_ms_per_attempt": round((after["app"] - before["app"]) * 1000 / attempts, 2)
        if attempts
        else 0.0,
    }
    table = Table(title="Flash sale")
    for column in ("figure", "value", "target"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for name, value in figures.items():
        target = TARGETS.get(name)
        table.add_row(name, f"{value:,}", "" if target is None else f"{target:,}")
    console.print(table)
    console.print("Answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(burst.statuses.items())))
    console.print(f"Orders in the database by status: {view.orders}")
    document: dict[str, Any] = {
        "figures": figures,
        "targets": TARGETS,
        "baselines": {},  # no baseline measured: the figures are counts and latencies
        "machine": machine_description(
            f"{args.connections} keep-alive connections, {args.buyers} buyers",
            "payment sandbox in a second Granian worker",
        ),
        "notes": {"answers": dict(burst.statuses), "orders": view.orders},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"Wrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
