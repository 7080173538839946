"""Payments settings derived from core settings."""

from __future__ import annotations

import hashlib
import hmac

from clipcart.core.config import get_settings


def webhook_secret() -> str:
    """The secret the provider signs webhooks with (derived from the app secret when unset)."""
    settings = get_settings()
    if settings.payments_webhook_secret:
        return settings.payments_webhook_secret
    derived = hmac.new(
        settings.resolved_secret_key.encode(), b"payments-sandbox-webhooks", hashlib.sha256
    )
    return "whsec_" + derived.hexdigest()


def sandbox_url() -> str:
    """The sandbox provider's API base URL."""
    settings = get_settings()
    return (settings.payments_sandbox_url or settings.base_url.rstrip("/") + "/sandbox").rstrip("/")


def webhook_url() -> str:
    """Where the sandbox posts webhooks."""
    settings = get_settings()
    return settings.payments_webhook_url or (
        settings.base_url.rstrip("/") + "/api/v1/payments/webhooks/sandbox"
    )
