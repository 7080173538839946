"""Payments' use cases, as the rest of ClipCart calls them (the one module other domains import).

Calls to the provider never happen inside a database transaction: the intent is committed as
`processing` first (so a lost answer is never a lost payment), the provider is called with our
idempotency key (so a retry is never a second charge), and the answer is applied in a new
transaction. Those functions therefore open their own units of work; the pure-database ones
take the caller's `session` and never commit. The work is split by topic: intents.py (intents,
saved methods, listeners), settlement.py (applying the provider's answer), charging.py
(confirm, capture, void).
"""

from __future__ import annotations

from clipcart.payments.charging import (
    Confirmation,
    begin_confirmation,
    cancel_payment_intent,
    capture_payment_intent,
    confirm_payment_intent,
    send_capture,
    send_confirmation,
    send_confirmation_and_capture,
)
from clipcart.payments.intents import (
    StatusListener,
    create_payment_intent,
    get_intent_for,
    get_provider,
    list_intent_events,
    list_payment_methods,
    lock_intent,
    on_status_change,
    save_payment_method,
    set_provider,
)
from clipcart.payments.settlement import apply_charge, refund_key, settle_from_charge

__all__ = [
    "Confirmation",
    "StatusListener",
    "apply_charge",
    "begin_confirmation",
    "cancel_payment_intent",
    "capture_payment_intent",
    "confirm_payment_intent",
    "create_payment_intent",
    "get_intent_for",
    "get_provider",
    "list_intent_events",
    "list_payment_methods",
    "lock_intent",
    "on_status_change",
    "refund_key",
    "save_payment_method",
    "send_capture",
    "send_confirmation",
    "send_confirmation_and_capture",
    "set_provider",
    "settle_from_charge",
]
