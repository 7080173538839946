"""What ClipCart needs from a payment provider, whichever it is (sandbox now, Stripe later)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from clipcart.core.errors import AppError
from clipcart.core.money import Money


class ProviderTimeout(Exception):
    """The provider did not answer in time: the outcome is unknown (it may have acted)."""


class ProviderError(AppError):
    """The provider refused the request or failed in a way the client cannot fix."""

    status, code, title = 502, "provider_error", "The payment provider failed"


@dataclass(frozen=True)
class RefundSnapshot:
    """One refund of a charge, as the provider reports it."""

    id: str
    amount: int
    # The idempotency key we sent with the refund: finds our refund when its answer was lost.
    idempotency_key: str | None = None


@dataclass(frozen=True)
class ChargeSnapshot:
    """A charge as the provider reports it right now.

    status: requires_action, authorised, captured, cancelled or failed."""

    id: str
    status: str
    amount: Money
    amount_captured: int = 0
    amount_refunded: int = 0
    refunds: tuple[RefundSnapshot, ...] = ()
    failure_code: str | None = None
    failure_message: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class SavedCard:
    """A payment method saved at the provider: its token and what may be shown."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ProviderEvent:
    """A verified incoming webhook."""

    id: str
    type: str
    created: int
    charge: ChargeSnapshot | None
    raw: dict[str, Any] = field(default_factory=dict)


class WebhookRejected(Exception):
    """The webhook's signature, timestamp or body is not acceptable."""


class PaymentProvider(Protocol):
    """A card processor. Every call that moves money carries our idempotency key."""

    name: str

    async def authorise(
        self, *, amount: Money, payment_method: str, idempotency_key: str, reference: str
    ) -> ChargeSnapshot:
        """Reserve `amount` on the card (may answer requires_action)."""
        ...

    async def confirm(self, charge_id: str, *, idempotency_key: str) -> ChargeSnapshot:
        """Finish an extra confirmation step (3-D Secure)."""
        ...

    async def capture(
        self, charge_id: str, *, amount: Money | None, idempotency_key: str
    ) -> ChargeSnapshot:
        """Take authorised money."""
        ...

    async def void(self, charge_id: str, *, idempotency_key: str) -> ChargeSnapshot:
        """Release an authorisation without taking money."""
        ...

    async def refund(
        self, charge_id: str, *, amount: Money, idempotency_key: str
    ) -> tuple[ChargeSnapshot, RefundSnapshot]:
        """Give captured money back."""
        ...

    async def find_charge(self, *, idempotency_key: str) -> ChargeSnapshot | None:
        """The charge created with our idempotency key, if any (reconciliation)."""
        ...

    async def save_card(self, *, number: str, exp_month: int, exp_year: int, cvc: str) -> SavedCard:
        """Tokenise a card at the provider; card numbers never reach our tables."""
        ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """Verify and parse an incoming webhook; WebhookRejected when it cannot be trusted."""
        ...
