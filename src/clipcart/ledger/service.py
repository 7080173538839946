"""The ledger's use cases: what other domains call. Services never commit; the caller does.

Posting engine (posting.py), escrow for orders (escrow.py), payouts (payouts.py), statements
(statements.py) and verification (verification.py) live in their own modules; this is the one
module other domains import.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.ledger.accounts import (
    balance_out,
    find_account,
    get_balance,
    get_or_create_account,
    get_or_create_accounts,
)
from clipcart.ledger.domain import AccountKey
from clipcart.ledger.errors import InsufficientFunds
from clipcart.ledger.escrow import (
    get_escrow,
    hold_payment,
    is_released,
    refund_after_release,
    refund_before_release,
    refund_order,
    release_order_funds,
    settle_refund,
)
from clipcart.ledger.escrow_shares import (
    ShareIn,
    claim_line_refunds,
    line_clawbacks_of,
    plan_creator_shares,
)
from clipcart.ledger.payouts import (
    advance_payout,
    complete_payout,
    create_payout,
    fail_payout,
    get_payee_balance,
    get_payout_schedule,
    list_payouts,
    minimum_payout_for,
    payee_money,
    request_payout,
    set_payout_schedule,
)
from clipcart.ledger.posting import (
    find_resolution,
    find_transfer_by_key,
    get_transfer,
    post_pending,
    post_transfer,
    reverse_transfer,
    void_pending,
)
from clipcart.ledger.schemas import BalanceOut
from clipcart.ledger.statements import (
    get_balance_history,
    get_payee_statement,
    get_statement,
    list_payee_balances,
)
from clipcart.ledger.verification import CHECKS, verify_ledger

__all__ = [
    "CHECKS",
    "InsufficientFunds",
    "ShareIn",
    "advance_payout",
    "claim_line_refunds",
    "complete_payout",
    "create_payout",
    "fail_payout",
    "find_account",
    "find_resolution",
    "find_transfer_by_key",
    "get_account_balance",
    "get_balance",
    "get_balance_history",
    "get_escrow",
    "get_or_create_account",
    "get_or_create_accounts",
    "get_payee_balance",
    "get_payee_statement",
    "get_payout_schedule",
    "get_statement",
    "get_transfer",
    "hold_payment",
    "is_released",
    "line_clawbacks_of",
    "list_payee_balances",
    "list_payouts",
    "minimum_payout_for",
    "payee_money",
    "plan_creator_shares",
    "post_pending",
    "post_transfer",
    "refund_after_release",
    "refund_before_release",
    "refund_order",
    "release_order_funds",
    "request_payout",
    "reverse_transfer",
    "set_payout_schedule",
    "settle_refund",
    "verify_ledger",
    "void_pending",
]


async def get_account_balance(key: AccountKey, *, session: AsyncSession) -> BalanceOut | None:
    """The balances of the account for `key`, or None if nothing was ever posted to it."""
    account = await find_account(key, session=session)
    return balance_out(account) if account is not None else None
