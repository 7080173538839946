"""Shops through the API: open, settings, logo, staff and who may do what.

The helpers at the top are shared by the test_catalog_* modules."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from clipcart.core.db import get_sessionmaker
from clipcart.shops import service as shops_service
from clipcart.shops.models import Shop, ShopStaff
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup


def png(width: int = 400, height: int = 300, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A real PNG picture."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


async def open_shop(
    client: httpx.AsyncClient, handle: str = "acme", *, expect: int = 201, **fields: Any
) -> dict[str, Any]:
    """Open a shop as the client's user."""
    body: dict[str, Any] = {
        "handle": handle,
        "name": fields.pop("name", "Acme Goods"),
        "country": "US",
        "currency": "USD",
        **fields,
    }
    response = await client.post(f"{API}/shops", json=body)
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_open_shop_makes_the_user_owner_and_seller(client: httpx.AsyncClient) -> None:
    await signup(client, "olivia")
    shop = await open_shop(
        client,
        "@Acme",
        description="Useful things.",
        return_policy="30 days, unused.",
        shipping_flat_rate=499,
        free_shipping_threshold=5000,
        processing_days=3,
    )
    assert shop["handle"] == "acme"
    assert shop["currency"] == "USD"
    assert shop["shipping"]["flat_rate"] == {"amount": 499, "currency": "USD", "formatted": "$4.99"}
    assert shop["shipping"]["free_shipping_threshold"]["formatted"] == "$50.00"
    assert shop["shipping"]["processing_days"] == 3
    me = (await client.get(f"{API}/me")).json()
    assert "seller_staff" in me["roles"]
    mine = (await client.get(f"{API}/shops/mine")).json()
    assert [item["handle"] for item in mine] == ["acme"]
    staff = (await client.get(f"{API}/shops/acme/staff")).json()
    assert [(item["user_handle"], item["role"]) for item in staff] == [("olivia", "owner")]
    public = await client.get(f"{API}/shops/ACME")
    assert public.status_code == 200 and public.json()["name"] == "Acme Goods"


async def test_open_shop_refuses_bad_fields_and_writes_nothing(client: httpx.AsyncClient) -> None:
    await signup(client, "olivia")
    response = await client.post(
        f"{API}/shops",
        json={
            "handle": "a",
            "name": "",
            "country": "XX",
            "currency": "ZZZ",
            "shipping_flat_rate": -1,
            "processing_days": 99,
        },
    )
    body = assert_problem(response, 422, "validation_failed")
    fields = {error["field"] for error in body["errors"]}
    assert fields == {
        "handle",
        "name",
        "country",
        "currency",
        "shipping_flat_rate",
        "processing_days",
    }
    async with get_sessionmaker()() as session:
        assert await session.scalar(select(func.count()).select_from(Shop)) == 0
        assert await session.scalar(select(func.count()).select_from(ShopStaff)) == 0
    me = (await client.get(f"{API}/me")).json()
    assert "seller_staff" not in me["roles"]


async def test_shop_handle_is_unique(client: httpx.AsyncClient, app: Any) -> None:
    await signup(client, "olivia")
    await open_shop(client, "acme")
    async with new_client(app) as other:
        await signup(other, "peter")
        response = await other.post(
            f"{API}/shops", json={"handle": "ACME", "name": "X", "country": "GB", "currency": "GBP"}
        )
        assert_problem(response, 409, "already_taken")


async def test_opening_a_shop_needs_a_login(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/shops", json={"handle": "acme", "name": "X", "country": "US", "currency": "USD"}
    )
    assert response.status_code in {401, 403}


async def test_settings_change_and_outsiders_see_not_found(
    client: httpx.AsyncClient, app: Any
) -> None:
    await signup(client, "olivia")
    await open_shop(client, "acme")
    response = await client.patch(
        f"{API}/shops/acme",
        json={"name": "Acme & Co", "free_shipping_threshold": 2500, "processing_days": 1},
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Acme & Co"
    assert response.json()["shipping"]["free_shipping_threshold"]["amount"] == 2500
    bad = await client.patch(f"{API}/shops/acme", json={"shipping_flat_rate": -5})
    assert_problem(bad, 422, "validation_failed")
    assert (await client.get(f"{API}/shops/acme")).json()["shipping"]["flat_rate"]["amount"] == 0
    async with new_client(app) as other:
        await signup(other, "mallory")
        assert_problem(
            await other.patch(f"{API}/shops/acme", json={"name": "Mine now"}), 404, "shop_not_found"
        )
        assert_problem(await other.get(f"{API}/shops/acme/staff"), 404, "shop_not_found")


async def test_owner_manages_staff_and_roles_are_enforced(
    client: httpx.AsyncClient, app: Any
) -> None:
    await signup(client, "olivia")
    await open_shop(client, "acme")
    async with new_client(app) as manager, new_client(app) as packer:
        await signup(manager, "mark")
        await signup(packer, "fiona")
        added = await client.post(
            f"{API}/shops/acme/staff", json={"user_handle": "@Mark", "role": "manager"}
        )
        assert added.status_code == 201, added.text
        assert added.json()["role"] == "manager"
        await client.post(
            f"{API}/shops/acme/staff", json={"user_handle": "fiona", "role": "fulfilment"}
        )
        assert "seller_staff" in (await manager.get(f"{API}/me")).json()["roles"]
        # a manager may change settings but not staff
        ok = await manager.patch(f"{API}/shops/acme", json={"description": "By Mark"})
        assert ok.status_code == 200
        assert_problem(
            await manager.post(
                f"{API}/shops/acme/staff", json={"user_handle": "fiona", "role": "manager"}
            ),
            403,
            "shop_role_required",
        )
        # fulfilment staff may look but not change settings
        assert (await packer.get(f"{API}/shops/acme/staff")).status_code == 200
        assert_problem(
            await packer.patch(f"{API}/shops/acme", json={"name": "X"}), 403, "shop_role_required"
        )
        bad_role = await client.post(
            f"{API}/shops/acme/staff", json={"user_handle": "fiona", "role": "owner"}
        )
        assert_problem(bad_role, 422, "validation_failed")
        assert_problem(
            await client.delete(f"{API}/shops/acme/staff/olivia"), 409, "owner_role_fixed"
        )
        removed = await client.delete(f"{API}/shops/acme/staff/fiona")
        assert removed.status_code == 204
        assert_problem(await packer.get(f"{API}/shops/acme/staff"), 404, "shop_not_found")
        missing = await client.post(
            f"{API}/shops/acme/staff", json={"user_handle": "nobody", "role": "manager"}
        )
        assert missing.status_code == 404


async def test_logo_is_checked_reencoded_and_served(client: httpx.AsyncClient) -> None:
    await signup(client, "olivia")
    await open_shop(client, "acme")
    response = await client.put(
        f"{API}/shops/acme/logo", files={"file": ("logo.png", png(300, 200), "image/png")}
    )
    assert response.status_code == 200, response.text
    url = response.json()["logo_url"]
    assert url.endswith("-256.webp")
    served = await client.get(url)
    assert served.status_code == 200
    picture = Image.open(io.BytesIO(served.content))
    assert picture.format == "WEBP" and picture.size == (256, 256)
    text = await client.put(
        f"{API}/shops/acme/logo", files={"file": ("logo.png", b"not a picture", "image/png")}
    )
    body = assert_problem(text, 422, "logo_invalid")
    assert body["errors"][0]["field"] == "logo"
    assert (await client.get(f"{API}/shops/acme")).json()["logo_url"] == url


@pytest.mark.parametrize("handle", ["shop", "bad handle", "x" * 31])
async def test_reserved_or_malformed_handles_are_refused(
    client: httpx.AsyncClient, handle: str
) -> None:
    await signup(client, "olivia")
    body = await open_shop(client, handle, expect=422)
    assert body["errors"][0]["field"] == "handle"


async def test_shops_by_ids_reads_a_batch_of_shops_by_id(client: httpx.AsyncClient) -> None:
    await signup(client, "olivia")
    acme = uuid.UUID((await open_shop(client, "acme"))["id"])
    beta = uuid.UUID((await open_shop(client, "beta", name="Beta Things"))["id"])
    unknown = uuid.uuid4()
    async with get_sessionmaker()() as session:
        found = await shops_service.shops_by_ids([acme, beta, acme, unknown], session=session)
        assert set(found) == {acme, beta}
        assert found[acme].handle == "acme" and found[beta].name == "Beta Things"
        assert await shops_service.shops_by_ids([], session=session) == {}
        assert await shops_service.shops_by_ids({unknown}, session=session) == {}
