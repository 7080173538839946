"""Pure rules of the affiliate program: who is credited for a sale, at what rate, for how
much, when a collaboration is open, and the deadlines of free samples."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

ATTRIBUTION_WINDOW = timedelta(days=14)
RATE_LOCK = timedelta(days=30)
SAMPLE_DEADLINE = timedelta(days=14)
# Commission rates are basis points of the line's net amount (100 bp = 1 %).
MIN_RATE_BP = 1
MAX_RATE_BP = 5000

OPEN = "open"
TARGETED = "targeted"
COLLABORATION_KINDS = (OPEN, TARGETED)
ACTIVE = "active"
PAUSED = "paused"
COLLABORATION_STATUSES = (ACTIVE, PAUSED)

# A commission's life: waiting for the payment, held until the return window closes,
# available for payout, or gone (the order was never paid, or everything was refunded).
AWAITING_PAYMENT = "awaiting_payment"
PENDING = "pending"
AVAILABLE = "available"
VOID = "void"
CLAWED_BACK = "clawed_back"
COMMISSION_STATUSES = (AWAITING_PAYMENT, PENDING, AVAILABLE, VOID, CLAWED_BACK)

# Free samples.
REQUESTED = "requested"
APPROVED = "approved"
DECLINED = "declined"
FULFILLED = "fulfilled"
MISSED = "missed"
SAMPLE_STATUSES = (REQUESTED, APPROVED, DECLINED, FULFILLED, MISSED)


@dataclass(frozen=True, slots=True)
class Touch:
    """A buyer engaging with a creator's video, live room, showcase or shared link."""

    creator_id: uuid.UUID | None
    at: datetime
    kind: str = "video"
    event_id: uuid.UUID | None = None
    video_id: uuid.UUID | None = None


def qualifies(touch: Touch, *, now: datetime, window: timedelta = ATTRIBUTION_WINDOW) -> bool:
    """Whether a touch can earn a commission at `now`: it names a creator and happened in
    the window before the purchase (never after it)."""
    return touch.creator_id is not None and now - window <= touch.at <= now


def credited_touch(
    touches: Iterable[Touch],
    *,
    buyer_id: uuid.UUID,
    now: datetime,
    window: timedelta = ATTRIBUTION_WINDOW,
) -> Touch | None:
    """The touch a purchase is credited to: the last qualifying one (ties: the later in the
    list), unless that touch is the buyer's own, which earns nothing."""
    last: Touch | None = None
    for touch in touches:
        if qualifies(touch, now=now, window=window) and (last is None or touch.at >= last.at):
            last = touch
    if last is None or last.creator_id == buyer_id:
        return None
    return last


def commission_amount(net_amount: int, rate_bp: int) -> int:
    """The commission on a line's net amount (minor units), rounded down: never more than
    the net amount, never negative."""
    if net_amount <= 0 or rate_bp <= 0:
        return 0
    return min(net_amount, net_amount * min(rate_bp, 10000) // 10000)


def line_net_amount(total: int, tax: int) -> int:
    """What a line earns the shop, on which commission is paid: its total without tax."""
    return max(0, total - tax)


def rate_problem(rate_bp: int) -> str | None:
    """Why a commission rate is refused, or None."""
    if not MIN_RATE_BP <= rate_bp <= MAX_RATE_BP:
        return f"Choose a commission between {MIN_RATE_BP / 100:g}% and {MAX_RATE_BP / 100:g}%."
    return None


def is_live(*, status: str, starts_at: datetime, ends_at: datetime | None, now: datetime) -> bool:
    """Whether a collaboration accepts new tags and sales now."""
    return status == ACTIVE and starts_at <= now and (ends_at is None or now < ends_at)


def lock_rate(
    *,
    locked_rate_bp: int | None,
    locked_until: datetime | None,
    current_rate_bp: int | None,
    now: datetime,
) -> int | None:
    """The rate a tagged video earns: the rate locked at tagging while the lock lasts (later
    changes by the shop apply only to new tags), then the collaboration's current rate."""
    if locked_rate_bp is not None and locked_until is not None and now < locked_until:
        return locked_rate_bp
    return current_rate_bp


def best_rate(rates: Iterable[int]) -> int | None:
    """The best of several rates open to a creator (an invitation and the open offer)."""
    return max(rates, default=None)


def sample_due(approved_at: datetime) -> datetime:
    """When a creator must have posted about an approved sample."""
    return approved_at + SAMPLE_DEADLINE


def sample_missed(*, status: str, due_at: datetime | None, now: datetime) -> bool:
    """Whether an approved sample's deadline passed without a post."""
    return status == APPROVED and due_at is not None and now >= due_at


def rate_label(rate_bp: int) -> str:
    """A rate as people read it ("12%", "7.5%")."""
    return f"{rate_bp / 100:g}%"
