"""The demo seed: one account per role, idempotent, usable through the API; and its reset."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from clipcart.core.config import Settings
from clipcart.demo.seed import DEMO_PASSWORD, reset_demo_data, seed_demo
from tests.api.test_accounts_auth import login


async def test_seed_demo_is_idempotent_and_logins_work(client: httpx.AsyncClient) -> None:
    first = await seed_demo()
    second = await seed_demo()
    assert first == second
    assert [row[0] for row in first] == ["buyer", "creator", "seller", "moderator", "admin"]
    expected_roles = {
        "buyer": ["buyer"],
        "creator": ["buyer", "creator"],
        "seller": ["buyer", "seller_staff"],
        "moderator": ["buyer", "moderator"],
        "admin": ["admin", "buyer"],
    }
    for label, email, handle in first:
        response = await login(client, email, DEMO_PASSWORD)
        user = response.json()["user"]
        assert user["handle"] == handle
        assert sorted(user["roles"]) == expected_roles[label]


def test_reset_refuses_other_databases(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql+asyncpg://x@localhost/db")
    with pytest.raises(ValueError, match="only the embedded SQLite"):
        reset_demo_data(settings)


def test_reset_deletes_database_jobs_and_media(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'clipcart.db'}",
        media_root=None,
    )
    for name in ("clipcart.db", "clipcart.db-wal", "jobs.db", "secret_key"):
        (tmp_path / name).write_text("x")
    (tmp_path / "media" / "avatars").mkdir(parents=True)
    (tmp_path / "media" / "avatars" / "a-64.webp").write_text("x")
    reset_demo_data(settings)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["secret_key"]


async def test_seed_demo_opens_the_demo_shop_once_with_active_products(
    client: httpx.AsyncClient,
) -> None:
    from clipcart.demo.catalog import DEMO_PRODUCTS, DEMO_SHOP_HANDLE

    await seed_demo()
    await seed_demo()
    response = await client.get("/api/v1/products", params={"shop": DEMO_SHOP_HANDLE})
    assert response.status_code == 200, response.text
    products = response.json()["items"]
    assert sorted(product["title"] for product in products) == sorted(
        item.title for item in DEMO_PRODUCTS
    )
    assert all(product["images"] for product in products)
    page = await client.get(f"/shop/{DEMO_SHOP_HANDLE}")
    assert page.status_code == 200 and "Sam&#39;s Corner Store" in page.text
