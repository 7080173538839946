"""The For You rules, pure: scoring and its explanation, exploration, the re-ranking rules
(diversity, seen filter, shopping density, exploration budget) and the cursor that carries them."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from clipcart.feed import engine
from clipcart.feed.mixing import MixState, arrange, decode_cursor, encode_cursor, unseen
from clipcart.feed.ranking import (
    FRESH_AUDIENCE,
    Features,
    Scored,
    explain,
    exploration_bonus,
    score,
    score_all,
)

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def features(**given: object) -> Features:
    values: dict[str, object] = {
        "video_id": uuid.uuid4(),
        "creator_id": uuid.uuid4(),
        "created_at": NOW - timedelta(days=5),
        "sources": frozenset({"trending"}),
    }
    values.update(given)
    return Features(**values)  # type: ignore[arg-type]


def scored(**given: object) -> Scored:
    return score(features(**given), now=NOW)


# --- scoring and explanation --------------------------------------------------------------------


def test_the_score_is_the_sum_of_its_terms_and_the_explanation_quotes_them() -> None:
    item = scored(similarity=0.9, topic_affinity=0.4, sources=frozenset({"similar", "trending"}))
    assert abs(item.score - sum(term.value for term in item.terms)) < 1e-9
    why = explain(item)
    assert why.terms == item.terms and why.score == item.score
    biggest = max(item.terms, key=lambda term: term.value)
    assert why.reasons[0] == biggest.text
    assert "people who liked what you liked also liked it" in why.summary
    assert why.sources == ("similar", "trending")


def test_the_summary_does_not_say_the_same_thing_twice() -> None:
    # Followed, brand new and trending: each source already says what its term would.
    item = scored(
        followed=True,
        trend=0.9,
        created_at=NOW - timedelta(minutes=10),
        sources=frozenset({"following", "trending"}),
    )
    # (It used to add "people engage with it a lot and you follow its creator".)
    assert explain(item).summary == (
        "You are seeing this because it is from an account you follow, it is trending right now, "
        "new videos get a small audience to show what they are worth and it is new."
    )
    # The same terms still explain an item no source vouches for in those words.
    alone = explain(scored(followed=True, trend=0.9, sources=frozenset({"recent"}))).summary
    assert "people engage with it a lot" in alone


@given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
def test_more_taste_never_lowers_the_score(similarity: float, topic: float, extra: float) -> None:
    low = scored(similarity=similarity, topic_affinity=topic)
    high = scored(similarity=min(1.0, similarity + extra), topic_affinity=topic)
    assert high.score >= low.score - 1e-12


def test_a_product_the_viewer_wanted_adds_expected_purchase_value() -> None:
    plain = scored(shoppable=True, price_minor=2500)
    wanted = scored(shoppable=True, price_minor=2500, product_intent=1.0)
    no_chip = scored(shoppable=False, price_minor=2500, product_intent=1.0)
    purchase = {
        item: next(t.value for t in item.terms if t.name == "purchase")
        for item in (plain, wanted, no_chip)
    }
    assert purchase[no_chip] == 0 < purchase[plain] < purchase[wanted]


def test_a_new_video_gets_its_guaranteed_audience_then_earns_its_reach() -> None:
    young = NOW - timedelta(hours=3)
    assert exploration_bonus(features(created_at=young, views=0), NOW) == 1.0
    loved = features(created_at=young, views=FRESH_AUDIENCE * 2, engagements=FRESH_AUDIENCE)
    ignored = features(created_at=young, views=FRESH_AUDIENCE * 2, engagements=0)
    assert exploration_bonus(loved, NOW) > 0.5 > exploration_bonus(ignored, NOW) == 0.0
    old = features(created_at=NOW - timedelta(days=3), views=0)
    assert exploration_bonus(old, NOW) == 0.0


# --- every candidate at once ---------------------------------------------------------------------


def one_at_a_time(item: Features) -> list[float]:
    """The terms of one candidate's score, written out per candidate as the ranking rules say
    (the weights are the defaults): what the batch computation must agree with."""
    rate = (item.engagements + 0.08 * 20) / (max(item.views, 0) + 20)
    quality = min(1.0, rate / 0.2)
    watch = 0.35 * item.similarity + 0.3 * item.topic_affinity + 0.2 * item.creator_affinity
    watch += 0.2 * item.product_intent + 0.1 * quality + 0.1 * item.followed
    watch += 0.05 * item.region_match
    engagement = min(1.0, 0.5 * quality + 0.3 * item.topic_affinity + 0.2 * item.trend)
    size = min(1.0, math.log10(1 + (item.price_minor or 0) / 100) / 3)
    purchase = (0.15 + 0.85 * item.product_intent) * (0.3 + 0.7 * size) * item.shoppable
    hours = (NOW - item.created_at).total_seconds() / 3600
    earned = min(1.0, item.engagements / max(1, item.views) / 0.08) * (1 - hours / 48)
    explore = 0.0 if hours > 48 else 1.0 if item.views < FRESH_AUDIENCE else earned
    fresh = 0.5 ** (max(0.0, hours) / 24)
    return [
        max(-1.0, min(1.0, watch)),
        0.5 * engagement,
        0.6 * purchase,
        0.08 * fresh,
        0.12 * explore,
    ]


candidate_features = st.builds(
    features,
    similarity=st.floats(0, 1),
    creator_affinity=st.floats(-1, 1),
    topic_affinity=st.floats(-1, 1),
    product_intent=st.floats(0, 1),
    followed=st.booleans(),
    region_match=st.booleans(),
    views=st.integers(0, 10**7),
    engagements=st.integers(0, 10**6),
    trend=st.floats(0, 1),
    shoppable=st.booleans(),
    price_minor=st.none() | st.integers(0, 10**8),
    created_at=st.integers(-3600, 30 * 86400).map(lambda seconds: NOW - timedelta(seconds=seconds)),
)


@given(st.lists(candidate_features, max_size=12))
def test_scoring_all_candidates_at_once_gives_each_the_score_of_its_own_terms(
    candidates: list[Features],
) -> None:
    scored_all = score_all(candidates, now=NOW)
    assert [item.features for item in scored_all] == candidates
    for item in scored_all:
        expected = one_at_a_time(item.features)
        assert all(abs(a - b) < 1e-12 for a, b in zip(item.values, expected, strict=True))
        assert [term.value for term in item.terms] == list(item.values)
        assert [term.name for term in item.terms] == [
            "watch", "engagement", "purchase", "freshness", "exploration"
        ]  # fmt: skip
        assert abs(item.score - sum(expected)) < 1e-12
        alone = score(item.features, now=NOW)
        assert alone.score == item.score and alone.terms == item.terms


# --- re-ranking rules ---------------------------------------------------------------------------


def test_no_two_videos_by_the_same_creator_in_a_row() -> None:
    busy, other = uuid.uuid4(), uuid.uuid4()
    ranked = [scored(creator_id=busy, similarity=1 - i / 10) for i in range(4)]
    ranked.append(scored(creator_id=other, similarity=0.0))
    page, _ = arrange(ranked, size=3, shoppable_every=3, state=MixState())
    creators = [item.features.creator_id for item in page]
    assert creators[:3] == [busy, other, busy]


def test_at_most_one_shoppable_video_in_k_and_the_setting_moves_k() -> None:
    ranked = [scored(shoppable=True, similarity=1.0) for _ in range(6)]
    ranked += [scored(shoppable=False, similarity=0.5) for _ in range(6)]
    # Six entertaining videos are enough for 3 shoppable ones at K=3, or 2 at K=6.
    for every, size in ((3, 9), (6, 7)):
        page, _ = arrange(ranked, size=size, shoppable_every=every, state=MixState())
        flags = [item.features.shoppable for item in page]
        assert len(flags) == size and sum(flags) == (3 if every == 3 else 2)
        for start in range(len(flags)):
            assert sum(flags[start : start + every]) <= 1, (every, flags)
    more_shopping, _ = arrange(ranked, size=6, shoppable_every=1, state=MixState())
    assert all(item.features.shoppable for item in more_shopping)


def test_when_only_shoppable_videos_are_left_the_feed_goes_on() -> None:
    ranked = [scored(shoppable=True) for _ in range(3)]
    page, _ = arrange(ranked, size=3, shoppable_every=3, state=MixState())
    assert len(page) == 3


def test_the_density_rule_carries_over_to_the_next_page() -> None:
    ranked = [scored(shoppable=True, similarity=1.0)] + [scored() for _ in range(3)]
    first, state = arrange(ranked[:1], size=1, shoppable_every=3, state=MixState())
    assert first[0].features.shoppable and state.since_shoppable == 0
    again = decode_cursor(encode_cursor(state))
    assert again is not None
    second, _ = arrange(
        [scored(shoppable=True, similarity=1.0), *ranked[1:]],
        size=2,
        shoppable_every=3,
        state=again,
    )
    assert [item.features.shoppable for item in second] == [False, False]


def test_the_exploration_budget_bounds_new_videos_on_a_page() -> None:
    young = NOW - timedelta(hours=1)
    exploring = [
        scored(created_at=young, sources=frozenset({"fresh"}), similarity=0.1) for _ in range(6)
    ]
    settled = [scored(similarity=0.05) for _ in range(6)]
    assert all(item.exploring for item in exploring)
    page, _ = arrange([*exploring, *settled], size=8, shoppable_every=3, state=MixState())
    assert sum(item.exploring for item in page) == 2 and len(page) == 8


def test_seen_videos_stay_out_for_n_days() -> None:
    recent, long_ago, never = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    seen = {recent: NOW - timedelta(days=1), long_ago: NOW - timedelta(days=9)}
    assert unseen([recent, long_ago, never], seen, now=NOW, days=3) == [long_ago, never]


def test_a_session_never_gets_a_video_twice_and_bad_cursors_are_refused() -> None:
    ranked = [scored(similarity=1 - i / 20) for i in range(10)]
    first, state = arrange(ranked, size=4, shoppable_every=3, state=MixState())
    decoded = decode_cursor(encode_cursor(state))
    assert decoded is not None
    second, _ = arrange(ranked, size=4, shoppable_every=3, state=decoded)
    assert not {i.features.video_id for i in first} & {i.features.video_id for i in second}
    assert decode_cursor("not-a-cursor!") is None
    assert decode_cursor(encode_cursor(state)[:-3]) is None


def test_the_region_comes_from_the_first_language_tag_that_has_one() -> None:
    assert engine.region_of("en-GB,en;q=0.8") == "GB"
    assert engine.region_of("fr;q=0.9, de-DE;q=0.5") == "DE"
    assert engine.region_of("zh_CN") == "CN"
    assert engine.region_of("en") is None and engine.region_of(None) is None
