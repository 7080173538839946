"""Payments through the API: test cards, lost answers, webhooks, Idempotency-Key, ledger."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from clipcart.accounts import service as accounts
from clipcart.core import idempotency
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.payments import service, signatures, webhooks
from clipcart.payments.config import webhook_secret
from clipcart.payments.models import PaymentIntent, PaymentIntentEvent, PaymentMethod
from clipcart.payments.sandbox import tasks as sandbox_tasks
from clipcart.payments.sandbox.models import SandboxCard, SandboxCharge, SandboxEvent
from clipcart.payments.sandbox_client import SandboxProvider
from clipcart.payments.schemas import IntentIn
from tests.api.test_accounts_auth import API, assert_problem, signup

PAY = f"{API}/payments"
WEBHOOK = f"{PAY}/webhooks/sandbox"


@pytest.fixture(autouse=True)
async def sandbox(app: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """The sandbox reached over HTTP (in-process transport), webhooks delivered on demand."""
    transport = httpx.ASGITransport(app=app)
    service.set_provider(
        SandboxProvider("http://testserver/sandbox", transport=transport, timeout=2.0)
    )
    sandbox_tasks.set_delivery_transport(transport)
    monkeypatch.setenv("CLIPCART_PAYMENTS_SANDBOX_LOST_RESPONSE_SECONDS", "5")
    from clipcart.core.config import get_settings

    get_settings.cache_clear()
    yield
    service.set_provider(None)
    sandbox_tasks.set_delivery_transport(None)
    monkeypatch.undo()
    get_settings.cache_clear()


async def save_card(client: httpx.AsyncClient, number: str = "4242424242424242") -> str:
    response = await client.post(
        f"{PAY}/methods",
        json={"number": number, "exp_month": 12, "exp_year": 2099, "cvc": "123"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["last4"] == number[-4:] and body["token"].startswith("pm_")
    return str(body["token"])


def intent_body(token: str | None, **extra: Any) -> dict[str, Any]:
    body = {
        "order_ref": f"ord_{uuid.uuid4().hex[:12]}",
        "amount": 2599,
        "currency": "USD",
        "shop_id": str(uuid.uuid4()),
        "payment_method": token,
    }
    return {**body, **extra}


async def pay(
    client: httpx.AsyncClient, number: str = "4242424242424242", *, key: str | None = None
) -> dict[str, Any]:
    token = await save_card(client, number)
    response = await client.post(
        f"{PAY}/intents",
        json=intent_body(token),
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def get_intent(client: httpx.AsyncClient, intent_id: str) -> dict[str, Any]:
    response = await client.get(f"{PAY}/intents/{intent_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_admin(client: httpx.AsyncClient, handle: str) -> None:
    async with unit_of_work() as session:
        user = await accounts.get_user_by_handle(handle, session=session)
        await accounts.grant_role(user, "admin", session=session)


async def sandbox_events() -> list[SandboxEvent]:
    async with get_sessionmaker()() as session:
        rows = await session.scalars(select(SandboxEvent).order_by(SandboxEvent.created_at))
        return list(rows)


async def charges_at_sandbox() -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(func.count()).select_from(SandboxCharge)) or 0)


def signed(body: bytes, *, at: int | None = None, secret: str | None = None) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    return {
        "Content-Type": "application/json",
        signatures.SIGNATURE_HEADER: signatures.sign(secret or webhook_secret(), stamp, body),
    }


# --- test cards ---------------------------------------------------------------------------


async def test_success_card_authorises_captures_and_holds_in_ledger(
    client: httpx.AsyncClient,
) -> None:
    await signup(client)
    intent = await pay(client)
    assert intent["status"] == "authorised"
    response = await client.post(f"{PAY}/intents/{intent['id']}/capture")
    assert response.status_code == 200, response.text
    captured = response.json()
    assert captured["status"] == "captured" and captured["amount_captured"] == 2599
    assert [step["to_status"] for step in captured["history"]] == [
        "requires_payment_method",
        "processing",
        "authorised",
        "captured",
    ]
    async with unit_of_work() as session:
        escrow = await ledger.get_escrow(intent["order_ref"], session=session)
        assert escrow.amount == 2599
        assert await ledger.verify_ledger(session=session) == []
    # card numbers never reach ClipCart's own tables
    async with get_sessionmaker()() as session:
        method = await session.scalar(select(PaymentMethod))
        assert method is not None and method.last4 == "4242"
        assert "4242424242424242" not in json.dumps(
            {c.name: str(getattr(method, c.name)) for c in PaymentMethod.__table__.columns}
        )
        assert await session.scalar(select(func.count()).select_from(SandboxCard)) == 1


@pytest.mark.parametrize(
    ("number", "code"),
    [("4000000000009995", "insufficient_funds"), ("4000000000009979", "stolen_card")],
)
async def test_declined_cards_fail_with_reason(
    client: httpx.AsyncClient, number: str, code: str
) -> None:
    await signup(client)
    intent = await pay(client, number)
    assert intent["status"] == "failed" and intent["failure_code"] == code
    assert_problem(
        await client.post(f"{PAY}/intents/{intent['id']}/capture"), 409, "payment_wrong_state"
    )


async def test_card_requiring_action_then_confirm(client: httpx.AsyncClient) -> None:
    await signup(client)
    intent = await pay(client, "4000002500003155")
    assert intent["status"] == "requires_action" and intent["next_action"] == "confirm"
    response = await client.post(f"{PAY}/intents/{intent['id']}/confirm")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "authorised"


async def test_lost_answer_is_settled_by_the_webhook_and_charged_once(
    client: httpx.AsyncClient,
) -> None:
    await signup(client)
    intent = await pay(client, "4000000000000119")
    assert intent["status"] == "processing"
    assert intent["history"][-1]["reason"].startswith("provider did not answer")
    delivered = await sandbox_tasks.deliver_pending_events()
    assert delivered >= 1, [e.last_error for e in await sandbox_events()]
    settled = await get_intent(client, intent["id"])
    assert settled["status"] == "authorised"
    assert any(step["provider_event_id"] for step in settled["history"])
    assert await charges_at_sandbox() == 1


async def test_lost_answer_is_settled_by_reconciliation_and_charged_once(
    client: httpx.AsyncClient,
) -> None:
    await signup(client)
    intent = await pay(client, "4000000000000119")
    assert intent["status"] == "processing"
    assert await webhooks.reconcile_processing_intents(older_than=timedelta(0)) == 1
    assert (await get_intent(client, intent["id"]))["status"] == "authorised"
    assert await webhooks.reconcile_processing_intents(older_than=timedelta(0)) == 0
    # the late webhook changes nothing
    await sandbox_tasks.deliver_pending_events()
    assert (await get_intent(client, intent["id"]))["status"] == "authorised"
    assert await charges_at_sandbox() == 1


async def test_retrying_confirm_after_a_lost_answer_finds_the_same_charge(
    client: httpx.AsyncClient,
) -> None:
    await signup(client)
    intent = await pay(client, "4000000000000119")
    retried = await client.post(f"{PAY}/intents/{intent['id']}/confirm")
    assert retried.json()["status"] == "authorised"
    assert await charges_at_sandbox() == 1


# --- refunds --------------------------------------------------------------------------------


async def test_partial_then_full_refund_posts_ledger(client: httpx.AsyncClient) -> None:
    await signup(client)
    intent = await pay(client)
    await client.post(f"{PAY}/intents/{intent['id']}/capture")
    url = f"{PAY}/intents/{intent['id']}/refunds"
    assert_problem(
        await client.post(url, json={"amount": 500}, headers={"Idempotency-Key": "r1"}),
        403,
        "role_required",
    )
    await make_admin(client, "jane")
    first = await client.post(url, json={"amount": 599}, headers={"Idempotency-Key": "r1"})
    assert first.status_code == 201, first.text
    assert first.json()["intent"]["status"] == "partially_refunded"
    again = await client.post(url, json={"amount": 599}, headers={"Idempotency-Key": "r1"})
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    too_much = await client.post(url, json={"amount": 2001}, headers={"Idempotency-Key": "r2"})
    assert_problem(too_much, 422, "validation_failed")
    rest = await client.post(url, json={"amount": 2000}, headers={"Idempotency-Key": "r3"})
    assert rest.json()["intent"]["status"] == "refunded"
    assert rest.json()["intent"]["amount_refunded"] == 2599
    await sandbox_tasks.deliver_pending_events()  # the refund webhooks change nothing more
    assert (await get_intent(client, intent["id"]))["amount_refunded"] == 2599
    async with unit_of_work() as session:
        assert await ledger.verify_ledger(session=session) == []


# --- Idempotency-Key -----------------------------------------------------------------------


async def test_idempotency_key_replay_mismatch_and_in_flight(client: httpx.AsyncClient) -> None:
    await signup(client)
    token = await save_card(client)
    body = intent_body(token)
    headers = {"Idempotency-Key": "checkout-1"}
    first = await client.post(f"{PAY}/intents", json=body, headers=headers)
    assert first.status_code == 201
    replay = await client.post(f"{PAY}/intents", json=body, headers=headers)
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers[idempotency.REPLAY_HEADER] == "true"
    other = await client.post(f"{PAY}/intents", json={**body, "amount": 1}, headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")
    assert await charges_at_sandbox() == 1
    missing = await client.post(f"{PAY}/intents", json=body)
    assert_problem(missing, 400, "idempotency_key_required")
    # another request holding a key right now
    me = (await client.get(f"{API}/me")).json()
    busy = intent_body(token)
    async with unit_of_work() as session:
        await idempotency.claim(
            owner_id=uuid.UUID(me["id"]),
            key="checkout-2",
            request_hash=idempotency.fingerprint(
                "POST", f"{PAY}/intents", IntentIn.model_validate(busy)
            ),
            session=session,
        )
    in_flight = await client.post(
        f"{PAY}/intents", json=busy, headers={"Idempotency-Key": "checkout-2"}
    )
    assert_problem(in_flight, 409, "idempotency_key_in_flight")
    async with get_sessionmaker()() as session:
        assert await session.scalar(select(func.count()).select_from(PaymentIntent)) == 1


async def test_only_the_payer_or_an_admin_sees_an_intent(
    app: Any, client: httpx.AsyncClient
) -> None:
    await signup(client)
    intent = await pay(client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as other:
        await signup(other, "mallory")
        assert_problem(await other.get(f"{PAY}/intents/{intent['id']}"), 404, "payment_not_found")
        await make_admin(other, "mallory")
        assert (await other.get(f"{PAY}/intents/{intent['id']}")).status_code == 200


# --- webhooks ------------------------------------------------------------------------------


async def _processing_intent(client: httpx.AsyncClient) -> dict[str, Any]:
    await signup(client)
    intent = await pay(client, "4000000000000119")
    assert intent["status"] == "processing"
    return intent


async def _event_body(event_type: str = "charge.authorised") -> bytes:
    event = next(item for item in await sandbox_events() if item.type == event_type)
    return json.dumps(event.payload).encode()


async def _history_length(client: httpx.AsyncClient, intent_id: str) -> int:
    return len((await get_intent(client, intent_id))["history"])


async def test_webhook_bad_signature_changes_nothing(client: httpx.AsyncClient) -> None:
    intent = await _processing_intent(client)
    body = await _event_body()
    before = await _history_length(client, intent["id"])
    for headers in (
        signed(body, secret="whsec_wrong"),
        {"Content-Type": "application/json"},
        {signatures.SIGNATURE_HEADER: "t=abc,v1=zz"},
    ):
        assert_problem(
            await client.post(WEBHOOK, content=body, headers=headers), 400, "invalid_webhook"
        )
    tampered = body.replace(b"2599", b"2598")
    response = await client.post(WEBHOOK, content=tampered, headers=signed(body))
    assert_problem(response, 400, "invalid_webhook")
    after = await get_intent(client, intent["id"])
    assert after["status"] == "processing" and len(after["history"]) == before


async def test_webhook_stale_timestamp_is_refused(client: httpx.AsyncClient) -> None:
    intent = await _processing_intent(client)
    body = await _event_body()
    stale = await client.post(
        WEBHOOK, content=body, headers=signed(body, at=int(time.time()) - 301)
    )
    assert_problem(stale, 400, "invalid_webhook")
    assert (await get_intent(client, intent["id"]))["status"] == "processing"
    fresh = await client.post(
        WEBHOOK, content=body, headers=signed(body, at=int(time.time()) - 299)
    )
    assert fresh.status_code == 200 and fresh.json()["outcome"] == "applied"


async def test_webhook_duplicate_is_ignored(client: httpx.AsyncClient) -> None:
    intent = await _processing_intent(client)
    body = await _event_body()
    first = await client.post(WEBHOOK, content=body, headers=signed(body))
    assert first.json()["outcome"] == "applied"
    length = await _history_length(client, intent["id"])
    second = await client.post(WEBHOOK, content=body, headers=signed(body))
    assert second.status_code == 200 and second.json()["outcome"] == "duplicate"
    assert await _history_length(client, intent["id"]) == length


async def test_webhook_unknown_type_is_acknowledged_and_ignored(
    client: httpx.AsyncClient,
) -> None:
    intent = await _processing_intent(client)
    body = json.dumps(
        {"id": "evt_unknown", "type": "charge.dispute_created", "created": 1, "data": {}}
    ).encode()
    response = await client.post(WEBHOOK, content=body, headers=signed(body))
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert (await get_intent(client, intent["id"]))["status"] == "processing"


async def test_webhooks_out_of_order_never_move_backwards(
    app: Any, client: httpx.AsyncClient
) -> None:
    await signup(client)
    intent = await pay(client)
    await make_admin(client, "jane")
    # capture and refund at the sandbox directly: ClipCart only learns from webhooks
    async with get_sessionmaker()() as session:
        charge = await session.scalar(select(SandboxCharge))
        assert charge is not None
    provider = SandboxProvider("http://testserver/sandbox", transport=httpx.ASGITransport(app=app))
    await provider.capture(charge.id, amount=None, idempotency_key="x")
    await provider.refund(charge.id, amount=Money(599, "USD"), idempotency_key="y")
    events = {item.type: item for item in await sandbox_events()}
    for event_type in ("charge.refunded", "charge.captured", "charge.authorised"):
        event = events[event_type]
        if event.delivered_at is None:
            assert await sandbox_tasks.deliver_event(event.id)
    after = await get_intent(client, intent["id"])
    assert after["status"] == "partially_refunded"
    assert after["amount_captured"] == 2599 and after["amount_refunded"] == 599
    statuses = [step["to_status"] for step in after["history"]]
    assert statuses[-2:] == ["captured", "partially_refunded"]
    async with unit_of_work() as session:
        assert await ledger.verify_ledger(session=session) == []
        events_logged = await session.scalar(select(func.count()).select_from(PaymentIntentEvent))
        assert events_logged == len(statuses)
