"""Balances, statements and payouts through the API, for creators and for shop staff.

Money is made with the ledger service directly (a held payment, then its release), as orders
and payments will do; everything else goes through HTTP."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service, tasks
from clipcart.ledger.domain import AccountKey, AccountKind, Owner
from clipcart.ledger.models import LedgerPayout
from clipcart.ledger.payout_provider import (
    SANDBOX_BANK_FAIL,
    SANDBOX_BANK_OK,
    ProviderStatus,
    SandboxPayoutProvider,
)
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup

LEDGER = f"{API}/ledger"
FEE = Decimal("0.05")


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    """A clock the test moves (payouts settle with time)."""
    with clock.frozen_at(datetime(2026, 11, 24, 12, 0, tzinfo=UTC)) as frozen:
        yield frozen


async def earn(
    *,
    amount: int,
    shop_id: uuid.UUID,
    creator_id: uuid.UUID | None = None,
    commission: int = 0,
    currency: str = "USD",
    release: bool = True,
) -> str:
    """A captured order paid to a shop (and a creator's commission), released unless told."""
    order_ref = f"ord_{uuid.uuid4().hex[:12]}"
    async with unit_of_work() as session:
        await service.hold_payment(
            order_ref=order_ref,
            amount=Money(amount, currency),
            shop_id=shop_id,
            creator_id=creator_id,
            commission=Money(commission, currency) if commission else None,
            fee_rate=FEE,
            session=session,
        )
    if release:
        async with unit_of_work() as session:
            await service.release_order_funds(order_ref=order_ref, session=session)
    return order_ref


async def open_shop(client: httpx.AsyncClient, handle: str) -> dict[str, Any]:
    response = await client.post(
        f"{API}/shops",
        json={"handle": handle, "name": handle.title(), "country": "US", "currency": "USD"},
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def request_payout(
    client: httpx.AsyncClient,
    amount: int,
    *,
    path: str = "/me",
    key: str | None = None,
    currency: str = "USD",
    destination: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"amount": amount, "currency": currency}
    if destination is not None:
        body["destination"] = destination
    return await client.post(
        f"{LEDGER}{path}/payouts",
        json=body,
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )


async def balances(client: httpx.AsyncClient, path: str = "/me") -> dict[str, dict[str, int]]:
    response = await client.get(f"{LEDGER}{path}/balances")
    assert response.status_code == 200, response.text
    return {row["currency"]: row for row in response.json()}


async def assert_ledger_consistent() -> None:
    async with unit_of_work() as session:
        assert await service.verify_ledger(session=session) == []


async def test_creator_sees_pending_then_available_commission(client: httpx.AsyncClient) -> None:
    user = (await signup(client, "cara"))["user"]
    creator = uuid.UUID(user["id"])
    assert await balances(client) == {}

    order = await earn(amount=10_000, shop_id=uuid.uuid4(), creator_id=creator, commission=1_500,
                       release=False)  # fmt: skip
    held = (await balances(client))["USD"]
    assert (held["pending"], held["available"], held["posted"]) == (1_500, 0, 0)

    async with unit_of_work() as session:
        await service.release_order_funds(order_ref=order, session=session)
    released = (await balances(client))["USD"]
    assert (released["pending"], released["available"], released["in_transit"]) == (0, 1_500, 0)
    assert released["minimum_payout"] == 1_000  # the configured $10 minimum

    statement = (await client.get(f"{LEDGER}/me/statement")).json()
    lines = statement["items"]
    assert [line["description"] for line in lines] == [
        "Commission released",
        "Commission held until the order completes",
    ]
    assert all(line["reference"] == order for line in lines)
    assert [line["amount"] for line in lines] == [1_500, 1_500]
    assert [line["pending"] for line in lines] == [False, True]
    assert [line["balance_after"] for line in lines] == [1_500, 0]
    assert lines[0]["order_amount"] == 10_000 and lines[0]["platform_fee"] == 500


async def test_statement_pages_with_a_cursor(client: httpx.AsyncClient) -> None:
    user = (await signup(client, "pager"))["user"]
    for _ in range(3):
        await earn(amount=2_000, shop_id=uuid.uuid4(), creator_id=uuid.UUID(user["id"]),
                   commission=500)  # fmt: skip
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(f"{LEDGER}/me/statement", params=params)).json()
        seen += [line["sequence"] for line in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [6, 5, 4, 3, 2, 1]
    bad = await client.get(f"{LEDGER}/me/statement", params={"cursor": "not-a-cursor"})
    assert_problem(bad, 400, "invalid_cursor")


async def test_payout_moves_available_money_to_transit_then_paid(
    client: httpx.AsyncClient, frozen_clock: clock.FrozenClock
) -> None:
    user = (await signup(client, "payme"))["user"]
    await earn(amount=50_000, shop_id=uuid.uuid4(), creator_id=uuid.UUID(user["id"]),
               commission=5_000)  # fmt: skip

    response = await request_payout(client, 3_000, key="payout-1")
    assert response.status_code == 201, response.text
    payout = response.json()
    assert payout["status"] == "requested" and payout["amount"] == 3_000
    after = (await balances(client))["USD"]
    assert (after["available"], after["in_transit"]) == (2_000, 3_000)

    # The same key and body replays the first answer; another body with it is refused.
    replay = await request_payout(client, 3_000, key="payout-1")
    assert replay.status_code == 201 and replay.json()["id"] == payout["id"]
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert_problem(await request_payout(client, 2_000, key="payout-1"), 422,
                   "idempotency_key_reused")  # fmt: skip
    assert (await balances(client))["USD"]["available"] == 2_000

    # Submitted to the provider: in transit until the sandbox bank pays it.
    assert await tasks.check_payout(payout["id"]) == "in_transit"
    listed = (await client.get(f"{LEDGER}/me/payouts")).json()["items"]
    assert listed[0]["status"] == "in_transit" and listed[0]["provider_reference"]
    assert await tasks.advance_open_payouts() == {"in_transit": 1}
    frozen_clock.advance(timedelta(minutes=5))
    assert await tasks.advance_open_payouts() == {"paid": 1}
    assert await tasks.advance_open_payouts() == {}

    paid = (await client.get(f"{LEDGER}/me/payouts")).json()["items"][0]
    assert paid["status"] == "paid" and paid["settled_at"]
    final = (await balances(client))["USD"]
    assert (final["available"], final["in_transit"]) == (2_000, 0)
    descriptions = [line["description"] for line in
                    (await client.get(f"{LEDGER}/me/statement")).json()["items"]]  # fmt: skip
    assert descriptions[0] == "Payout"
    await assert_ledger_consistent()


async def test_failed_payout_returns_the_money(
    client: httpx.AsyncClient, frozen_clock: clock.FrozenClock
) -> None:
    user = (await signup(client, "bounce"))["user"]
    await earn(amount=40_000, shop_id=uuid.uuid4(), creator_id=uuid.UUID(user["id"]),
               commission=4_000)  # fmt: skip
    response = await request_payout(client, 4_000, destination=SANDBOX_BANK_FAIL)
    assert response.status_code == 201, response.text
    assert (await balances(client))["USD"]["available"] == 0

    await tasks.check_payout(response.json()["id"])
    frozen_clock.advance(timedelta(minutes=5))
    assert await tasks.advance_open_payouts() == {"failed": 1}

    failed = (await client.get(f"{LEDGER}/me/payouts")).json()["items"][0]
    assert failed["status"] == "failed"
    assert "account is closed" in failed["failure_reason"]
    back = (await balances(client))["USD"]
    assert (back["available"], back["in_transit"]) == (4_000, 0)
    lines = (await client.get(f"{LEDGER}/me/statement")).json()["items"]
    assert lines[0]["description"] == "Payout failed: money returned"
    assert lines[0]["amount"] == 4_000
    await assert_ledger_consistent()


async def test_payout_refusals_are_clear_and_write_nothing(client: httpx.AsyncClient) -> None:
    user = (await signup(client, "careful"))["user"]
    await earn(amount=20_000, shop_id=uuid.uuid4(), creator_id=uuid.UUID(user["id"]),
               commission=2_000)  # fmt: skip

    below = assert_problem(await request_payout(client, 999), 422, "payout_below_minimum")
    assert below["minimum"] == 1_000
    above = assert_problem(await request_payout(client, 2_001), 409, "insufficient_funds")
    assert above["available"] == 2_000
    assert "$20.00" in above["detail"]
    assert_problem(await request_payout(client, 1_500, currency="XYZ"), 422, "validation_failed")
    assert_problem(await request_payout(client, 1_500, destination="no spaces!"), 422,
                   "validation_failed")  # fmt: skip
    no_key = await client.post(f"{LEDGER}/me/payouts", json={"amount": 1_500, "currency": "USD"})
    assert_problem(no_key, 400, "idempotency_key_required")
    negative = await request_payout(client, -5)
    assert negative.status_code == 422

    async with unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(LedgerPayout)) == 0
    assert (await balances(client))["USD"]["available"] == 2_000
    # A refused request releases its key: the corrected request may reuse it, once.
    retry_key = "retry-after-refusal"
    assert (await request_payout(client, 2_001, key=retry_key)).status_code == 409
    first = await request_payout(client, 2_000, key=retry_key)
    assert first.status_code == 201
    again = await request_payout(client, 2_000, key=retry_key)
    assert again.json()["id"] == first.json()["id"]
    assert (await balances(client))["USD"]["available"] == 0
    await assert_ledger_consistent()


async def test_anonymous_callers_are_refused(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{LEDGER}/me/balances"), 401, "not_authenticated")
    assert_problem(await client.get(f"{LEDGER}/shops/acme/balances"), 401, "not_authenticated")


async def test_shop_owner_sees_the_shop_money_and_outsiders_do_not(app: Any) -> None:
    async with new_client(app) as owner, new_client(app) as outsider:
        await signup(owner, "olive")
        shop = await open_shop(owner, "olivegoods")
        shop_id = uuid.UUID(shop["id"])
        order = await earn(amount=10_000, shop_id=shop_id)
        path = "/shops/olivegoods"

        money = (await balances(owner, path))["USD"]
        assert (money["available"], money["pending"]) == (9_500, 0)
        lines = (await owner.get(f"{LEDGER}{path}/statement")).json()["items"]
        assert [line["description"] for line in lines] == [
            "Sale released",
            "Sale held until the order completes",
        ]
        assert lines[0]["reference"] == order and lines[0]["platform_fee"] == 500

        response = await request_payout(owner, 9_500, path=path)
        assert response.status_code == 201, response.text
        assert response.json()["owner_id"] == str(shop_id)
        assert (await balances(owner, path))["USD"]["available"] == 0

        await signup(outsider, "oscar")
        assert_problem(await outsider.get(f"{LEDGER}{path}/balances"), 404, "shop_not_found")
        refused = await request_payout(outsider, 1_000, path=path)
        assert_problem(refused, 404, "shop_not_found")
        # The outsider's own creator balance is separate and empty.
        assert await balances(outsider) == {}

        # Fulfilment staff ship orders but do not see or move the shop's money; managers do.
        for role in ("fulfilment", "manager"):
            added = await owner.post(
                f"{API}/shops/olivegoods/staff", json={"user_handle": "oscar", "role": role}
            )
            if added.status_code == 409:  # already staff: change the role
                await owner.delete(f"{API}/shops/olivegoods/staff/oscar")
                added = await owner.post(
                    f"{API}/shops/olivegoods/staff", json={"user_handle": "oscar", "role": role}
                )
            assert added.status_code == 201, added.text
            answer = await outsider.get(f"{LEDGER}{path}/balances")
            if role == "fulfilment":
                assert_problem(answer, 403, "shop_role_required")
                page = await outsider.get("/seller/olivegoods/money", headers=HTML)
                assert page.status_code == 403
            else:
                assert answer.status_code == 200 and answer.json()[0]["available"] == 0


async def test_a_negative_seller_balance_is_shown(app: Any) -> None:
    async with new_client(app) as owner:
        await signup(owner, "nora")
        shop_id = uuid.UUID((await open_shop(owner, "norashop"))["id"])
        order = await earn(amount=10_000, shop_id=shop_id)
        response = await request_payout(owner, 9_500, path="/shops/norashop")
        assert response.status_code == 201
        async with unit_of_work() as session:
            await service.refund_order(
                order_ref=order, amount=Money(10_000, "USD"), refund_ref="r1", session=session
            )
        money = (await balances(owner, "/shops/norashop"))["USD"]
        assert money["available"] == -9_500 and money["posted"] == -9_500
        assert_problem(await request_payout(owner, 1_000, path="/shops/norashop"), 409,
                       "insufficient_funds")  # fmt: skip


async def test_payout_schedule_setting_round_trips(client: httpx.AsyncClient) -> None:
    await signup(client, "sched")
    default = (await client.get(f"{LEDGER}/me/payout-schedule")).json()
    assert default["frequency"] == "off" and default["currency"] == "USD"
    response = await client.put(
        f"{LEDGER}/me/payout-schedule",
        json={"currency": "usd", "frequency": "weekly", "minimum": 5_000},
    )
    assert response.status_code == 200, response.text
    assert response.json()["frequency"] == "weekly" and response.json()["currency"] == "USD"
    stored = (await client.get(f"{LEDGER}/me/payout-schedule", params={"currency": "USD"})).json()
    assert (stored["frequency"], stored["minimum"]) == ("weekly", 5_000)
    bad = await client.put(
        f"{LEDGER}/me/payout-schedule", json={"currency": "USD", "frequency": "hourly"}
    )
    assert bad.status_code == 422


async def test_balances_only_count_the_payees_own_accounts(client: httpx.AsyncClient) -> None:
    user = (await signup(client, "own"))["user"]
    creator = Owner.creator(uuid.UUID(user["id"]))
    await earn(amount=10_000, shop_id=uuid.uuid4(), creator_id=uuid.uuid4(), commission=900)
    await earn(amount=10_000, shop_id=uuid.uuid4(), creator_id=creator.id, commission=700)
    await earn(amount=10_000, shop_id=uuid.uuid4(), creator_id=creator.id, commission=800,
               currency="EUR")  # fmt: skip
    money = await balances(client)
    assert {currency: row["available"] for currency, row in money.items()} == {
        "EUR": 800,
        "USD": 700,
    }
    async with unit_of_work() as session:
        found = await service.get_account_balance(
            AccountKey(AccountKind.CREATOR_BALANCE, creator, "USD"), session=session
        )
    assert found is not None and found.available == 700
    eur = (await client.get(f"{LEDGER}/me/statement", params={"currency": "EUR"})).json()
    assert [line["currency"] for line in eur["items"]] == ["EUR", "EUR"]


# --- the pages, over HTTP (the browser tests drive them in Chromium) ----------------------

HTML = {"Accept": "text/html"}


def form_fields(page: httpx.Response, action: str) -> dict[str, str]:
    """The hidden fields (CSRF token, one-time key, currency) of the form posting to `action`."""
    start = page.text.index(f'action="{action}"')
    form = page.text[start : page.text.index("</form>", start)]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


async def test_money_page_needs_a_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/studio/money", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/studio/money")


async def test_creator_money_page_shows_balances_statement_and_pays_out(
    client: httpx.AsyncClient,
) -> None:
    user = (await signup(client, "pagey"))["user"]
    order = await earn(amount=100_000, shop_id=uuid.uuid4(), creator_id=uuid.UUID(user["id"]),
                       commission=12_345)  # fmt: skip
    page = await client.get("/studio/money", headers=HTML)
    assert page.status_code == 200
    assert "$123.45" in page.text and order in page.text
    assert "Commission released" in page.text
    assert "The smallest payout is $10.00" in page.text
    assert "<svg" in page.text and "money-chart-line" in page.text

    fields = form_fields(page, "/studio/money/payouts")
    too_much = await client.post(
        "/studio/money/payouts", data={**fields, "amount": "500"}, headers=HTML
    )
    assert too_much.status_code == 409
    assert "You can pay out at most $123.45 now." in too_much.text
    not_a_number = await client.post(
        "/studio/money/payouts", data={**fields, "amount": "ten"}, headers=HTML
    )
    assert not_a_number.status_code == 422 and "Enter an amount like 25.00." in not_a_number.text

    sent = await client.post("/studio/money/payouts", data={**fields, "amount": "100"},
                             headers=HTML)  # fmt: skip
    assert sent.status_code == 303
    twice = await client.post("/studio/money/payouts", data={**fields, "amount": "100"},
                              headers=HTML)  # fmt: skip
    assert twice.status_code == 303  # the same form again: replayed, not paid twice
    listed = (await client.get(f"{LEDGER}/me/payouts")).json()["items"]
    assert [p["amount"] for p in listed] == [10_000]
    after = await client.get("/studio/money", headers=HTML)
    assert "$23.45" in after.text and "Requested" in after.text


async def test_schedule_form_saves_and_explains_errors(client: httpx.AsyncClient) -> None:
    await signup(client, "autopay")
    page = await client.get("/studio/money", headers=HTML)
    fields = form_fields(page, "/studio/money/schedule")
    bad = await client.post(
        "/studio/money/schedule",
        data={**fields, "frequency": "weekly", "minimum": "lots"},
        headers=HTML,
    )
    assert bad.status_code == 422 and "Enter an amount like 25.00." in bad.text
    good = await client.post(
        "/studio/money/schedule",
        data={**fields, "frequency": "weekly", "minimum": "50"},
        headers=HTML,
    )
    assert good.status_code == 303
    stored = (await client.get(f"{LEDGER}/me/payout-schedule")).json()
    assert (stored["frequency"], stored["minimum"]) == ("weekly", 5_000)


async def test_seller_money_page_for_staff_only_and_negative_balance_explained(app: Any) -> None:
    async with new_client(app) as owner, new_client(app) as outsider:
        await signup(owner, "sally")
        shop_id = uuid.UUID((await open_shop(owner, "sallyshop"))["id"])
        order = await earn(amount=10_000, shop_id=shop_id)
        page = await owner.get("/seller/sallyshop/money", headers=HTML)
        assert page.status_code == 200
        assert "$95.00" in page.text and "platform fee $5.00" in page.text
        assert await request_payout(owner, 9_500, path="/shops/sallyshop")
        async with unit_of_work() as session:
            await service.refund_order(
                order_ref=order, amount=Money(10_000, "USD"), refund_ref="r1", session=session
            )
        negative = await owner.get("/seller/sallyshop/money", headers=HTML)
        assert "recovered from your next sales" in negative.text
        assert "-$95.00" in negative.text

        await signup(outsider, "otto")
        assert (await outsider.get("/seller/sallyshop/money", headers=HTML)).status_code == 404


# --- the sandbox payout provider on its own -------------------------------------------------


async def test_sandbox_provider_is_idempotent_and_settles_with_time(
    frozen_clock: clock.FrozenClock,
) -> None:
    provider = SandboxPayoutProvider(settle_seconds=60)
    key = f"payout:{uuid.uuid4()}"
    first = await provider.submit(idempotency_key=key, amount=Money(5_000, "USD"),
                                  destination=SANDBOX_BANK_OK)  # fmt: skip
    frozen_clock.advance(timedelta(seconds=3))
    again = await provider.submit(idempotency_key=key, amount=Money(5_000, "USD"),
                                  destination=SANDBOX_BANK_OK)  # fmt: skip
    assert again == first and first.status is ProviderStatus.IN_TRANSIT
    assert (await provider.retrieve(first.reference)).status is ProviderStatus.IN_TRANSIT
    frozen_clock.advance(timedelta(seconds=60))
    assert (await provider.retrieve(first.reference)).status is ProviderStatus.PAID

    bounced = await provider.submit(idempotency_key=f"payout:{uuid.uuid4()}",
                                    amount=Money(5_000, "USD"),
                                    destination=SANDBOX_BANK_FAIL + "_2")  # fmt: skip
    frozen_clock.advance(timedelta(seconds=61))
    answer = await provider.retrieve(bounced.reference)
    assert answer.status is ProviderStatus.FAILED and "closed" in answer.failure_reason
    with pytest.raises(ValueError):
        await provider.retrieve("po_someone_else_123")
