"""Order and reservation rules: statuses, the moves between them, numbers and labels (pure)."""

from __future__ import annotations

import secrets
import uuid

PENDING_PAYMENT = "pending_payment"
PAID = "paid"
SHIPPED = "shipped"
DELIVERED = "delivered"
COMPLETED = "completed"
CANCELLED = "cancelled"
REFUNDED = "refunded"  # every line refunded in full

ORDER_STATUSES = (PENDING_PAYMENT, PAID, SHIPPED, DELIVERED, COMPLETED, CANCELLED, REFUNDED)

# Where each status may go next. A return approved before completion may still refund after
# it (completed -> refunded); a late return is refused by the returns rules, not here.
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING_PAYMENT: frozenset({PAID, CANCELLED}),
    PAID: frozenset({SHIPPED, CANCELLED}),
    SHIPPED: frozenset({DELIVERED}),
    DELIVERED: frozenset({COMPLETED, REFUNDED}),
    COMPLETED: frozenset({REFUNDED}),
    CANCELLED: frozenset(),
    REFUNDED: frozenset(),
}
FINAL_STATUSES = frozenset({CANCELLED, REFUNDED})
# Statuses whose orders count towards a buyer's per-product limit.
COUNTED_STATUSES = frozenset({PENDING_PAYMENT, PAID, SHIPPED, DELIVERED, COMPLETED})
# The Order column stamped when an order reaches a status.
TIMESTAMP_FIELDS = {
    PAID: "paid_at",
    SHIPPED: "shipped_at",
    DELIVERED: "delivered_at",
    COMPLETED: "completed_at",
    CANCELLED: "cancelled_at",
}

BUYER_LABELS = {
    PENDING_PAYMENT: "Awaiting payment",
    PAID: "Paid",
    SHIPPED: "Shipped",
    DELIVERED: "Delivered",
    COMPLETED: "Completed",
    CANCELLED: "Cancelled",
    REFUNDED: "Refunded",
}

# Stock reservations.
HELD = "held"
COMMITTED = "committed"
RELEASED = "released"
RETURNED = "returned"
RESERVATION_STATUSES = (HELD, COMMITTED, RELEASED, RETURNED)

RESERVATION_MINUTES = 15
ATTRIBUTION_DAYS = 14

# Where a purchase came from (OrderLine.source_kind).
SOURCE_VIDEO = "video"
SOURCE_LIVE = "live"
SOURCE_SHARE = "share"
SOURCE_SHOWCASE = "showcase"
SOURCE_DIRECT = "direct"
SOURCE_KINDS = (SOURCE_VIDEO, SOURCE_LIVE, SOURCE_SHARE, SOURCE_SHOWCASE, SOURCE_DIRECT)

_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # base32 without look-alikes (I O 0 1)
NUMBER_LENGTH = 10


def may_move(current: str, target: str) -> bool:
    """Whether an order in `current` may move to `target`."""
    return target in TRANSITIONS.get(current, frozenset())


def order_ref(order_id: uuid.UUID) -> str:
    """The reference payments and the ledger know an order by."""
    return f"order:{order_id}"


def new_order_number() -> str:
    """A random order number people can read out: CC- and 10 base32 characters."""
    return "CC-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def buyer_label(status: str) -> str:
    """How the buyer's pages name a status."""
    return BUYER_LABELS.get(status, status.replace("_", " ").capitalize())


def is_fully_refunded(line_totals: list[int], line_refunds: list[int]) -> bool:
    """Whether every line was refunded in full (the order is then `refunded`)."""
    return bool(line_totals) and all(
        refunded >= total for total, refunded in zip(line_totals, line_refunds, strict=True)
    )


def quantity_allowed(
    *, requested: int, stock: int, max_per_buyer: int | None, bought_before: int
) -> int:
    """How many of `requested` the buyer may have: limited by stock and the per-buyer limit."""
    allowed = stock
    if max_per_buyer is not None:
        allowed = min(allowed, max(0, max_per_buyer - bought_before))
    return max(0, min(requested, allowed))


def quantity_limit_message(
    *, title: str, stock: int, max_per_buyer: int | None, bought_before: int
) -> str:
    """Why the buyer cannot have more of a product, and how many they may have."""
    if max_per_buyer is not None and max_per_buyer - bought_before < stock:
        left = max(0, max_per_buyer - bought_before)
        if bought_before:
            return (
                f"{title} is limited to {max_per_buyer} per buyer and you already ordered "
                f"{bought_before}: you can add {left} more."
            )
        return f"{title} is limited to {max_per_buyer} per buyer."
    if stock <= 0:
        return f"{title} is sold out."
    return f"Only {stock} of {title} left: choose {stock} or fewer."


# --- returns ---------------------------------------------------------------------------

# Reasons that are the shop's doing: when such a return sends the last item of an order back,
# the buyer also gets back what the order cost beyond its lines (shipping and its tax).
SHOP_AT_FAULT = frozenset({"damaged", "wrong_item", "not_as_described"})


def line_share(
    *, line_total: int, line_quantity: int, before: int, count: int, paid_before: int
) -> int:
    """The paid share of `count` more units of a line when `before` were already returned
    (for `paid_before`): proportional and rounded down, the last unit takes the remainder."""
    if before + count >= line_quantity:
        return max(0, line_total - paid_before)
    return line_total * (before + count) // line_quantity - line_total * before // line_quantity


def beyond_lines_refund(
    *,
    reason: str,
    everything_back: bool,
    order_total: int,
    line_totals: int,
    refunded_beyond: int,
) -> int:
    """What a return adds to its line shares: the order's charges outside its lines (shipping
    and the tax on it, less what was already refunded of them), when the shop was at fault and
    this return sends the last item back."""
    if reason not in SHOP_AT_FAULT or not everything_back:
        return 0
    return max(0, order_total - line_totals - max(0, refunded_beyond))
