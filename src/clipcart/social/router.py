"""Social API (thin): likes, saves, shares, comments, follows, blocks, reports, collections."""

from __future__ import annotations

import uuid

from fastapi import Request, Response

from clipcart.accounts import service as accounts
from clipcart.accounts.dependencies import CurrentUser, OptionalUser, client_ip
from clipcart.accounts.models import User
from clipcart.core.errors import NotFound
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service as shops
from clipcart.shops.models import Shop
from clipcart.social import domain, service
from clipcart.social.comments import CommentView
from clipcart.social.schemas import (
    BlockOut,
    CollectionIn,
    CollectionOut,
    CollectionVideosOut,
    CommentCreatedOut,
    CommentDeletedOut,
    CommentIn,
    CommentLikeOut,
    CommentOut,
    CommentPage,
    FollowOut,
    LikeOut,
    PersonOut,
    PersonPage,
    ReportIn,
    ReportOut,
    SaveIn,
    SaveOut,
    ShareIn,
    ShareOut,
    UserCountsOut,
    VideoCountsOut,
    VideoSocialOut,
)

router = make_router(prefix="/api/v1", tags=["social"])


async def _person(handle: str, db: DbSession) -> User:
    # A handle no account can have (control characters, absurd length) is simply not found.
    if len(handle) > 100 or domain.has_control_characters(handle):
        raise NotFound("There is no account with that handle.", code="user_not_found")
    return await accounts.get_user_by_handle(handle, session=db)


async def _shop(handle: str, db: DbSession) -> Shop:
    if len(handle) > 100 or domain.has_control_characters(handle):
        raise NotFound("There is no shop with that handle.", code="shop_not_found")
    return await shops.get_shop_by_handle(handle, session=db)


def comment_out(view: CommentView) -> CommentOut:
    """The API view of a comment."""
    comment = view.comment
    return CommentOut(
        id=comment.id,
        video_id=comment.video_id,
        parent_id=comment.parent_id,
        body=comment.body,
        author=PersonOut.of(view.author),
        is_pinned=comment.is_pinned,
        is_hidden=comment.is_hidden,
        like_count=comment.like_count,
        reply_count=comment.reply_count,
        liked=view.liked,
        mentions=view.mentions,
        created_at=comment.created_at,
    )


# --- videos: counts, likes, saves, shares --------------------------------------------------------


@router.get("/videos/{video_id}/social")
async def video_social(video_id: uuid.UUID, viewer: OptionalUser, db: DbSession) -> VideoSocialOut:
    """A video's counters and whether the caller liked and saved it."""
    video = await service.get_visible_video(viewer, video_id, session=db)
    counts = await service.video_counts([video.id], session=db)
    state = await service.viewer_video_state(viewer.id if viewer else None, [video.id], session=db)
    return VideoSocialOut(
        video_id=video.id,
        liked=state[video.id].liked,
        saved=state[video.id].saved,
        counts=VideoCountsOut.of(counts[video.id]),
    )


@router.post("/videos/{video_id}/like")
async def like_video(video_id: uuid.UUID, user: CurrentUser, db: DbSession) -> LikeOut:
    """Like a video (liking twice changes nothing)."""
    video = await service.get_visible_video(user, video_id, session=db)
    counts = await service.like_video(user, video, session=db)
    return LikeOut(liked=True, counts=VideoCountsOut.of(counts))


@router.delete("/videos/{video_id}/like")
async def unlike_video(video_id: uuid.UUID, user: CurrentUser, db: DbSession) -> LikeOut:
    """Take a like back."""
    video = await service.get_visible_video(user, video_id, session=db)
    counts = await service.unlike_video(user, video, session=db)
    return LikeOut(liked=False, counts=VideoCountsOut.of(counts))


@router.post("/videos/{video_id}/save")
async def save_video(
    video_id: uuid.UUID, user: CurrentUser, db: DbSession, data: SaveIn | None = None
) -> SaveOut:
    """Save a video into a collection (default "Saved"); saving again moves it."""
    video = await service.get_visible_video(user, video_id, session=db)
    collection_id = data.collection_id if data else None
    counts = await service.save_video(user, video, collection_id=collection_id, session=db)
    return SaveOut(saved=True, counts=VideoCountsOut.of(counts))


@router.delete("/videos/{video_id}/save")
async def unsave_video(video_id: uuid.UUID, user: CurrentUser, db: DbSession) -> SaveOut:
    """Remove a video from your saved videos."""
    video = await service.get_visible_video(user, video_id, session=db)
    counts = await service.unsave_video(user, video, session=db)
    return SaveOut(saved=False, counts=VideoCountsOut.of(counts))


@router.post("/videos/{video_id}/shares", status_code=201)
async def share_video(
    video_id: uuid.UUID,
    request: Request,
    viewer: OptionalUser,
    db: DbSession,
    data: ShareIn | None = None,
) -> ShareOut:
    """A share link for the video that credits the sharer when someone opens it."""
    video = await service.get_visible_video(viewer, video_id, session=db)
    who = f"user:{viewer.id}" if viewer else f"ip:{client_ip(request)}"
    await service.check_rate("share", who, limiter=request.app.state.rate_limiter)
    channel = data.channel if data else "link"
    share, counts = await service.create_share(viewer, video, channel=channel, session=db)
    return ShareOut(
        code=share.code,
        url=domain.share_url(video.id, share.code),
        counts=VideoCountsOut.of(counts),
    )


# --- comments ------------------------------------------------------------------------------------


@router.get("/videos/{video_id}/comments")
async def list_comments(
    video_id: uuid.UUID,
    viewer: OptionalUser,
    db: DbSession,
    cursor: str | None = None,
    limit: int | None = None,
) -> CommentPage:
    """Top-level comments: pinned first, then newest (cursor pagination)."""
    video = await service.get_visible_video(viewer, video_id, session=db)
    views, next_cursor = await service.list_comments(
        viewer, video, cursor=cursor, limit=limit, session=db
    )
    return CommentPage(items=[comment_out(v) for v in views], next_cursor=next_cursor)


@router.post("/videos/{video_id}/comments", status_code=201)
async def add_comment(
    video_id: uuid.UUID, data: CommentIn, request: Request, user: CurrentUser, db: DbSession
) -> CommentCreatedOut:
    """Comment on a video, or reply to a comment (replies stay one level deep)."""
    video = await service.get_visible_video(user, video_id, session=db)
    await service.check_rate("comment", str(user.id), limiter=request.app.state.rate_limiter)
    comment, counts = await service.add_comment(
        user, video, body=data.body, parent_id=data.parent_id, session=db
    )
    views = await service.comment_views(user, [comment], session=db)
    return CommentCreatedOut(comment=comment_out(views[0]), counts=VideoCountsOut.of(counts))


@router.get("/comments/{comment_id}/replies")
async def list_replies(
    comment_id: uuid.UUID,
    viewer: OptionalUser,
    db: DbSession,
    cursor: str | None = None,
    limit: int | None = None,
) -> CommentPage:
    """Replies to a comment, oldest first (cursor pagination)."""
    comment = await service.get_comment(viewer, comment_id, session=db)
    video = await service.get_visible_video(viewer, comment.video_id, session=db)
    views, next_cursor = await service.list_comments(
        viewer, video, cursor=cursor, limit=limit, parent_id=comment.id, session=db
    )
    return CommentPage(items=[comment_out(v) for v in views], next_cursor=next_cursor)


@router.post("/comments/{comment_id}/like")
async def like_comment(comment_id: uuid.UUID, user: CurrentUser, db: DbSession) -> CommentLikeOut:
    """Like a comment (liking twice changes nothing)."""
    count = await service.like_comment(user, comment_id, session=db)
    return CommentLikeOut(liked=True, like_count=count)


@router.delete("/comments/{comment_id}/like")
async def unlike_comment(comment_id: uuid.UUID, user: CurrentUser, db: DbSession) -> CommentLikeOut:
    """Take back a like on a comment."""
    count = await service.unlike_comment(user, comment_id, session=db)
    return CommentLikeOut(liked=False, like_count=count)


async def _comment_out(user: CurrentUser, comment_id: uuid.UUID, db: DbSession) -> CommentOut:
    comment = await service.get_comment(user, comment_id, session=db)
    return comment_out((await service.comment_views(user, [comment], session=db))[0])


@router.post("/comments/{comment_id}/pin")
async def pin_comment(comment_id: uuid.UUID, user: CurrentUser, db: DbSession) -> CommentOut:
    """Pin a comment on your video (the one pinned before is unpinned)."""
    await service.pin_comment(user, comment_id, session=db)
    return await _comment_out(user, comment_id, db)


@router.delete("/comments/{comment_id}/pin")
async def unpin_comment(comment_id: uuid.UUID, user: CurrentUser, db: DbSession) -> CommentOut:
    """Unpin a comment on your video."""
    await service.unpin_comment(user, comment_id, session=db)
    return await _comment_out(user, comment_id, db)


@router.post("/comments/{comment_id}/hide")
async def hide_comment(comment_id: uuid.UUID, user: CurrentUser, db: DbSession) -> CommentOut:
    """Hide a comment on your video from everyone but you and its author."""
    await service.hide_comment(user, comment_id, session=db)
    return await _comment_out(user, comment_id, db)


@router.delete("/comments/{comment_id}/hide")
async def unhide_comment(comment_id: uuid.UUID, user: CurrentUser, db: DbSession) -> CommentOut:
    """Show a hidden comment again."""
    await service.hide_comment(user, comment_id, hidden=False, session=db)
    return await _comment_out(user, comment_id, db)


@router.delete("/comments/{comment_id}")
async def delete_comment(
    comment_id: uuid.UUID, user: CurrentUser, db: DbSession
) -> CommentDeletedOut:
    """Delete a comment and its replies (its author or the video's creator)."""
    counts = await service.delete_comment(user, comment_id, session=db)
    return CommentDeletedOut(deleted=True, counts=VideoCountsOut.of(counts))


# --- follows and blocks --------------------------------------------------------------------------


@router.post("/users/{handle}/follow")
async def follow_user(handle: str, user: CurrentUser, db: DbSession) -> FollowOut:
    """Follow a person (following twice changes nothing)."""
    target = await _person(handle, db)
    outcome = await service.follow(user, user_id=target.id, session=db)
    return FollowOut(following=outcome.following, followers=outcome.followers)


@router.delete("/users/{handle}/follow")
async def unfollow_user(handle: str, user: CurrentUser, db: DbSession) -> FollowOut:
    """Stop following a person."""
    target = await _person(handle, db)
    outcome = await service.unfollow(user, user_id=target.id, session=db)
    return FollowOut(following=outcome.following, followers=outcome.followers)


@router.post("/shops/{handle}/follow")
async def follow_shop(handle: str, user: CurrentUser, db: DbSession) -> FollowOut:
    """Follow a shop."""
    shop = await _shop(handle, db)
    outcome = await service.follow(user, shop_id=shop.id, session=db)
    return FollowOut(following=outcome.following, followers=outcome.followers)


@router.delete("/shops/{handle}/follow")
async def unfollow_shop(handle: str, user: CurrentUser, db: DbSession) -> FollowOut:
    """Stop following a shop."""
    shop = await _shop(handle, db)
    outcome = await service.unfollow(user, shop_id=shop.id, session=db)
    return FollowOut(following=outcome.following, followers=outcome.followers)


@router.get("/users/{handle}/counts")
async def user_counts(handle: str, db: DbSession) -> UserCountsOut:
    """How many follow this person, and how many people and shops they follow."""
    target = await _person(handle, db)
    return UserCountsOut.of((await service.user_counts([target.id], session=db))[target.id])


@router.get("/users/{handle}/followers")
async def list_followers(
    handle: str, db: DbSession, cursor: str | None = None, limit: int | None = None
) -> PersonPage:
    """People following this person, most recent first (cursor pagination)."""
    target = await _person(handle, db)
    people, next_cursor = await service.list_followers(
        target, cursor=cursor, limit=limit, session=db
    )
    return PersonPage(items=[PersonOut.of(p) for p in people], next_cursor=next_cursor)


@router.get("/users/{handle}/following")
async def list_following(
    handle: str, db: DbSession, cursor: str | None = None, limit: int | None = None
) -> PersonPage:
    """People this person follows, most recent first (cursor pagination)."""
    target = await _person(handle, db)
    people, next_cursor = await service.list_following(
        target, cursor=cursor, limit=limit, session=db
    )
    return PersonPage(items=[PersonOut.of(p) for p in people], next_cursor=next_cursor)


@router.post("/users/{handle}/block")
async def block_user(handle: str, user: CurrentUser, db: DbSession) -> BlockOut:
    """Block a person: follows end both ways and neither sees the other any more."""
    target = await _person(handle, db)
    await service.block(user, target, session=db)
    return BlockOut(blocked=True)


@router.delete("/users/{handle}/block")
async def unblock_user(handle: str, user: CurrentUser, db: DbSession) -> BlockOut:
    """Lift a block."""
    target = await _person(handle, db)
    await service.unblock(user, target, session=db)
    return BlockOut(blocked=False)


@router.get("/me/blocks")
async def list_blocks(user: CurrentUser, db: DbSession) -> list[PersonOut]:
    """The people you blocked, most recent first."""
    return [PersonOut.of(p) for p in await service.list_blocked(user, session=db)]


# --- reports -------------------------------------------------------------------------------------


@router.post("/reports", status_code=201)
async def create_report(
    data: ReportIn, request: Request, user: CurrentUser, db: DbSession
) -> ReportOut:
    """Report a video, comment, user or product with one of the listed reasons."""
    await service.check_rate("report", str(user.id), limiter=request.app.state.rate_limiter)
    created = await service.report(
        user,
        target_type=data.target_type,
        target_id=data.target_id,
        reason=data.reason,
        details=data.details,
        session=db,
    )
    return ReportOut.of(created)


@router.get("/reports/reasons")
async def report_reasons() -> dict[str, str]:
    """The reasons a report may give, with their labels."""
    return dict(domain.REPORT_REASON_LABELS)


# --- collections ---------------------------------------------------------------------------------


@router.get("/me/collections")
async def list_collections(user: CurrentUser, db: DbSession) -> list[CollectionOut]:
    """Your collections, the default "Saved" one first."""
    rows = await service.list_collections(user, session=db)
    return [CollectionOut.of(collection, count) for collection, count in rows]


@router.post("/me/collections", status_code=201)
async def create_collection(data: CollectionIn, user: CurrentUser, db: DbSession) -> CollectionOut:
    """A new collection."""
    collection = await service.create_collection(user, name=data.name, session=db)
    return CollectionOut.of(collection, 0)


@router.patch("/me/collections/{collection_id}")
async def rename_collection(
    collection_id: uuid.UUID, data: CollectionIn, user: CurrentUser, db: DbSession
) -> CollectionOut:
    """Rename a collection."""
    await service.rename_collection(user, collection_id, name=data.name, session=db)
    rows = await service.list_collections(user, session=db)
    return next(CollectionOut.of(c, n) for c, n in rows if c.id == collection_id)


@router.delete("/me/collections/{collection_id}", status_code=204)
async def delete_collection(collection_id: uuid.UUID, user: CurrentUser, db: DbSession) -> Response:
    """Delete a collection; its videos move to "Saved"."""
    await service.delete_collection(user, collection_id, session=db)
    return Response(status_code=204)


@router.get("/me/collections/{collection_id}/videos")
async def collection_videos(
    collection_id: uuid.UUID,
    user: CurrentUser,
    db: DbSession,
    cursor: str | None = None,
    limit: int | None = None,
) -> CollectionVideosOut:
    """Ids of the videos saved in a collection, most recently saved first."""
    video_ids, next_cursor = await service.list_saved_videos(
        user, collection_id, cursor=cursor, limit=limit, session=db
    )
    return CollectionVideosOut(video_ids=video_ids, next_cursor=next_cursor)
