"""`clipcart import-products` end to end: a real process on its own SQLite data directory."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.test_catalog_import import build_sample, images_zip

CLIPCART = [sys.executable, "-m", "clipcart"]
OPEN_SHOP = """
import asyncio
from clipcart.accounts import service as accounts
from clipcart.accounts.schemas import SignupIn
from clipcart.core.db import unit_of_work
from clipcart.shops import service as shops
from clipcart.shops.schemas import ShopIn

async def main() -> None:
    async with unit_of_work() as session:
        user = await accounts.sign_up(
            SignupIn(email="o@example.com", handle="olivia", password="correct horse battery"),
            session=session,
        )
        await shops.open_shop(
            user, ShopIn(handle="acme", name="Acme", country="US", currency="USD"), session=session
        )

asyncio.run(main())
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPCART_")}
    env.update({"CLIPCART_DATA_DIR": str(data_dir), "CLIPCART_LOG_LEVEL": "WARNING"})
    env["COLUMNS"] = "200"
    return env


def _run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLIPCART, *args], env=_env(data_dir), capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data_dir = tmp_path / "var"
    assert _run(["migrate"], data_dir).returncode == 0
    opened = subprocess.run(
        [sys.executable, "-c", OPEN_SHOP], env=_env(data_dir), capture_output=True, text=True
    )
    assert opened.returncode == 0, opened.stderr
    return data_dir


def _count(data_dir: Path, table: str) -> int:
    with sqlite3.connect(data_dir / "clipcart.db") as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_import_products_reports_rejected_rows_and_reimports_cleanly(
    data_dir: Path, tmp_path: Path
) -> None:
    sample = build_sample()
    csv_path = tmp_path / "products.csv"
    csv_path.write_bytes(sample.to_bytes())
    zip_path = tmp_path / "pictures.zip"
    zip_path.write_bytes(images_zip(sample.image_names))

    result = _run(["import-products", "acme", str(csv_path), "--images", str(zip_path)], data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"{len(sample.rows)} rows: {len(sample.good_handles)} products created" in out
    assert f"{len(sample.bad)} rows rejected" in out
    assert f"Rejected rows ({len(sample.bad)})" in out
    cells = [[cell.strip() for cell in line.split("│")[1:3]] for line in out.splitlines()]
    for row, column in sample.bad.items():
        assert [str(row), column] in cells, (row, column)
    assert "The price cannot be negative." in out
    assert _count(data_dir, "catalog_products") == len(sample.good_handles)
    assert _count(data_dir, "catalog_variants") == sample.variant_count
    assert _count(data_dir, "catalog_product_images") == len(sample.image_names)
    movements = _count(data_dir, "catalog_stock_movements")

    again = _run(["import-products", "@acme", str(csv_path), "--images", str(zip_path)], data_dir)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"0 products created, 0 updated, {len(sample.good_handles)} unchanged" in again.stdout
    assert _count(data_dir, "catalog_products") == len(sample.good_handles)
    assert _count(data_dir, "catalog_product_images") == len(sample.image_names)
    assert _count(data_dir, "catalog_stock_movements") == movements


def test_unusable_file_exits_non_zero_and_writes_nothing(data_dir: Path, tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Handle,Title,Variant Price\r\nbrie,Crème brûlée,4.00\r\n".encode("latin-1"))
    result = _run(["import-products", "acme", str(latin)], data_dir)
    assert result.returncode == 1
    assert "not UTF-8" in result.stdout
    missing = tmp_path / "missing.csv"
    missing.write_bytes(b"Handle,Price\r\nbrie,4.00\r\n")
    result = _run(["import-products", "acme", str(missing)], data_dir)
    assert result.returncode == 1
    assert "Title, Variant Price" in result.stdout
    nowhere = _run(["import-products", "no-such-shop", str(missing)], data_dir)
    assert nowhere.returncode == 1
    assert "no shop" in nowhere.stdout
    assert _count(data_dir, "catalog_products") == 0
