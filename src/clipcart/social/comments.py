"""Comments: one level of replies, likes, one pinned comment, hiding, deleting, @mentions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.core.errors import Forbidden, NotFound, ValidationFailed
from clipcart.core.pagination import clamp_limit, paginate
from clipcart.media.models import Video
from clipcart.social import domain
from clipcart.social.counters import (
    VideoCounts,
    add_to_video,
    changed_rows,
    insert_once,
)
from clipcart.social.models import Block, Comment, CommentLike, CommentMention
from clipcart.social.visibility import get_visible_video, is_blocked_between


@dataclass(frozen=True)
class CommentView:
    """A comment as a viewer sees it."""

    comment: Comment
    author: User
    liked: bool
    mentions: list[str]


def _not_found() -> NotFound:
    return NotFound("There is no such comment.", code="comment_not_found")


async def get_comment(
    viewer: User | None, comment_id: uuid.UUID, *, session: AsyncSession
) -> Comment:
    """A comment the viewer may see (404 when hidden from them, blocked, or on a video they
    cannot see)."""
    comment = await session.get(Comment, comment_id)
    if comment is None:
        raise _not_found()
    video = await get_visible_video(viewer, comment.video_id, session=session)
    viewer_id = viewer.id if viewer else None
    if comment.is_hidden and viewer_id not in (video.owner_id, comment.author_id):
        raise _not_found()
    if (
        viewer_id is not None
        and viewer_id != comment.author_id
        and await is_blocked_between(viewer_id, comment.author_id, session=session)
    ):
        raise _not_found()
    return comment


async def _store_mentions(comment: Comment, *, session: AsyncSession) -> None:
    handles = domain.comment_mentions(comment.body)
    if not handles:
        return
    user_ids = await session.scalars(select(User.id).where(User.handle.in_(handles)))
    session.add_all(CommentMention(comment_id=comment.id, user_id=uid) for uid in user_ids)


async def add_comment(
    user: User,
    video: Video,
    *,
    body: str,
    parent_id: uuid.UUID | None = None,
    session: AsyncSession,
) -> tuple[Comment, VideoCounts]:
    """Comment on a video, or reply (a reply to a reply joins the top-level comment)."""
    problems = domain.comment_problems(body)
    if problems:
        raise ValidationFailed.field("body", problems[0])
    if parent_id is not None:
        parent = await get_comment(user, parent_id, session=session)
        if parent.video_id != video.id:
            raise _not_found()
        parent_id = parent.parent_id or parent.id
    comment = Comment(video_id=video.id, author_id=user.id, parent_id=parent_id, body=body.strip())
    session.add(comment)
    await session.flush()
    await _store_mentions(comment, session=session)
    if parent_id is not None:
        await session.execute(
            update(Comment)
            .where(Comment.id == parent_id)
            .values(reply_count=Comment.reply_count + 1)
            .execution_options(synchronize_session=False)
        )
    counts = await add_to_video(session, video.id, comments=1)
    await session.flush()
    return comment, counts


def _visible_comments(viewer: User | None, video: Video) -> Select[Comment]:
    statement = select(Comment).where(Comment.video_id == video.id)
    viewer_id = viewer.id if viewer else None
    if viewer_id is None:
        statement = statement.where(Comment.is_hidden.is_(False))
    elif viewer_id != video.owner_id:
        # Authors still see their own hidden comments, so hiding does not start a quarrel.
        statement = statement.where(
            or_(Comment.is_hidden.is_(False), Comment.author_id == viewer_id)
        )
    if viewer_id is not None:
        they_blocked = select(Block.blocker_id).where(Block.blocked_id == viewer_id)
        i_blocked = select(Block.blocked_id).where(Block.blocker_id == viewer_id)
        statement = statement.where(
            Comment.author_id.not_in(they_blocked), Comment.author_id.not_in(i_blocked)
        )
    return statement


async def list_comments(
    viewer: User | None,
    video: Video,
    *,
    cursor: str | None,
    limit: int | None,
    parent_id: uuid.UUID | None = None,
    session: AsyncSession,
) -> tuple[list[CommentView], str | None]:
    """Top-level comments (pinned first, then newest), or one comment's replies (oldest first);
    hidden comments and those of blocked people are left out."""
    statement = _visible_comments(viewer, video)
    if parent_id is None:
        top_level = statement.where(Comment.parent_id.is_(None))
        pinned: list[Comment] = []
        size = clamp_limit(limit)
        if cursor is None:  # the pinned comment heads the first page only
            pinned = list(await session.scalars(top_level.where(Comment.is_pinned.is_(True))))
            size = max(1, size - len(pinned))
        comments, next_cursor = await paginate(
            session,
            top_level.where(Comment.is_pinned.is_(False)),
            order_by=[Comment.created_at, Comment.id],
            cursor=cursor,
            limit=size,
        )
        comments = pinned + comments
    else:
        comments, next_cursor = await paginate(
            session,
            statement.where(Comment.parent_id == parent_id),
            order_by=[Comment.created_at, Comment.id],
            cursor=cursor,
            limit=limit,
            descending=False,
        )
    return await comment_views(viewer, comments, session=session), next_cursor


async def comment_views(
    viewer: User | None, comments: list[Comment], *, session: AsyncSession
) -> list[CommentView]:
    """How the viewer sees these comments (authors, likes, mentions), in three queries."""
    if not comments:
        return []
    ids = [comment.id for comment in comments]
    author_ids = {comment.author_id for comment in comments}
    authors = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(author_ids)))}
    liked: set[uuid.UUID] = set()
    if viewer is not None:
        liked = set(
            await session.scalars(
                select(CommentLike.comment_id).where(
                    CommentLike.user_id == viewer.id, CommentLike.comment_id.in_(ids)
                )
            )
        )
    mentioned: dict[uuid.UUID, list[str]] = {}
    rows = await session.execute(
        select(CommentMention.comment_id, User.handle)
        .join(User, User.id == CommentMention.user_id)
        .where(CommentMention.comment_id.in_(ids))
        .order_by(User.handle)
    )
    for comment_id, handle in rows:
        mentioned.setdefault(comment_id, []).append(handle)
    return [
        CommentView(
            comment=comment,
            author=authors[comment.author_id],
            liked=comment.id in liked,
            mentions=mentioned.get(comment.id, []),
        )
        for comment in comments
    ]


async def _set_comment_likes(comment: Comment, delta: int, *, session: AsyncSession) -> int:
    statement = (
        update(Comment)
        .where(Comment.id == comment.id)
        .values(like_count=Comment.like_count + delta)
        .returning(Comment.like_count)
        .execution_options(synchronize_session=False)
    )
    count = int((await session.execute(statement)).scalar_one())
    comment.like_count = count
    return count


async def like_comment(user: User, comment_id: uuid.UUID, *, session: AsyncSession) -> int:
    """Like a comment (idempotent); its new like count."""
    comment = await get_comment(user, comment_id, session=session)
    if await insert_once(session, CommentLike, {"user_id": user.id, "comment_id": comment.id}):
        return await _set_comment_likes(comment, 1, session=session)
    await session.refresh(comment, ["like_count"])
    return comment.like_count


async def unlike_comment(user: User, comment_id: uuid.UUID, *, session: AsyncSession) -> int:
    """Take back a like on a comment (idempotent); its new like count."""
    comment = await get_comment(user, comment_id, session=session)
    statement = delete(CommentLike).where(
        CommentLike.user_id == user.id, CommentLike.comment_id == comment.id
    )
    if await changed_rows(session, statement):
        return await _set_comment_likes(comment, -1, session=session)
    await session.refresh(comment, ["like_count"])
    return comment.like_count


async def _comment_for_video_owner(
    user: User, comment_id: uuid.UUID, *, session: AsyncSession
) -> tuple[Comment, Video]:
    comment = await get_comment(user, comment_id, session=session)
    video = await get_visible_video(user, comment.video_id, session=session)
    if video.owner_id != user.id:
        raise Forbidden("Only the video's creator can do that.", code="not_video_owner")
    return comment, video


async def pin_comment(user: User, comment_id: uuid.UUID, *, session: AsyncSession) -> Comment:
    """Pin a top-level comment on your video (unpinning any other)."""
    comment, video = await _comment_for_video_owner(user, comment_id, session=session)
    if comment.parent_id is not None:
        raise ValidationFailed.field("comment", "Only top-level comments can be pinned.")
    if comment.is_hidden:
        raise ValidationFailed.field("comment", "Unhide the comment before pinning it.")
    await session.execute(
        update(Comment)
        .where(Comment.video_id == video.id, Comment.is_pinned.is_(True))
        .values(is_pinned=False)
        .execution_options(synchronize_session="fetch")
    )
    comment.is_pinned = True
    await session.flush()
    return comment


async def unpin_comment(user: User, comment_id: uuid.UUID, *, session: AsyncSession) -> Comment:
    """Unpin a comment on your video."""
    comment, _video = await _comment_for_video_owner(user, comment_id, session=session)
    comment.is_pinned = False
    await session.flush()
    return comment


async def hide_comment(
    user: User, comment_id: uuid.UUID, *, hidden: bool = True, session: AsyncSession
) -> Comment:
    """Hide (or show again) a comment on your video; hidden ones are seen only by you and
    their author."""
    comment, _video = await _comment_for_video_owner(user, comment_id, session=session)
    comment.is_hidden = hidden
    if hidden:
        comment.is_pinned = False
    await session.flush()
    return comment


async def delete_comment(
    user: User, comment_id: uuid.UUID, *, session: AsyncSession
) -> VideoCounts:
    """Delete a comment and its replies (its author or the video's creator); the new counts."""
    comment = await get_comment(user, comment_id, session=session)
    video = await get_visible_video(user, comment.video_id, session=session)
    if user.id not in (comment.author_id, video.owner_id):
        raise Forbidden(
            "Only the comment's author or the video's creator can delete it.",
            code="not_comment_author",
        )
    replies = await changed_rows(session, delete(Comment).where(Comment.parent_id == comment.id))
    removed = await changed_rows(session, delete(Comment).where(Comment.id == comment.id))
    session.expunge(comment)
    if removed and comment.parent_id is not None:
        await session.execute(
            update(Comment)
            .where(Comment.id == comment.parent_id)
            .values(reply_count=Comment.reply_count - 1)
            .execution_options(synchronize_session=False)
        )
    return await add_to_video(session, video.id, comments=-(replies + removed))
