"""SandboxProvider: the PaymentProvider that talks to the sandbox over real HTTP (httpx)."""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from clipcart.core import clock
from clipcart.core.config import get_settings
from clipcart.core.money import Money
from clipcart.payments import signatures
from clipcart.payments.config import sandbox_url, webhook_secret
from clipcart.payments.provider import (
    ChargeSnapshot,
    ProviderError,
    ProviderEvent,
    ProviderTimeout,
    RefundSnapshot,
    SavedCard,
    WebhookRejected,
)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # One for the process: loading the CA bundle for every client costs tens of ms of CPU.
    return httpx.create_ssl_context()


# One keep-alive client per (event loop, sandbox URL): the app's loop and each job thread's
# loop get their own (an httpx client is bound to the loop it first connects on).
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def _shared_client(base_url: str) -> httpx.AsyncClient:
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    client = per_loop.get(base_url)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(base_url=base_url, verify=_tls_context())
        per_loop[base_url] = client
    return client


async def close_clients() -> None:
    """Close this event loop's keep-alive clients (app shutdown)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    for client in _clients.pop(loop, {}).values():
        await client.aclose()


class ProviderRejected(ProviderError):
    """The provider refused what we asked (bad card number, wrong state)."""

    status, code, title = 422, "provider_rejected", "The payment provider refused that"


def charge_from(data: Mapping[str, Any]) -> ChargeSnapshot:
    """A ChargeSnapshot from the sandbox's charge JSON."""
    return ChargeSnapshot(
        id=str(data["id"]),
        status=str(data["status"]),
        amount=Money(int(data["amount"]), str(data["currency"])),
        amount_captured=int(data.get("amount_captured") or 0),
        amount_refunded=int(data.get("amount_refunded") or 0),
        refunds=tuple(
            RefundSnapshot(
                id=str(item["id"]),
                amount=int(item["amount"]),
                idempotency_key=item.get("idempotency_key"),
            )
            for item in data.get("refunds") or []
        ),
        failure_code=data.get("failure_code"),
        failure_message=data.get("failure_message"),
        reference=data.get("reference"),
    )


class SandboxProvider:
    """The built-in sandbox processor, reached over HTTP like any real one."""

    name = "sandbox"

    def __init__(
        self,
        base_url: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | None = None,
    ) -> None:
        self.base_url = (base_url or sandbox_url()).rstrip("/")
        self.transport = transport
        self.timeout = timeout or get_settings().payments_provider_timeout_seconds

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        if self.transport is None:
            yield _shared_client(self.base_url)
            return
        async with httpx.AsyncClient(
            base_url=self.base_url, transport=self.transport, verify=_tls_context()
        ) as client:
            yield client

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        try:
            # asyncio's timeout as well: a transport that ignores httpx timeouts still times
            # out (a scope rather than wait_for, which ran the request in a task of its own)
            async with asyncio.timeout(self.timeout), self._client() as client:
                response = await client.request(
                    method, path, json=body, params=params, headers=headers, timeout=self.timeout
                )
        except (TimeoutError, httpx.TimeoutException, httpx.NetworkError) as error:
            raise ProviderTimeout(f"{method} {path}: {type(error).__name__}") from error
        if response.status_code >= 500:
            raise ProviderTimeout(f"{method} {path}: HTTP {response.status_code}")
        data: dict[str, Any] = response.json()
        if response.status_code >= 400:
            raise ProviderRejected(
                str(data.get("detail") or data.get("title") or "refused"),
                code=str(data.get("code") or "provider_rejected"),
            )
        return data

    async def authorise(
        self, *, amount: Money, payment_method: str, idempotency_key: str, reference: str
    ) -> ChargeSnapshot:
        """Reserve `amount` on the card."""
        return await self._charge(amount, payment_method, idempotency_key, reference, False)

    async def authorise_and_capture(
        self, *, amount: Money, payment_method: str, idempotency_key: str, reference: str
    ) -> ChargeSnapshot:
        """Reserve and take `amount` in one call (a replayed key answers the first charge)."""
        return await self._charge(amount, payment_method, idempotency_key, reference, True)

    async def _charge(
        self,
        amount: Money,
        payment_method: str,
        idempotency_key: str,
        reference: str,
        capture: bool,
    ) -> ChargeSnapshot:
        body = {
            "amount": amount.amount,
            "currency": amount.currency,
            "payment_method": payment_method,
            "reference": reference,
            "capture": capture,
        }
        return charge_from(
            await self._call("POST", "/v1/charges", body=body, idempotency_key=idempotency_key)
        )

    async def confirm(self, charge_id: str, *, idempotency_key: str) -> ChargeSnapshot:
        """Finish the extra confirmation step."""
        return charge_from(
            await self._call(
                "POST", f"/v1/charges/{charge_id}/confirm", idempotency_key=idempotency_key
            )
        )

    async def capture(
        self, charge_id: str, *, amount: Money | None, idempotency_key: str
    ) -> ChargeSnapshot:
        """Take authorised money."""
        body = {"amount": amount.amount if amount else None}
        return charge_from(
            await self._call(
                "POST",
                f"/v1/charges/{charge_id}/capture",
                body=body,
                idempotency_key=idempotency_key,
            )
        )

    async def void(self, charge_id: str, *, idempotency_key: str) -> ChargeSnapshot:
        """Release an authorisation."""
        return charge_from(
            await self._call(
                "POST", f"/v1/charges/{charge_id}/void", idempotency_key=idempotency_key
            )
        )

    async def refund(
        self, charge_id: str, *, amount: Money, idempotency_key: str
    ) -> tuple[ChargeSnapshot, RefundSnapshot]:
        """Give captured money back."""
        data = await self._call(
            "POST",
            f"/v1/charges/{charge_id}/refunds",
            body={"amount": amount.amount},
            idempotency_key=idempotency_key,
        )
        refund = RefundSnapshot(id=str(data["refund"]["id"]), amount=int(data["refund"]["amount"]))
        return charge_from(data["charge"]), refund

    async def find_charge(self, *, idempotency_key: str) -> ChargeSnapshot | None:
        """The charge made with our idempotency key, if the sandbox has one."""
        data = await self._call("GET", "/v1/charges", params={"idempotency_key": idempotency_key})
        found = data.get("data") or []
        return charge_from(found[0]) if found else None

    async def save_card(self, *, number: str, exp_month: int, exp_year: int, cvc: str) -> SavedCard:
        """Tokenise a card at the sandbox."""
        data = await self._call(
            "POST",
            "/v1/payment_methods",
            body={"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc},
        )
        return SavedCard(
            token=str(data["id"]),
            brand=str(data["brand"]),
            last4=str(data["last4"]),
            exp_month=int(data["exp_month"]),
            exp_year=int(data["exp_year"]),
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """Verify the signature (300 s tolerance) and parse the event."""
        try:
            signatures.verify(
                headers.get(signatures.SIGNATURE_HEADER),
                body,
                secret=webhook_secret(),
                now=int(clock.now().timestamp()),
                tolerance=get_settings().payments_webhook_tolerance_seconds,
            )
        except signatures.SignatureError as error:
            raise WebhookRejected(str(error)) from error
        try:
            data = json.loads(body)
            charge = data.get("data", {}).get("object")
            return ProviderEvent(
                id=str(data["id"]),
                type=str(data["type"]),
                created=int(data["created"]),
                charge=charge_from(charge) if charge and charge.get("object") == "charge" else None,
                raw=data,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise WebhookRejected("malformed event") from error
