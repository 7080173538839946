"""Social API shapes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from clipcart.accounts.models import User
from clipcart.core.pagination import Page
from clipcart.social.counters import UserCounts, VideoCounts
from clipcart.social.models import Collection, Report


class VideoCountsOut(BaseModel):
    """A video's counters."""

    likes: int
    comments: int
    saves: int
    shares: int
    views: int

    @classmethod
    def of(cls, counts: VideoCounts) -> VideoCountsOut:
        """From the service's counts."""
        return cls(
            likes=counts.likes,
            comments=counts.comments,
            saves=counts.saves,
            shares=counts.shares,
            views=counts.views,
        )


class VideoSocialOut(BaseModel):
    """A video's counters and what the caller did to it."""

    video_id: uuid.UUID
    liked: bool
    saved: bool
    counts: VideoCountsOut


class LikeOut(BaseModel):
    """Whether the caller likes the video now, and the new counts."""

    liked: bool
    counts: VideoCountsOut


class SaveIn(BaseModel):
    """Where to save a video (the default "Saved" collection when left out)."""

    collection_id: uuid.UUID | None = None


class SaveOut(BaseModel):
    """Whether the caller saved the video now, and the new counts."""

    saved: bool
    counts: VideoCountsOut


class ShareIn(BaseModel):
    """How the video is being shared."""

    channel: str = Field(default="link", max_length=20)


class ShareOut(BaseModel):
    """A share link carrying who shared it."""

    code: str
    url: str
    counts: VideoCountsOut


class PersonOut(BaseModel):
    """A person in a list."""

    id: uuid.UUID
    handle: str
    display_name: str
    url: str

    @classmethod
    def of(cls, user: User) -> PersonOut:
        """From a user."""
        return cls(
            id=user.id, handle=user.handle, display_name=user.display_name, url=f"/@{user.handle}"
        )


PersonPage = Page[PersonOut]


class FollowOut(BaseModel):
    """Whether the caller follows the target now, and the target's follower count."""

    following: bool
    followers: int


class UserCountsOut(BaseModel):
    """Follower and following counts."""

    followers: int
    following: int

    @classmethod
    def of(cls, counts: UserCounts) -> UserCountsOut:
        """From the service's counts."""
        return cls(followers=counts.followers, following=counts.following)


class BlockOut(BaseModel):
    """Whether the caller blocks that person now."""

    blocked: bool


class CommentIn(BaseModel):
    """A new comment, or a reply to `parent_id`."""

    body: str = Field(max_length=2000)
    parent_id: uuid.UUID | None = None


class CommentOut(BaseModel):
    """A comment as the caller sees it."""

    id: uuid.UUID
    video_id: uuid.UUID
    parent_id: uuid.UUID | None
    body: str
    author: PersonOut
    is_pinned: bool
    is_hidden: bool
    like_count: int
    reply_count: int
    liked: bool
    mentions: list[str]
    created_at: datetime


CommentPage = Page[CommentOut]


class CommentCreatedOut(BaseModel):
    """The new comment and the video's new counts."""

    comment: CommentOut
    counts: VideoCountsOut


class CommentLikeOut(BaseModel):
    """Whether the caller likes the comment now, and its like count."""

    liked: bool
    like_count: int


class CommentDeletedOut(BaseModel):
    """The video's counts after a comment (and its replies) went."""

    deleted: bool
    counts: VideoCountsOut


class ReportIn(BaseModel):
    """A report of a video, comment, user or product."""

    target_type: str = Field(max_length=20)
    target_id: uuid.UUID
    reason: str = Field(max_length=40)
    details: str = Field(default="", max_length=5000)


class ReportOut(BaseModel):
    """A report as its reporter sees it."""

    id: uuid.UUID
    target_type: str
    target_id: uuid.UUID
    reason: str
    details: str
    status: str
    created_at: datetime

    @classmethod
    def of(cls, report: Report) -> ReportOut:
        """From a report row."""
        return cls(
            id=report.id,
            target_type=report.target_type,
            target_id=report.target_id,
            reason=report.reason,
            details=report.details,
            status=report.status,
            created_at=report.created_at,
        )


class CollectionIn(BaseModel):
    """A collection's name."""

    name: str = Field(max_length=200)


class CollectionOut(BaseModel):
    """One of the caller's collections."""

    id: uuid.UUID
    name: str
    is_default: bool
    video_count: int

    @classmethod
    def of(cls, collection: Collection, video_count: int) -> CollectionOut:
        """From a collection and how many videos it holds."""
        return cls(
            id=collection.id,
            name=collection.name,
            is_default=collection.is_default,
            video_count=video_count,
        )


class CollectionVideosOut(BaseModel):
    """Ids of the videos saved in a collection, one page."""

    video_ids: list[uuid.UUID]
    next_cursor: str | None = None
