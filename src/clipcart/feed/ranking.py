"""Pure scoring for For You: one function combines predicted watch, predicted engagement and
expected purchase value (plus freshness and the exploration budget) with tunable weights, and
returns the terms it added up, which are also what "Why am I seeing this?" says. It scores all
of a request's candidates at once, with numpy (one Python pass per candidate cost more than the
rest of the ranking); each candidate keeps what each of its terms added.

No framework imports: the engine (`feed.engine`) gathers the features, this module decides.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np

from clipcart.feed.domain import HALF_LIFE_HOURS

# Candidate sources, and how each is said to a person.
SOURCE_TEXT: dict[str, str] = {
    "following": "it is from an account you follow",
    "similar": "people who liked what you liked also liked it",
    "trending": "it is trending right now",
    "shopping": "it shows a product you looked at",
    "topics": "it is about topics you have been enjoying",
    "fresh": "it is a new video finding its first audience",
    "interests": "it matches interests you chose",
    "recent": "it is new on ClipCart",
}
SOURCES = tuple(SOURCE_TEXT)

# Exploration: every new video gets a small guaranteed audience; past it, its reach grows with
# how well that audience engaged.
FRESH_HOURS = 48.0
FRESH_AUDIENCE = 50
TYPICAL_ENGAGEMENT_RATE = 0.08
ENGAGEMENT_PRIOR_VIEWS = 20


@dataclass(frozen=True)
class RankingWeights:
    """How much each part of the score counts (tunable; the defaults favour watching)."""

    watch: float = 1.0
    engagement: float = 0.5
    purchase: float = 0.6
    freshness: float = 0.08
    exploration: float = 0.12


DEFAULT_WEIGHTS = RankingWeights()


class Features(NamedTuple):
    """What the engine knows about one candidate for one viewer (all affinities in 0..1).

    A named tuple rather than a frozen dataclass: a request builds one per candidate, and a
    frozen dataclass took three times as long to build."""

    video_id: uuid.UUID
    creator_id: uuid.UUID
    created_at: datetime
    sources: frozenset[str]
    similarity: float = 0.0  # the collaborative model, scaled so the best candidate is 1
    creator_affinity: float = 0.0  # the viewer's recent taste for this creator
    topic_affinity: float = 0.0  # the viewer's recent taste for these hashtags/categories
    interest_match: bool = False  # a hashtag or category the viewer chose
    followed: bool = False
    views: int = 0
    engagements: int = 0  # likes + comments + saves + shares
    trend: float = 0.0  # scaled so the most trending candidate is 1
    shoppable: bool = False  # at least one chip will be shown
    product_intent: float = 0.0  # the viewer's recent intent for its products or category
    price_minor: int | None = None
    region_match: bool = False


@dataclass(frozen=True)
class Term:
    """One part of a score: its name, what it added, and what it means in plain words."""

    name: str
    value: float
    text: str
    about: str = ""  # the candidate source that says the same thing, if one does


TERM_NAMES = ("watch", "engagement", "purchase", "freshness", "exploration")


class Scored(NamedTuple):
    """A candidate's score and what each term added to it (`values`, in TERM_NAMES order); a
    named tuple for the same reason as Features."""

    features: Features
    score: float
    values: tuple[float, ...]

    @property
    def terms(self) -> tuple[Term, ...]:
        """The terms that add up to the score, each with what it means in plain words (built
        when asked: a request explains the few items it serves, not every candidate)."""
        features = self.features
        watch, engagement, purchase, fresh, exploration = self.values
        return (
            Term("watch", watch, *_watch_text(features)),
            Term(
                "engagement",
                engagement,
                "people engage with it a lot" if features.trend > 0.3 else "people engage with it",
                "trending",
            ),
            Term("purchase", purchase, "it has a product you may want to buy", "shopping"),
            Term("freshness", fresh, "it is new", "recent"),
            Term(
                "exploration",
                exploration,
                "new videos get a small audience to show what they are worth",
                "fresh",
            ),
        )

    @property
    def exploring(self) -> bool:
        """Whether it is here on the exploration budget alone: only the fresh-video source
        proposed it, and the exploration term lifted it."""
        if self.features.sources - {"fresh"}:
            return False
        return self.values[TERM_NAMES.index("exploration")] > 0


@dataclass(frozen=True, eq=False)
class Columns:
    """The numeric features of many candidates, one array per feature (the score of every
    candidate of a request is computed at once, with numpy, from these)."""

    similarity: np.ndarray
    creator_affinity: np.ndarray
    topic_affinity: np.ndarray
    product_intent: np.ndarray
    followed: np.ndarray
    region_match: np.ndarray
    views: np.ndarray
    engagements: np.ndarray
    trend: np.ndarray
    shoppable: np.ndarray
    price_minor: np.ndarray  # 0 when unknown
    hours: np.ndarray  # age at `now`, in hours (negative for a clock that runs behind)

    @classmethod
    def of(cls, candidates: Sequence[Features], now: datetime) -> Columns:
        """The columns of these candidates' features at `now`."""
        rows = [
            (
                item.similarity,
                item.creator_affinity,
                item.topic_affinity,
                item.product_intent,
                item.followed,
                item.region_match,
                item.views,
                item.engagements,
                item.trend,
                item.shoppable,
                item.price_minor or 0,
                (now - item.created_at).total_seconds() / 3600,
            )
            for item in candidates
        ]
        table = np.array(rows, dtype=np.float64).reshape(len(rows), 12)
        return cls(*table.T)


def engagement_rate(views: np.ndarray, engagements: np.ndarray) -> np.ndarray:
    """Engagements per view, pulled towards the typical rate while there are few views."""
    prior = TYPICAL_ENGAGEMENT_RATE * ENGAGEMENT_PRIOR_VIEWS
    return (engagements + prior) / (np.maximum(views, 0) + ENGAGEMENT_PRIOR_VIEWS)


def predicted_watch(columns: Columns) -> np.ndarray:
    """How likely the viewer watches it through (-1..1): similarity, taste for its topics,
    creator and products, follows, quality (a skipped creator or topic pulls it down)."""
    quality = np.minimum(1.0, engagement_rate(columns.views, columns.engagements) / 0.2)
    value = (
        0.35 * columns.similarity
        + 0.3 * columns.topic_affinity
        + 0.2 * columns.creator_affinity
        + 0.2 * columns.product_intent
        + 0.1 * quality
        + np.where(columns.followed > 0, 0.1, 0.0)
        + np.where(columns.region_match > 0, 0.05, 0.0)
    )
    return np.clip(value, -1.0, 1.0)


def predicted_engagement(columns: Columns) -> np.ndarray:
    """How likely the viewer likes, saves or shares it (0..1): its rate and the viewer's taste."""
    rate = np.minimum(1.0, engagement_rate(columns.views, columns.engagements) / 0.2)
    return np.minimum(1.0, 0.5 * rate + 0.3 * columns.topic_affinity + 0.2 * columns.trend)


def expected_purchase_value(columns: Columns) -> np.ndarray:
    """Expected value of a purchase from it (0..1): a chip, the viewer's intent, the price."""
    size = np.minimum(1.0, np.log10(1 + columns.price_minor / 100) / 3)  # $1 ~ 0.1, $1,000 ~ 1
    value = (0.15 + 0.85 * columns.product_intent) * (0.3 + 0.7 * size)
    return np.where(columns.shoppable > 0, value, 0.0)


def freshness_of(columns: Columns) -> np.ndarray:
    """1.0 for a brand-new video, halving every HALF_LIFE_HOURS (see `domain.freshness`)."""
    return np.power(0.5, np.maximum(columns.hours, 0.0) / HALF_LIFE_HOURS)


def exploration(columns: Columns) -> np.ndarray:
    """The exploration budget's lift (0..1): full for a new video inside its guaranteed
    audience, then in proportion to how well that audience engaged; nothing after FRESH_HOURS."""
    hours, views = columns.hours, columns.views
    rate = columns.engagements / np.maximum(1, views)
    earned = np.minimum(1.0, rate / TYPICAL_ENGAGEMENT_RATE) * (1 - hours / FRESH_HOURS)
    lift = np.where(views < FRESH_AUDIENCE, 1.0, earned)
    return np.where(hours > FRESH_HOURS, 0.0, lift)


def exploration_bonus(features: Features, now: datetime) -> float:
    """The exploration lift of one candidate (see `exploration`)."""
    return float(exploration(Columns.of([features], now))[0])


def score_all(
    candidates: Sequence[Features], *, now: datetime, weights: RankingWeights = DEFAULT_WEIGHTS
) -> list[Scored]:
    """Every candidate's score: the weighted sum of its terms, computed for all candidates at
    once; each Scored keeps what each term added (what "Why am I seeing this?" quotes)."""
    if not candidates:
        return []
    columns = Columns.of(candidates, now)
    values = np.stack(
        [
            weights.watch * predicted_watch(columns),
            weights.engagement * predicted_engagement(columns),
            weights.purchase * expected_purchase_value(columns),
            weights.freshness * freshness_of(columns),
            weights.exploration * exploration(columns),
        ],
        axis=1,
    )
    # Added up left to right, as sum() over the terms would.
    totals = values[:, 0] + values[:, 1] + values[:, 2] + values[:, 3] + values[:, 4]
    return [
        Scored(item, total, tuple(row))  # by position: once per candidate
        for item, total, row in zip(candidates, totals.tolist(), values.tolist(), strict=True)
    ]


def score(
    features: Features, *, now: datetime, weights: RankingWeights = DEFAULT_WEIGHTS
) -> Scored:
    """One candidate's score (see `score_all`)."""
    return score_all([features], now=now, weights=weights)[0]


def _watch_text(features: Features) -> tuple[str, str]:
    """What the predicted watch rests on most, in plain words, and the source saying the same."""
    parts = [
        (features.similarity, "it is like videos you watched to the end", "similar"),
        (features.topic_affinity, "it is about topics you have been enjoying", "topics"),
        (features.creator_affinity, "you enjoy this creator's videos", ""),
    ]
    value, text, about = max(parts, key=lambda part: part[0])
    if value <= 0.05:
        if features.followed:
            return "you follow its creator", "following"
        return "people watch it through", ""
    return text, about


@dataclass(frozen=True)
class Explanation:
    """Why an item is in the feed: where it came from, and the main terms of its score."""

    summary: str
    sources: tuple[str, ...]
    reasons: tuple[str, ...]
    terms: tuple[Term, ...]
    score: float


def explain(scored: Scored, *, top: int = 2) -> Explanation:
    """The explanation of a score, built from its own terms and the sources that proposed it."""
    sources = tuple(source for source in SOURCES if source in scored.features.sources)
    main = sorted((term for term in scored.terms if term.value > 0), key=lambda t: -t.value)
    reasons = tuple(term.text for term in main[:top])
    said = sources[:2]
    # The sentence names the sources, then the main terms that do not repeat one of them
    # ("it is trending right now" already says "people engage with it").
    new = [term.text for term in main if term.about not in said][:top]
    summary = "You are seeing this because " + _join([SOURCE_TEXT[s] for s in said] + new) + "."
    return Explanation(
        summary=summary, sources=sources, reasons=reasons, terms=scored.terms, score=scored.score
    )


def _join(parts: list[str]) -> str:
    unique = list(dict.fromkeys(parts))
    if len(unique) <= 1:
        return unique[0] if unique else "it is on ClipCart"
    return ", ".join(unique[:-1]) + " and " + unique[-1]
