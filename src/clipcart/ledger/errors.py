"""Ledger errors: each an AppError with its own code."""

from __future__ import annotations

from clipcart.core.errors import AppError, Conflict


class InvalidTransfer(AppError):
    """A transfer or order split that breaks a ledger rule."""

    status, code, title = 422, "invalid_transfer", "That transfer is not valid"


class UnbalancedTransfer(InvalidTransfer):
    """Debits and credits differ."""

    code, title = "unbalanced_transfer", "Debits and credits must be equal"


class InsufficientFunds(Conflict):
    """An account that may not go negative would have."""

    code, title = "insufficient_funds", "There is not enough money in that account"


class IdempotencyConflict(Conflict):
    """An idempotency key was reused for a different transfer."""

    code, title = "idempotency_key_reused", "That idempotency key was used for something else"


class AlreadyResolved(Conflict):
    """A pending transfer was already posted or voided, or a transfer already reversed."""

    code, title = "already_resolved", "That transfer was already settled"


class WrongState(Conflict):
    """The order or payout is not in a state that allows this step."""

    code, title = "wrong_state", "That cannot be done now"
