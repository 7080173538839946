"""Payout providers: who moves money from the platform to a payee's bank, and the sandbox one.

A provider takes a payout (idempotently, by our key) and answers with its reference; the money
then arrives later or bounces, which the payout jobs learn by asking the provider again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Protocol

from clipcart.core import clock
from clipcart.core.errors import ValidationFailed
from clipcart.core.money import Money
from clipcart.ledger.config import get_ledger_settings

SANDBOX_BANK_OK = "bank_sandbox_ok"
SANDBOX_BANK_FAIL = "bank_sandbox_fail"
"""Sandbox destinations: any token starting with `bank_sandbox_fail` always bounces."""
SANDBOX_FAILURE_REASON = "The bank returned the payout: the account is closed."

_DESTINATION = re.compile(r"[A-Za-z0-9_\-]{3,100}")
_SANDBOX_REFERENCE = re.compile(r"po_sbx_([0-9a-f]{24})_(\d+)_(ok|fail)")


class ProviderStatus(StrEnum):
    """Where a payout is at the provider."""

    IN_TRANSIT = "in_transit"
    PAID = "paid"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ProviderPayout:
    """What the provider says about one payout."""

    reference: str
    status: ProviderStatus
    failure_reason: str = ""


class PayoutProvider(Protocol):
    """Sends payouts to payees' banks (a real adapter wraps e.g. Stripe Connect transfers)."""

    name: str

    async def submit(
        self, *, idempotency_key: str, amount: Money, destination: str
    ) -> ProviderPayout:
        """Send `amount` to `destination`; the same key always answers the same payout."""
        ...

    async def retrieve(self, reference: str) -> ProviderPayout:
        """The current state of a submitted payout."""
        ...


def check_destination(destination: str) -> str:
    """A bank-account token as providers hand them out; 422 otherwise."""
    destination = destination.strip()
    if not _DESTINATION.fullmatch(destination):
        raise ValidationFailed.field(
            "destination", "Use the bank account token you were given (letters, digits, _ or -)."
        )
    return destination


class SandboxPayoutProvider:
    """A provider without a bank: payouts stay in transit for `settle_seconds`, then arrive,
    except to `bank_sandbox_fail*` accounts, which bounce. It keeps no state of its own: its
    verdict and the submission time travel inside the reference, as opaque to callers as a real
    provider's id."""

    name = "sandbox"
    # Answers by idempotency key, so a retried submission gets the same payout back (within
    # this process; the sandbox moves no real money, so a retry after a restart costs nothing).
    _submitted: ClassVar[dict[str, ProviderPayout]] = {}

    def __init__(self, settle_seconds: int) -> None:
        self.settle_seconds = settle_seconds

    async def submit(
        self, *, idempotency_key: str, amount: Money, destination: str
    ) -> ProviderPayout:
        """Accept the payout; it is in transit from now on."""
        if amount.amount <= 0:
            raise ValueError("a payout moves a positive amount")
        known = self._submitted.get(idempotency_key)
        if known is not None:
            return known
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        verdict = "fail" if destination.startswith(SANDBOX_BANK_FAIL) else "ok"
        submitted = int(clock.now().timestamp())
        reference = f"po_sbx_{digest}_{submitted}_{verdict}"
        answer = ProviderPayout(reference, ProviderStatus.IN_TRANSIT)
        if len(self._submitted) >= 10_000:  # a memo, not a store: keep it bounded
            self._submitted.clear()
        self._submitted[idempotency_key] = answer
        return answer

    async def retrieve(self, reference: str) -> ProviderPayout:
        """In transit until the settle time has passed, then paid or failed."""
        match = _SANDBOX_REFERENCE.fullmatch(reference)
        if match is None:
            raise ValueError(f"not a sandbox payout reference: {reference!r}")
        submitted = datetime.fromtimestamp(int(match.group(2)), tz=UTC)
        if clock.now() < submitted + timedelta(seconds=self.settle_seconds):
            return ProviderPayout(reference, ProviderStatus.IN_TRANSIT)
        if match.group(3) == "fail":
            return ProviderPayout(reference, ProviderStatus.FAILED, SANDBOX_FAILURE_REASON)
        return ProviderPayout(reference, ProviderStatus.PAID)


def get_payout_provider() -> PayoutProvider:
    """The configured payout provider."""
    settings = get_ledger_settings()
    if settings.payout_provider == "sandbox":
        return SandboxPayoutProvider(settings.payout_sandbox_settle_seconds)
    raise RuntimeError(f"unknown payout provider {settings.payout_provider!r}")
