"""Video API shapes: what comes in (caption, visibility, cover, tags) and what goes out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Visibility = Literal["public", "followers", "private"]


class VideoUpdateIn(BaseModel):
    """Changes to a video; leave a field out to keep it."""

    caption: str | None = Field(default=None, max_length=2200)
    visibility: Visibility | None = None
    cover_time: float | None = Field(default=None, ge=0, description="Seconds into the video")


class TagIn(BaseModel):
    """A product to show in a video, optionally only between two times (seconds)."""

    product_id: uuid.UUID
    start_seconds: float | None = Field(default=None, ge=0)
    end_seconds: float | None = Field(default=None, gt=0)


class PriceOut(BaseModel):
    """An amount: minor units, its currency, and how a person reads it."""

    amount: int
    currency: str
    formatted: str


class TagOut(BaseModel):
    """A product tagged in a video."""

    id: uuid.UUID
    product_id: uuid.UUID
    title: str
    price: PriceOut | None
    start_seconds: float | None
    end_seconds: float | None
    grounds: str
    collaboration_id: uuid.UUID | None
    tagged_by_id: uuid.UUID | None
    url: str


class CaptionPartOut(BaseModel):
    """A run of a caption: text, a #hashtag or an @mention, with where it links."""

    kind: Literal["text", "hashtag", "mention"]
    text: str
    value: str = ""
    href: str | None = None


class VideoUrls(BaseModel):
    """Where the video's files and page are (null until the video is ready)."""

    page: str
    stream: str | None
    poster: str | None
    preview: str | None


class SourceOut(BaseModel):
    """What the upload was, as probed."""

    width: int | None
    height: int | None
    codec: str | None
    has_audio: bool
    bytes: int


class VideoOut(BaseModel):
    """A video with its status, files, caption and tags."""

    id: uuid.UUID
    status: Literal["processing", "ready", "failed"]
    failure_reason: str | None
    owner_id: uuid.UUID
    shop_id: uuid.UUID | None
    caption: str
    caption_parts: list[CaptionPartOut]
    hashtags: list[str]
    mentions: list[str]
    visibility: Visibility
    cover_time: float | None
    duration_seconds: float | None
    width: int | None
    height: int | None
    has_audio: bool
    source: SourceOut
    urls: VideoUrls
    tags: list[TagOut]
    created_at: datetime
    ready_at: datetime | None


class VideoPage(BaseModel):
    """One page of videos."""

    items: list[VideoOut]
    next_cursor: str | None = None
