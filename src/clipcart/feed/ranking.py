"""Pure scoring for For You: one function combines predicted watch, predicted engagement and
expected purchase value (plus freshness and the exploration budget) with tunable weights, and
returns the terms it added up, which are also what "Why am I seeing this?" says.

No framework imports: the engine (`feed.engine`) gathers the features, this module decides.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from clipcart.feed.domain import freshness

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


@dataclass(frozen=True)
class Features:
    """What the engine knows about one candidate for one viewer (all affinities in 0..1)."""

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


@dataclass(frozen=True)
class Scored:
    """A candidate's score and the terms that add up to it."""

    features: Features
    score: float
    terms: tuple[Term, ...] = field(default_factory=tuple)

    @property
    def exploring(self) -> bool:
        """Whether it is here on the exploration budget alone: only the fresh-video source
        proposed it, and the exploration term lifted it."""
        if self.features.sources - {"fresh"}:
            return False
        return any(term.name == "exploration" and term.value > 0 for term in self.terms)


def engagement_rate(views: int, engagements: int) -> float:
    """Engagements per view, pulled towards the typical rate while there are few views."""
    prior = TYPICAL_ENGAGEMENT_RATE * ENGAGEMENT_PRIOR_VIEWS
    return (engagements + prior) / (max(views, 0) + ENGAGEMENT_PRIOR_VIEWS)


def predicted_watch(features: Features) -> float:
    """How likely the viewer watches it through (-1..1): similarity, taste for its topics,
    creator and products, follows, quality (a skipped creator or topic pulls it down)."""
    quality = min(1.0, engagement_rate(features.views, features.engagements) / 0.2)
    value = (
        0.35 * features.similarity
        + 0.3 * features.topic_affinity
        + 0.2 * features.creator_affinity
        + 0.2 * features.product_intent
        + 0.1 * quality
        + (0.1 if features.followed else 0.0)
        + (0.05 if features.region_match else 0.0)
    )
    return max(-1.0, min(1.0, value))


def predicted_engagement(features: Features) -> float:
    """How likely the viewer likes, saves or shares it (0..1): its rate and the viewer's taste."""
    rate = min(1.0, engagement_rate(features.views, features.engagements) / 0.2)
    return min(1.0, 0.5 * rate + 0.3 * features.topic_affinity + 0.2 * features.trend)


def expected_purchase_value(features: Features) -> float:
    """Expected value of a purchase from it (0..1): a chip, the viewer's intent, the price."""
    if not features.shoppable:
        return 0.0
    price = features.price_minor or 0
    size = min(1.0, math.log10(1 + price / 100) / 3)  # $1 ~ 0.1, $1,000 ~ 1
    return (0.15 + 0.85 * features.product_intent) * (0.3 + 0.7 * size)


def exploration_bonus(features: Features, now: datetime) -> float:
    """The exploration budget's lift (0..1): full for a new video inside its guaranteed
    audience, then in proportion to how well that audience engaged; nothing after FRESH_HOURS."""
    hours = (now - features.created_at).total_seconds() / 3600
    if hours > FRESH_HOURS:
        return 0.0
    if features.views < FRESH_AUDIENCE:
        return 1.0
    rate = features.engagements / max(1, features.views)
    return min(1.0, rate / TYPICAL_ENGAGEMENT_RATE) * (1 - hours / FRESH_HOURS)


def score(
    features: Features, *, now: datetime, weights: RankingWeights = DEFAULT_WEIGHTS
) -> Scored:
    """The candidate's score: the weighted sum of its terms (which are returned with it)."""
    terms = (
        Term("watch", weights.watch * predicted_watch(features), *_watch_text(features)),
        Term(
            "engagement",
            weights.engagement * predicted_engagement(features),
            "people engage with it a lot" if features.trend > 0.3 else "people engage with it",
            "trending",
        ),
        Term(
            "purchase",
            weights.purchase * expected_purchase_value(features),
            "it has a product you may want to buy",
            "shopping",
        ),
        Term(
            "freshness",
            weights.freshness * freshness(features.created_at, now),
            "it is new",
            "recent",
        ),
        Term(
            "exploration",
            weights.exploration * exploration_bonus(features, now),
            "new videos get a small audience to show what they are worth",
            "fresh",
        ),
    )
    return Scored(features=features, score=sum(term.value for term in terms), terms=terms)


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
