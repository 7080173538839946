"""Pure rules of the live taste: what an event says, how signals decay and fold into a history,
and the trend counters' arithmetic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from clipcart.recs import domain
from clipcart.recs.online import decay, signals_from_rows

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
CODES = domain.EVENT_TYPE_CODES


def row(kind: str, video: uuid.UUID | None, *, minutes_ago: float = 1, product=None, **watch):  # type: ignore[no-untyped-def]
    return (
        CODES[kind],
        video,
        product,
        watch.get("watch_ms"),
        watch.get("duration_ms"),
        watch.get("completed"),
        NOW - timedelta(minutes=minutes_ago),
    )


def test_a_watch_says_more_the_more_of_the_video_was_watched() -> None:
    assert domain.watch_signal(10_000, 10_000, True) == 1.5
    assert domain.watch_signal(6_000, 10_000, False) == 1.0
    assert domain.watch_signal(3_000, 10_000, False) == 0.3
    assert domain.watch_signal(500, 10_000, False) == domain.SKIP_SIGNAL
    assert domain.event_signal(CODES["like"], None, None, None) > domain.watch_signal(
        6_000, 10_000, False
    )
    assert domain.event_signal(CODES["impression"], None, None, None) == 0


def test_signals_fold_into_taste_history_seen_and_intent() -> None:
    liked, skipped, seen_only = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    product = uuid.uuid4()
    rows = [  # newest first, as the query returns them
        row("add_to_cart", liked, product=product, minutes_ago=1),
        row("watch", skipped, watch_ms=400, duration_ms=9_000, minutes_ago=2),
        row("impression", seen_only, minutes_ago=3),
        row("like", liked, minutes_ago=4),
        row("impression", liked, minutes_ago=5),
    ]
    signals = signals_from_rows(rows, now=NOW)
    assert signals.history == [liked]
    assert signals.video_taste[skipped] < 0 < signals.video_taste[liked]
    assert set(signals.seen_at) == {seen_only, liked, skipped}
    assert signals.product_intent[product] > 2.9
    assert signals.event_count == 5


def test_history_is_oldest_first_by_each_videos_latest_signal() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    rows = [
        row("like", first, minutes_ago=1),
        row("like", second, minutes_ago=2),
        row("like", first, minutes_ago=3),
    ]
    assert signals_from_rows(rows, now=NOW).history == [second, first]


@given(st.floats(0, 500), st.floats(0, 500))
def test_older_signals_weigh_less(hours: float, more: float) -> None:
    at = NOW - timedelta(hours=hours)
    older = at - timedelta(hours=more)
    assert decay(older, NOW) <= decay(at, NOW) <= 1.0


def test_trend_units_add_up_to_the_decayed_sum() -> None:
    video = uuid.uuid4()
    half = timedelta(hours=domain.TREND_HALF_LIFE_HOURS)
    added = domain.trend_increments(
        [
            (CODES["like"], video, None, NOW - half),
            (CODES["share"], video, None, NOW),
            (CODES["watch"], video, True, NOW),
            (CODES["impression"], video, None, NOW),
            (CODES["like"], None, None, NOW),
        ]
    )
    like, share = domain.TREND_WEIGHTS[CODES["like"]], domain.TREND_WEIGHTS[CODES["share"]]
    expected = like / 2 + share + domain.TREND_COMPLETED_WATCH
    assert abs(domain.current_trend(added[video], NOW) - expected) < 1e-9
    # A day and a half later everything weighs half.
    assert abs(domain.current_trend(added[video], NOW + half) - expected / 2) < 1e-9


def test_shopping_mix_settings_set_k() -> None:
    assert domain.shoppable_every(domain.SHOPPING_MIX_CODES["balanced"]) == 3
    assert domain.shoppable_every(domain.SHOPPING_MIX_CODES["more_entertainment"]) == 6
    assert domain.shoppable_every(domain.SHOPPING_MIX_CODES["more_shopping"]) == 1
