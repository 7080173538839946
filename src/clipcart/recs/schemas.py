"""The event wire format of `POST /api/v1/events` (what the feed pages send).

Body: JSON `{"events": [event, ...]}`, 1..500 events, sent as `application/json` (fetch) or
`text/plain` (navigator.sendBeacon: no custom headers needed, the cookies are enough).
Answer 200: `{"accepted": n, "duplicates": n, "rejected": [{"index": i, "id": "..."|null,
"reason": "..."}]}`; bad events are rejected one by one, the good ones in the batch are kept.
More than 500 events -> 413; a body that is not `{"events": [...]}` -> 422; other types -> 415.

Every event:
- `id`: a UUID the client makes (crypto.randomUUID()); sending the same id again is harmless
  (counted in `duplicates`, stored once), so a batch may be retried.
- `type`: one of the names below.
- `occurred_at`: ISO 8601 with a zone (`new Date().toISOString()`); at most 1 h ahead of the
  server clock and at most 7 days old, else the event is rejected.
- optional everywhere: `session_id` (client session, <= 64 chars of [A-Za-z0-9_-.:]),
  `surface` (for_you | following | video_page | hashtag | profile | shop), `position` (0-based
  index of the video in the list, <= 100000), `video_id`, `product_id`, `variant_id` (UUIDs).

Per type (required fields marked *, the rest optional):
- impression:  video_id*                    (the video came on screen; counts as a view)
- watch:       video_id*, watch_ms*, duration_ms, completed (bool, default false)
- replay:      video_id*
- chip_tap:    product_id*, video_id, target_id
- sheet_open:  product_id*, video_id, target_id
- add_to_cart: product_id*, variant_id*, video_id, target_id
  (target_id on these three: the creator whose showcase the product was tapped in, with
  surface `profile`; it credits the creator's showcase for a purchase that follows)
- share:       video_id*, channel* (<= 32 chars of [a-z0-9_], e.g. copy_link, native)
- follow:      target_id* (the user followed), video_id
- like:        video_id*
- comment:     video_id*
- visit:       share_code* (the code of the share link the page was opened through), video_id

The server adds user_id (session cookie or bearer token), visitor_id (the `clipcart_visitor`
cookie, set for visitors when missing) and received_at. Unknown fields are ignored.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

MAX_BATCH = 500

Surface = Literal["for_you", "following", "video_page", "hashtag", "profile", "shop"]
SessionId = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Millis = Annotated[int, Field(ge=0, le=86_400_000)]


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: uuid.UUID
    occurred_at: AwareDatetime
    session_id: SessionId | None = None
    surface: Surface | None = None
    position: Annotated[int, Field(ge=0, le=100_000)] | None = None
    video_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    variant_id: uuid.UUID | None = None


class ImpressionIn(_EventBase):
    type: Literal["impression"]
    video_id: uuid.UUID


class WatchIn(_EventBase):
    type: Literal["watch"]
    video_id: uuid.UUID
    watch_ms: Millis
    duration_ms: Millis | None = None
    completed: bool = False


class ReplayIn(_EventBase):
    type: Literal["replay"]
    video_id: uuid.UUID


class ChipTapIn(_EventBase):
    type: Literal["chip_tap"]
    product_id: uuid.UUID
    target_id: uuid.UUID | None = None


class SheetOpenIn(_EventBase):
    type: Literal["sheet_open"]
    product_id: uuid.UUID
    target_id: uuid.UUID | None = None


class AddToCartIn(_EventBase):
    type: Literal["add_to_cart"]
    product_id: uuid.UUID
    variant_id: uuid.UUID
    target_id: uuid.UUID | None = None


class ShareIn(_EventBase):
    type: Literal["share"]
    video_id: uuid.UUID
    channel: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")]


class FollowIn(_EventBase):
    type: Literal["follow"]
    target_id: uuid.UUID


class LikeIn(_EventBase):
    type: Literal["like"]
    video_id: uuid.UUID


class CommentIn(_EventBase):
    type: Literal["comment"]
    video_id: uuid.UUID


class VisitIn(_EventBase):
    type: Literal["visit"]
    share_code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


EventIn = Annotated[
    ImpressionIn
    | WatchIn
    | ReplayIn
    | ChipTapIn
    | SheetOpenIn
    | AddToCartIn
    | ShareIn
    | FollowIn
    | LikeIn
    | CommentIn
    | VisitIn,
    Field(discriminator="type"),
]


class EventBatchIn(BaseModel):
    """The whole body: the fast path validates it in one go."""

    model_config = ConfigDict(extra="ignore")

    events: Annotated[list[EventIn], Field(min_length=1, max_length=MAX_BATCH)]


class RejectedEvent(BaseModel):
    """One event the server would not store, and why."""

    index: int
    id: str | None
    reason: str


class EventBatchOut(BaseModel):
    """What happened to a batch."""

    accepted: int
    duplicates: int
    rejected: list[RejectedEvent]


batch_adapter: TypeAdapter[EventBatchIn] = TypeAdapter(EventBatchIn)
event_adapter: TypeAdapter[EventIn] = TypeAdapter(EventIn)

__all__ = ["MAX_BATCH", "EventBatchIn", "EventBatchOut", "EventIn", "RejectedEvent"]
