"""Property tests of attribution and commission rules (affiliate/domain.py) and of the per-line
creator shares of an escrow (ledger/shares.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

from hypothesis import given
from hypothesis import strategies as st

from clipcart.affiliate import domain
from clipcart.core.money import Money
from clipcart.ledger.shares import (
    CreatorShare,
    Parties,
    Portion,
    assign_refund,
    assigned_so_far,
    line_clawbacks,
    order_portions,
    party_totals,
    refunded_parts,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CREATORS = [uuid.UUID(int=n) for n in range(1, 5)]
BUYER = CREATORS[0]

touches = st.lists(
    st.builds(
        domain.Touch,
        creator_id=st.one_of(st.none(), st.sampled_from(CREATORS)),
        at=st.integers(-20 * 24 * 60, 60).map(lambda minutes: NOW + timedelta(minutes=minutes)),
        kind=st.sampled_from(["video", "live", "share", "showcase"]),
    ),
    max_size=12,
)


@given(touches)
def test_the_credited_creator_is_the_last_qualifying_touch_in_the_window(
    found: list[domain.Touch],
) -> None:
    credited = domain.credited_touch(found, buyer_id=BUYER, now=NOW)
    qualifying = [touch for touch in found if domain.qualifies(touch, now=NOW)]
    if not qualifying:
        assert credited is None
        return
    latest = max(touch.at for touch in qualifying)
    if credited is None:
        # Only when the last qualifying touch is the buyer's own: own links earn nothing.
        assert any(t.at == latest and t.creator_id == BUYER for t in qualifying)
        return
    assert credited in qualifying
    assert credited.at == latest
    assert credited.creator_id != BUYER
    assert NOW - domain.ATTRIBUTION_WINDOW <= credited.at <= NOW


def test_touches_outside_the_window_or_in_the_future_never_count() -> None:
    old = domain.Touch(CREATORS[1], NOW - timedelta(days=14, seconds=1))
    future = domain.Touch(CREATORS[2], NOW + timedelta(seconds=1))
    edge = domain.Touch(CREATORS[3], NOW - timedelta(days=14))
    assert domain.credited_touch([old, future], buyer_id=BUYER, now=NOW) is None
    assert domain.credited_touch([old, edge, future], buyer_id=BUYER, now=NOW) == edge
    own_last = domain.Touch(BUYER, NOW - timedelta(hours=1))
    other_before = domain.Touch(CREATORS[1], NOW - timedelta(days=2))
    assert domain.credited_touch([other_before, own_last], buyer_id=BUYER, now=NOW) is None


@given(st.integers(-100, 10**9), st.integers(-5, 20_000))
def test_a_commission_never_exceeds_the_lines_net_amount(net: int, rate_bp: int) -> None:
    amount = domain.commission_amount(net, rate_bp)
    assert 0 <= amount <= max(net, 0)
    if net > 0 and 0 < rate_bp <= 10_000:
        assert amount == net * rate_bp // 10_000


def test_the_rate_locked_on_a_tag_holds_for_30_days_then_the_current_rate_applies() -> None:
    until = NOW + domain.RATE_LOCK
    rate = partial(domain.lock_rate, locked_rate_bp=1200, locked_until=until, current_rate_bp=2000)
    assert rate(now=NOW) == 1200
    assert rate(now=until - timedelta(seconds=1)) == 1200
    assert rate(now=until) == 2000
    assert domain.rate_problem(0) and domain.rate_problem(5001) and not domain.rate_problem(1200)


shares_strategy = st.lists(
    st.tuples(st.sampled_from(CREATORS), st.integers(1, 50_000), st.integers(0, 5000)),
    min_size=1,
    max_size=4,
)
# A step: declare a line's cumulative refund (claim), or refund an amount.
steps_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("claim"), st.integers(0, 3), st.integers(0, 60_000)),
        st.tuples(st.just("refund"), st.just(0), st.integers(0, 60_000)),
    ),
    max_size=8,
)


def with_state(
    portions: list[Portion], claims: dict[str, int], assigned: list[int]
) -> list[Portion]:
    """The portions as the ledger would load them after some claims and refunds."""
    return [
        replace(
            portion,
            claim=claims.get(portion.line_ref, 0) if portion.line_ref else 0,
            refunded=part if portion.line_ref else 0,
        )
        for portion, part in zip(portions, assigned, strict=True)
    ]


@given(
    shares_strategy,
    st.integers(0, 5_000),
    st.sampled_from([Decimal("0"), Decimal("0.05"), Decimal("0.1")]),
    steps_strategy,
)
def test_creator_shares_add_up_and_refunds_claw_back_only_their_lines(
    raw: list[tuple[uuid.UUID, int, int]],
    rest: int,
    fee_rate: Decimal,
    steps: list[tuple[str, int, int]],
) -> None:
    shares = [
        CreatorShare(f"line-{index}", creator, amount, amount * rate // 10_000)
        for index, (creator, amount, rate) in enumerate(raw)
    ]
    total = Money(sum(share.amount for share in shares) + rest, "USD")
    portions = order_portions(total, fee_rate=fee_rate, shares=shares)
    whole = party_totals(portions, "USD")
    assert whole.total == total  # every cent goes to someone
    for share in shares:  # a commission is never more than its line paid
        portion = next(p for p in portions if p.line_ref == share.line_ref)
        assert portion.split.creator.amount <= share.commission <= share.amount
    claims: dict[str, int] = {}
    refunded = 0
    given_back = Parties(Money(0, "USD"), Money(0, "USD"))
    for action, line, value in steps:
        if action == "claim":
            ref = f"line-{line}"
            claims[ref] = max(claims.get(ref, 0), value)
            continue
        amount = min(value, total.amount - refunded)
        state = with_state(portions, claims, assigned_so_far(portions, refunded))
        previous = assigned_so_far(state, refunded)
        assigned = assign_refund(state, previous, amount)

        def outstanding(parts: list[int], state: list[Portion] = state) -> int:
            return sum(
                max(0, min(p.claim, p.amount) - part)
                for p, part in zip(state, parts, strict=True)
                if p.line_ref is not None
            )

        if outstanding(assigned):  # claims not met yet took the whole refund
            assert outstanding(previous) - outstanding(assigned) == amount
        delta = refunded_parts(state, assigned, "USD").minus(refunded_parts(state, previous, "USD"))
        assert delta.total.amount == amount  # each refund splits exactly
        refunded += amount
        portions = with_state(portions, claims, assigned)
        given_back = refunded_parts(portions, assigned, "USD")
        remaining = whole.minus(given_back)
        assert remaining.seller.amount >= 0 and remaining.platform.amount >= 0
        assert all(money.amount >= 0 for money in remaining.creators.values())
        clawed = line_clawbacks(portions, "USD")
        for portion, part in zip(portions, assigned, strict=True):
            if portion.line_ref is None:
                continue
            if part == 0:  # a line nothing was assigned to keeps its whole commission
                assert clawed[portion.line_ref].amount == 0
            if part == portion.amount:  # a line refunded in full gives all of it back
                assert clawed[portion.line_ref] == portion.split.creator
    assert given_back.total.amount == refunded


def test_a_claimed_line_refund_claws_back_that_lines_commission_only() -> None:
    amy, ben = CREATORS[1], CREATORS[2]
    shares = [
        CreatorShare("a", amy, 10_000, 1_200),
        CreatorShare("b", ben, 5_000, 500, claim=5_000),
    ]
    portions = order_portions(Money(15_500, "USD"), fee_rate=Decimal("0.05"), shares=shares)
    previous = assigned_so_far(portions, 0)
    assigned = assign_refund(portions, previous, 5_000)
    assert assigned == [0, 5_000, 0]
    parts = refunded_parts(portions, assigned, "USD")
    assert parts.creators == {amy: Money(0, "USD"), ben: Money(500, "USD")}
    assert parts.platform == Money(250, "USD") and parts.seller == Money(4_250, "USD")
    # Without a claim the refund comes out of the rest of the order (shipping) first.
    unclaimed = [replace(portion, claim=0) for portion in portions]
    assert assign_refund(unclaimed, previous, 700) == [200, 0, 500]
