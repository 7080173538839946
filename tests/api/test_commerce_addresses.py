"""Address book API: per-country validation with per-field messages, default, access."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from clipcart.accounts import service as accounts
from clipcart.commerce import address_book
from clipcart.core.db import unit_of_work
from tests.api.test_accounts_auth import API, assert_problem, other_client, signup

__all__ = ["other_client"]

US = {
    "name": "Jane Buyer",
    "line1": "1 Market St",
    "city": "San Francisco",
    "region": "ca",
    "postal_code": "94103",
    "country": "us",
    "phone": "+1 415 555 0100",
}
GB = {
    "name": "Ada L",
    "line1": "10 Downing St",
    "city": "London",
    "postal_code": "sw1a2aa",
    "country": "GB",
}


def field_messages(response: httpx.Response) -> dict[str, str]:
    body = assert_problem(response, 422, "validation_failed")
    return {error["field"]: error["message"] for error in body["errors"]}


async def add(client: httpx.AsyncClient, fields: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"{API}/addresses", json=fields)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_save_list_and_the_first_address_is_the_default(client: httpx.AsyncClient) -> None:
    await signup(client)
    first = await add(client, US)
    assert first["region"] == "CA" and first["country"] == "US" and first["is_default"]
    assert first["country_name"] == "United States"
    second = await add(client, GB)
    assert second["postal_code"] == "SW1A 2AA" and not second["is_default"]
    listed = (await client.get(f"{API}/addresses")).json()
    assert [a["id"] for a in listed] == [first["id"], second["id"]]

    made = await client.post(f"{API}/addresses/{second['id']}/default")
    assert made.status_code == 200 and made.json()["is_default"]
    listed = (await client.get(f"{API}/addresses")).json()
    assert [(a["id"], a["is_default"]) for a in listed] == [
        (second["id"], True),
        (first["id"], False),
    ]


async def test_invalid_addresses_get_every_field_message(client: httpx.AsyncClient) -> None:
    await signup(client)
    messages = field_messages(
        await client.post(f"{API}/addresses", json={**US, "region": "ZZ", "postal_code": "9410"})
    )
    assert messages == {
        "region": "Enter a valid 2-letter state code, like CA or NY.",
        "postal_code": "Enter a 5-digit ZIP code, like 94103 (or ZIP+4, 94103-1234).",
    }
    messages = field_messages(
        await client.post(f"{API}/addresses", json={**GB, "postal_code": "12345", "name": ""})
    )
    assert set(messages) == {"postal_code", "name"}
    assert "UK postcode" in messages["postal_code"]
    messages = field_messages(
        await client.post(
            f"{API}/addresses",
            json={
                "name": "Li",
                "line1": "1 Rd",
                "city": "Shenzhen",
                "country": "CN",
                "postal_code": "5180",
            },
        )
    )
    assert set(messages) == {"region", "postal_code"}
    messages = field_messages(
        await client.post(f"{API}/addresses", json={**GB, "country": "DE", "postal_code": "1011"})
    )
    assert messages == {
        "postal_code": "Enter a 5-digit postal code (PLZ) with digits only, like 10115."
    }
    assert (await client.get(f"{API}/addresses")).json() == []  # nothing half-saved


async def test_patch_revalidates_and_delete_moves_the_default(client: httpx.AsyncClient) -> None:
    await signup(client)
    first = await add(client, US)
    second = await add(client, {**US, "line1": "2 Market St"})
    changed = await client.patch(
        f"{API}/addresses/{first['id']}", json={"postal_code": "10001-1234", "region": "NY"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["postal_code"] == "10001-1234" and changed.json()["region"] == "NY"
    refused = await client.patch(f"{API}/addresses/{first['id']}", json={"country": "CN"})
    assert set(field_messages(refused)) == {"region", "postal_code"}

    assert (await client.delete(f"{API}/addresses/{first['id']}")).status_code == 204
    listed = (await client.get(f"{API}/addresses")).json()
    assert [(a["id"], a["is_default"]) for a in listed] == [(second["id"], True)]


async def test_someone_elses_address_is_not_found(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
) -> None:
    await signup(client)
    mine = await add(client, US)
    await signup(other_client, "mallory")
    for response in (
        await other_client.patch(f"{API}/addresses/{mine['id']}", json={"name": "X"}),
        await other_client.delete(f"{API}/addresses/{mine['id']}"),
        await other_client.post(f"{API}/addresses/{mine['id']}/default"),
    ):
        assert_problem(response, 404, "address_not_found")
    assert (await other_client.get(f"{API}/addresses")).json() == []
    assert len((await client.get(f"{API}/addresses")).json()) == 1


async def test_addresses_need_a_login(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/addresses"), 401, "not_authenticated")


async def test_default_address_snapshot_and_inline_validation(client: httpx.AsyncClient) -> None:
    user = await signup(client)
    await add(client, US)
    newest = await add(client, GB)
    user_id = uuid.UUID(user["user"]["id"])
    async with unit_of_work() as session:
        default = await address_book.default_address(user_id, session=session)
        assert default is not None and default.region == "CA"
        snapshot = address_book.address_snapshot(default)
        assert snapshot["postal_code"] == "94103" and set(snapshot) >= {"name", "country"}
        jane = await accounts.get_user_by_handle("jane", session=session)
        await address_book.set_default_address(jane, uuid.UUID(newest["id"]), session=session)
    async with unit_of_work() as session:
        default = await address_book.default_address(user_id, session=session)
        assert default is not None and str(default.id) == newest["id"]
    assert (
        address_book.validate_inline({**GB, "postal_code": "ec1a1bb"})["postal_code"] == "EC1A 1BB"
    )
