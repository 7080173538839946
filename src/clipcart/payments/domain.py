"""Payment intent states and the rule that an intent never moves backwards."""

from __future__ import annotations

REQUIRES_PAYMENT_METHOD = "requires_payment_method"
PROCESSING = "processing"
REQUIRES_ACTION = "requires_action"
AUTHORISED = "authorised"
CAPTURED = "captured"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"
CANCELLED = "cancelled"
FAILED = "failed"

# Forward order of the happy path; failed and cancelled end it from before capture.
RANK = {
    REQUIRES_PAYMENT_METHOD: 0,
    PROCESSING: 1,
    REQUIRES_ACTION: 2,
    AUTHORISED: 3,
    CAPTURED: 4,
    PARTIALLY_REFUNDED: 5,
    REFUNDED: 6,
}
FINAL = frozenset({REFUNDED, CANCELLED, FAILED})
MONEY_TAKEN = frozenset({CAPTURED, PARTIALLY_REFUNDED, REFUNDED})

PROVIDER_STATUS = {
    "requires_action": REQUIRES_ACTION,
    "authorised": AUTHORISED,
    "captured": CAPTURED,
    "partially_refunded": PARTIALLY_REFUNDED,
    "refunded": REFUNDED,
    "cancelled": CANCELLED,
    "failed": FAILED,
}


def may_move(current: str, target: str) -> bool:
    """Whether `current` may become `target` (forward only; failed/cancelled before capture)."""
    if current in FINAL or current == target:
        return False
    if target in {FAILED, CANCELLED}:
        return RANK[current] < RANK[CAPTURED]
    return RANK[target] > RANK[current]


def refunded_status(captured: int, refunded: int) -> str:
    """The status once `refunded` of `captured` went back."""
    if refunded <= 0:
        return CAPTURED
    return REFUNDED if refunded >= captured else PARTIALLY_REFUNDED
