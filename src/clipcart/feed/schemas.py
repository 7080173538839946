"""Feed API shapes: one hydrated item per video, everything a screen of the feed shows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from clipcart.media.schemas import CaptionPartOut, PriceOut


class FeedVideoOut(BaseModel):
    """The playable video: files, geometry and caption."""

    id: uuid.UUID
    page_url: str
    stream_url: str
    poster_url: str
    preview_url: str
    width: int
    height: int
    duration_seconds: float | None
    has_audio: bool
    caption: str
    caption_parts: list[CaptionPartOut]
    hashtags: list[str]
    created_at: datetime


class FeedCreatorOut(BaseModel):
    """Who posted the video, and whether the viewer follows them."""

    id: uuid.UUID
    handle: str
    display_name: str
    avatar_url: str | None
    profile_url: str
    viewer_follows: bool


class FeedShopOut(BaseModel):
    """The shop a video was posted for."""

    id: uuid.UUID
    handle: str
    name: str
    url: str
    viewer_follows: bool


class FeedCountsOut(BaseModel):
    """The social counters of a video."""

    likes: int = 0
    comments: int = 0
    saves: int = 0
    shares: int = 0
    views: int = 0


class FeedViewerStateOut(BaseModel):
    """What the viewer has done to the video."""

    liked: bool = False
    saved: bool = False


class FeedProductOut(BaseModel):
    """A tagged product shown as a chip (only active products with stock are shown)."""

    id: uuid.UUID
    title: str
    price: PriceOut | None
    image_url: str | None
    in_stock: bool
    url: str
    start_seconds: float | None
    end_seconds: float | None


class FeedScoreTermOut(BaseModel):
    """One part of an item's score: what it added, in plain words."""

    name: str
    value: float
    text: str


class FeedWhyOut(BaseModel):
    """Why an item is in the feed, taken from the computation that put it there."""

    summary: str
    sources: list[str]
    reasons: list[str]
    terms: list[FeedScoreTermOut]
    score: float


class FeedItemOut(BaseModel):
    """One screen of the feed."""

    video: FeedVideoOut
    creator: FeedCreatorOut
    shop: FeedShopOut | None
    counts: FeedCountsOut
    viewer: FeedViewerStateOut
    products: list[FeedProductOut]
    why: FeedWhyOut | None = None


class FeedPageOut(BaseModel):
    """One page of the feed, the cursor for the next, and suggestions for an empty Following."""

    tab: str
    items: list[FeedItemOut]
    next_cursor: str | None = None
    suggestions: list[FeedCreatorOut] = []


ShoppingMix = Literal["more_entertainment", "balanced", "more_shopping"]


class FeedPreferencesIn(BaseModel):
    """Change your feed settings; leave a field out to keep it."""

    shopping_mix: ShoppingMix | None = None
    interests: list[Annotated[str, Field(max_length=60)]] | None = Field(
        default=None, max_length=20
    )


class FeedPreferencesOut(BaseModel):
    """Your feed settings: how much shopping you want, and the topics you chose."""

    shopping_mix: ShoppingMix
    interests: list[str]
    shoppable_every: int = Field(
        description="At most one shoppable video in this many consecutive videos."
    )
