"""Pure order rules: the lifecycle, order numbers and refs, labels, quantity limits and the
attribution rule."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clipcart.commerce import domain
from clipcart.commerce.attribution import (
    DIRECT,
    Attribution,
    choose,
    explicit_claim,
    latest_touch,
)

S = domain


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PENDING_PAYMENT, S.PAID),
        (S.PENDING_PAYMENT, S.CANCELLED),
        (S.PAID, S.SHIPPED),
        (S.PAID, S.CANCELLED),
        (S.SHIPPED, S.DELIVERED),
        (S.DELIVERED, S.COMPLETED),
        (S.DELIVERED, S.REFUNDED),
        (S.COMPLETED, S.REFUNDED),
    ],
)
def test_the_lifecycle_allows_these_moves(current: str, target: str) -> None:
    assert domain.may_move(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PENDING_PAYMENT, S.SHIPPED),
        (S.PAID, S.PENDING_PAYMENT),
        (S.PAID, S.DELIVERED),
        (S.SHIPPED, S.CANCELLED),  # too late to cancel once shipped
        (S.SHIPPED, S.PAID),
        (S.DELIVERED, S.CANCELLED),
        (S.COMPLETED, S.DELIVERED),
        (S.CANCELLED, S.PAID),
        (S.REFUNDED, S.COMPLETED),
        (S.PAID, S.PAID),
        ("unknown", S.PAID),
    ],
)
def test_the_lifecycle_refuses_everything_else(current: str, target: str) -> None:
    assert not domain.may_move(current, target)


@given(st.sampled_from(domain.ORDER_STATUSES), st.sampled_from(domain.ORDER_STATUSES))
def test_final_statuses_never_move_and_nothing_goes_back_to_pending(
    current: str, target: str
) -> None:
    if current in domain.FINAL_STATUSES or target == S.PENDING_PAYMENT:
        assert not domain.may_move(current, target)


def test_every_status_has_a_label_and_reachable_statuses_a_timestamp_or_none() -> None:
    assert {domain.buyer_label(status) for status in domain.ORDER_STATUSES} >= {
        "Awaiting payment",
        "Paid",
        "Shipped",
        "Delivered",
        "Completed",
        "Cancelled",
        "Refunded",
    }
    assert domain.buyer_label("on_hold") == "On hold"
    assert set(domain.TIMESTAMP_FIELDS) <= set(domain.ORDER_STATUSES)


def test_order_ref_is_what_payments_and_the_ledger_use() -> None:
    order_id = uuid.UUID("01890000-0000-7000-8000-000000000001")
    assert domain.order_ref(order_id) == "order:01890000-0000-7000-8000-000000000001"


def test_order_numbers_are_random_readable_and_unambiguous() -> None:
    numbers = {domain.new_order_number() for _ in range(2000)}
    assert len(numbers) == 2000
    for number in numbers:
        assert number.startswith("CC-") and len(number) == 13
        assert not set(number[3:]) & set("IO01")
        assert number[3:].isalnum() and number[3:] == number[3:].upper()


def test_fully_refunded_means_every_line_in_full() -> None:
    assert domain.is_fully_refunded([1000, 500], [1000, 500])
    assert not domain.is_fully_refunded([1000, 500], [1000, 499])
    assert not domain.is_fully_refunded([], [])


@given(
    requested=st.integers(1, 50),
    stock=st.integers(0, 50),
    limit=st.one_of(st.none(), st.integers(0, 20)),
    before=st.integers(0, 30),
)
def test_quantity_allowed_respects_stock_and_the_per_buyer_limit(
    requested: int, stock: int, limit: int | None, before: int
) -> None:
    allowed = domain.quantity_allowed(
        requested=requested, stock=stock, max_per_buyer=limit, bought_before=before
    )
    assert 0 <= allowed <= min(requested, stock)
    if limit is not None:
        assert allowed + before <= max(limit, before)
    if limit is None:
        assert allowed == min(requested, stock)


def test_quantity_messages_say_how_many_are_possible() -> None:
    assert (
        domain.quantity_limit_message(title="Tee", stock=3, max_per_buyer=None, bought_before=0)
        == "Only 3 of Tee left: choose 3 or fewer."
    )
    assert (
        domain.quantity_limit_message(title="Tee", stock=0, max_per_buyer=None, bought_before=0)
        == "Tee is sold out."
    )
    assert domain.quantity_limit_message(
        title="Tee", stock=10, max_per_buyer=2, bought_before=1
    ) == ("Tee is limited to 2 per buyer and you already ordered 1: you can add 1 more.")
    assert (
        domain.quantity_limit_message(title="Tee", stock=10, max_per_buyer=2, bought_before=0)
        == "Tee is limited to 2 per buyer."
    )


def test_the_attribution_rule() -> None:
    video = uuid.uuid4()
    explicit = Attribution(kind=S.SOURCE_VIDEO, video_id=video)
    touch = Attribution(kind=S.SOURCE_SHARE, event_id=uuid.uuid4())
    assert choose(explicit, touch) is explicit
    assert choose(None, touch) is touch
    assert choose(DIRECT, touch) is touch
    assert choose(None, None) == DIRECT and DIRECT.kind == "direct"


def test_what_a_source_claims() -> None:
    video, live = uuid.uuid4(), uuid.uuid4()
    assert explicit_claim({"share_code": "abc", "video_id": str(video)}) == (
        "share",
        video,
        "abc",
    )
    assert explicit_claim({"live_id": str(live), "video_id": str(video)}) == ("live", live, None)
    assert explicit_claim({"video_id": str(video)}) == ("video", video, None)
    assert explicit_claim({"video_id": "not-a-uuid"}) == ("direct", None, None)
    assert explicit_claim({"share_code": "x" * 40}) == ("direct", None, None)
    assert explicit_claim({}) == ("direct", None, None)
    creator = uuid.uuid4()
    assert explicit_claim({"showcase_id": str(creator)}) == ("showcase", creator, None)
    # A video the buyer came with is more specific than the showcase it was found in.
    both = {"showcase_id": str(creator), "video_id": str(video)}
    assert explicit_claim(both) == ("video", video, None)
    assert explicit_claim({"showcase_id": "nobody"}) == ("direct", None, None)


def test_the_latest_touch_that_names_a_creator_wins() -> None:
    cara, dan = uuid.uuid4(), uuid.uuid4()
    deleted_video = Attribution(kind=S.SOURCE_VIDEO, video_id=uuid.uuid4())  # no creator now
    showcase = Attribution(kind=S.SOURCE_SHOWCASE, creator_id=cara)
    video = Attribution(kind=S.SOURCE_VIDEO, video_id=uuid.uuid4(), creator_id=dan)
    assert latest_touch([deleted_video, showcase, video]) is showcase  # newest first
    assert latest_touch([video, showcase]) is video
    assert latest_touch([deleted_video]) is deleted_video
    assert latest_touch([]) is None
