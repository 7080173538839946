"""Catalogue import throughput: rows/s importing a generated Shopify CSV of 10,000 products
(two variants each, so 20,000 rows) through ClipCart's importer, on SQLite (a temporary file)
and PostgreSQL (a temporary database). Baselines measured in the same run on the same engine:
parsing alone, and a bare bulk INSERT of the same products and variants.

    .venv/bin/python -m bench.catalog_import [--products 10000]

Writes bench/results/catalog_import.json.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert

from bench._postgres import server_version
from bench.ledger import POSTGRES_ADMIN, _postgres_admin, machine_description
from clipcart.catalog.csv_format import EXPORT_COLUMNS, parse_products
from clipcart.core.config import get_settings
from clipcart.core.db import dispose_engine, unit_of_work
from clipcart.core.migrations import upgrade_to_head

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "catalog_import.json"
TARGETS: dict[str, float] = {}
console = Console()


def generate_csv(products: int) -> bytes:
    """A Shopify product CSV: `products` shirts in two sizes, with descriptions and tags."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    for number in range(products):
        handle = f"bench-shirt-{number}"
        for index, size in enumerate(("M", "L")):
            row = {
                "Handle": handle,
                "Option1 Value": size,
                "Variant SKU": f"B{number}-{size}",
                "Variant Price": f"{10 + number % 90}.99",
                "Variant Grams": "220",
                "Variant Inventory Qty": str(number % 50),
            }
            if index == 0:
                row.update(
                    {
                        "Title": f"Bench Shirt {number}",
                        "Body (HTML)": f"<p>Shirt <b>{number}</b> in soft cotton.</p>",
                        "Vendor": "Bench Co",
                        "Type": "Shirts",
                        "Tags": "cotton, bench",
                        "Option1 Name": "Size",
                        "Status": "active",
                    }
                )
            writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class Rates:
    """Rows per second on one database."""

    import_rows_per_s: float
    reimport_rows_per_s: float
    parse_rows_per_s: float
    bare_insert_rows_per_s: float
    rows: int


async def _open_shop() -> Any:
    from clipcart.accounts import service as accounts
    from clipcart.accounts.schemas import SignupIn
    from clipcart.shops import service as shops
    from clipcart.shops.schemas import ShopIn

    async with unit_of_work() as session:
        user = await accounts.sign_up(
            SignupIn(
                email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
                handle=f"b{uuid.uuid4().hex[:10]}",
                password="bench horse battery staple",
            ),
            session=session,
        )
        return await shops.open_shop(
            user,
            ShopIn(handle=f"s{uuid.uuid4().hex[:10]}", name="Bench", country="US", currency="USD"),
            session=session,
        )


async def _bare_insert(parsed_products: list[Any], shop: Any) -> float:
    """The same products and variants as plain multi-row INSERTs in one transaction."""
    from clipcart.catalog.models import Product, Variant
    from clipcart.core import clock
    from clipcart.core.ids import new_id

    products, variants = [], []
    now = clock.now()
    for record in parsed_products:
        product_id = new_id()
        products.append(
            {
                "id": product_id,
                "created_at": now,
                "updated_at": now,
                "shop_id": shop.id,
                "handle": "bare-" + record.handle,
                "title": record.title,
                "description_html": record.description_html,
                "vendor": record.vendor,
                "product_type": record.product_type,
                "tags": record.tags,
                "category_id": None,
                "status": record.status,
                "options": record.options,
                "currency": "USD",
            }
        )
        for position, variant in enumerate(record.variants):
            variants.append(
                {
                    "id": new_id(),
                    "created_at": now,
                    "product_id": product_id,
                    "shop_id": shop.id,
                    "position": position,
                    "sku": "bare-" + (variant.sku or ""),
                    "option_values": variant.option_values,
                    "price": variant.price,
                    "compare_at_price": variant.compare_at_price,
                    "weight_grams": variant.weight_grams,
                    "stock": variant.stock or 0,
                }
            )
    started = time.perf_counter()
    async with unit_of_work() as session:
        for start in range(0, len(products), 500):
            await session.execute(insert(Product), products[start : start + 500])
        for start in range(0, len(variants), 500):
            await session.execute(insert(Variant), variants[start : start + 500])
    return time.perf_counter() - started


async def measure(data: bytes) -> Rates:
    """Parse, import, re-import (nothing changes) and the bare INSERT baseline."""
    from clipcart.catalog.importing import import_file

    try:
        shop = await _open_shop()
        started = time.perf_counter()
        parsed = parse_products(data, currency="USD")
        parse_seconds = time.perf_counter() - started
        rows = parsed.total_rows

        started = time.perf_counter()
        report = await import_file(shop.handle, data)
        import_seconds = time.perf_counter() - started
        assert report.created == len(parsed.products) and not report.rejected, report.rejected[:3]

        started = time.perf_counter()
        again = await import_file(shop.handle, data)
        reimport_seconds = time.perf_counter() - started
        assert again.unchanged == len(parsed.products), (again.created, again.updated)

        bare_seconds = await _bare_insert(parsed.products, shop)
    finally:
        await dispose_engine()
    return Rates(
        import_rows_per_s=rows / import_seconds,
        reimport_rows_per_s=rows / reimport_seconds,
        parse_rows_per_s=rows / parse_seconds,
        bare_insert_rows_per_s=rows / bare_seconds,
        rows=rows,
    )


def _use_database(url: str) -> None:
    os.environ["CLIPCART_DATABASE_URL"] = url
    get_settings.cache_clear()


def bench_sqlite(data: bytes) -> Rates:
    """On a fresh SQLite file (WAL, synchronous=NORMAL as the app configures it)."""
    with tempfile.TemporaryDirectory(prefix="clipcart-bench-import-") as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'import.db'}"
        os.environ["CLIPCART_DATA_DIR"] = directory
        _use_database(url)
        upgrade_to_head(url)
        return asyncio.run(measure(data))


def bench_postgres(data: bytes) -> Rates:
    """On a temporary PostgreSQL database, created and dropped here."""
    database = f"clipcart_bench_import_{uuid.uuid4().hex[:10]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{database}"'))
    try:
        url = POSTGRES_ADMIN.replace("postgresql:", "postgresql+asyncpg:").rsplit("/", 1)[0]
        url = f"{url}/{database}"
        _use_database(url)
        upgrade_to_head(url)
        return asyncio.run(measure(data))
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def main() -> None:
    """Measure both databases, print the table, write the results file."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000, help="products in the CSV")
    args = parser.parse_args()
    os.environ.setdefault("CLIPCART_LOG_LEVEL", "WARNING")
    data = generate_csv(args.products)

    with console.status("SQLite: migrating and importing..."):
        sqlite = bench_sqlite(data)
    with console.status("PostgreSQL: creating a database, migrating and importing..."):
        postgres = bench_postgres(data)

    table = Table(
        title=f"Catalogue import: rows/s for {sqlite.rows:,} rows ({args.products:,} products)"
    )
    for column in ("database", "import", "re-import (unchanged)", "parse only", "bare INSERT"):
        table.add_column(column, justify="left" if column == "database" else "right")
    for name, rates in (("PostgreSQL", postgres), ("SQLite", sqlite)):
        table.add_row(
            name,
            f"{rates.import_rows_per_s:,.0f}",
            f"{rates.reimport_rows_per_s:,.0f}",
            f"{rates.parse_rows_per_s:,.0f}",
            f"{rates.bare_insert_rows_per_s:,.0f}",
        )
    console.print(table)
    figures = {
        "rows_per_s_sqlite": round(sqlite.import_rows_per_s, 1),
        "rows_per_s_postgres": round(postgres.import_rows_per_s, 1),
        "reimport_rows_per_s_sqlite": round(sqlite.reimport_rows_per_s, 1),
        "reimport_rows_per_s_postgres": round(postgres.reimport_rows_per_s, 1),
        "parse_rows_per_s": round(max(sqlite.parse_rows_per_s, postgres.parse_rows_per_s), 1),
        "bare_insert_rows_per_s_sqlite": round(sqlite.bare_insert_rows_per_s, 1),
        "bare_insert_rows_per_s_postgres": round(postgres.bare_insert_rows_per_s, 1),
    }
    bench_args = argparse.Namespace(concurrency=1, sqlite_concurrency=1, accounts=0)
    machine = machine_description(server_version(), bench_args)
    machine = machine.split("; ", 1)[0] + "; one import process, chunks of 200 products"
    document: dict[str, Any] = {
        "figures": figures,
        "targets": TARGETS,
        "baselines": {
            f"{kind}_per_s_{backend}": f"bare_insert_rows_per_s_{backend}"
            for kind in ("rows", "reimport_rows")
            for backend in ("sqlite", "postgres")
        },
        "machine": machine,
        "notes": {
            "workload": f"{args.products} products x 2 variants, one import, then the same file",
            "baseline": "parsing alone; bare multi-row INSERT of the same products and variants",
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"Wrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
