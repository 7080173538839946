"""The tax table: admin API, which rate applies to an address, the starter table."""

from __future__ import annotations

from typing import Any

import httpx

from clipcart.accounts import service as accounts
from clipcart.commerce import tax_rates
from clipcart.commerce.pricing import TaxTerms
from clipcart.core.db import unit_of_work
from tests.api.test_accounts_auth import API, assert_problem, signup


async def admin(client: httpx.AsyncClient) -> None:
    await signup(client, "boss")
    async with unit_of_work() as session:
        user = await accounts.get_user_by_handle("boss", session=session)
        await accounts.grant_role(user, "admin", session=session)


async def put(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.put(f"{API}/admin/tax-rates", json=body)


async def test_admin_sets_lists_changes_and_deletes_rates(client: httpx.AsyncClient) -> None:
    await admin(client)
    created = await put(client, country="us", region="ca", rate_bp=725, name="Sales tax")
    assert created.status_code == 200, created.text
    assert created.json()["region"] == "CA" and created.json()["rate_percent"] == "7.25%"
    await put(client, country="GB", rate_bp=2000, name="VAT", included_in_price=True)
    changed = await put(client, country="US", region="CA", rate_bp=750, name="Sales tax")
    assert changed.json()["id"] == created.json()["id"] and changed.json()["rate_bp"] == 750
    listed = (await client.get(f"{API}/admin/tax-rates")).json()
    assert [(r["country"], r["region"], r["rate_bp"]) for r in listed] == [
        ("GB", "", 2000),
        ("US", "CA", 750),
    ]
    only_us = (await client.get(f"{API}/admin/tax-rates", params={"country": "us"})).json()
    assert [r["region"] for r in only_us] == ["CA"]
    deleted = await client.delete(
        f"{API}/admin/tax-rates", params={"country": "US", "region": "CA"}
    )
    assert deleted.status_code == 204
    assert_problem(
        await client.delete(f"{API}/admin/tax-rates", params={"country": "US", "region": "CA"}),
        404,
        "tax_rate_not_found",
    )
    gb = listed[0]["id"]
    assert (await client.delete(f"{API}/admin/tax-rates", params={"id": gb})).status_code == 204
    assert (await client.get(f"{API}/admin/tax-rates")).json() == []


async def test_bad_rates_are_refused_per_field(client: httpx.AsyncClient) -> None:
    await admin(client)
    body = assert_problem(await put(client, country="XX", rate_bp=10001), 422, "validation_failed")
    assert {e["field"] for e in body["errors"]} == {"country", "rate_bp"}


async def test_only_admins_see_the_table(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/admin/tax-rates"), 401, "not_authenticated")
    await signup(client)
    assert_problem(await client.get(f"{API}/admin/tax-rates"), 403, "role_required")
    assert_problem(await put(client, country="US", rate_bp=1), 403, "role_required")


async def test_region_first_then_country_then_none() -> None:
    async with unit_of_work() as session:
        assert await tax_rates.ensure_default_tax_rates(session=session) >= 10
    async with unit_of_work() as session:
        assert await tax_rates.ensure_default_tax_rates(session=session) == 0  # idempotent
        ca = await tax_rates.tax_terms_for("US", "CA", session=session)
        assert ca == TaxTerms(rate_bp=725, included_in_price=False, name="Sales tax")
        assert await tax_rates.tax_terms_for("US", "OR", session=session) is None
        gb = await tax_rates.tax_terms_for("gb", "Kent", session=session)
        assert gb == TaxTerms(rate_bp=2000, included_in_price=True, name="VAT")
        assert await tax_rates.tax_terms_for("JP", "", session=session) is None
        await tax_rates.set_tax_rate(
            "US", "", rate_bp=100, name="Federal", included_in_price=False, session=session
        )
        assert (await tax_rates.tax_terms_for("US", "OR", session=session)) == TaxTerms(
            100, False, "Federal"
        )
        california = await tax_rates.tax_terms_for("US", "CA", session=session)
        assert california is not None and california.rate_bp == 725
