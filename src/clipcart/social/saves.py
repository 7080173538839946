"""Saves and collections: a saved video sits in one of its saver's collections."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.core.db import dialect_insert
from clipcart.core.errors import Conflict, NotFound, ValidationFailed
from clipcart.core.ids import new_id
from clipcart.core.pagination import paginate
from clipcart.media.models import Video
from clipcart.social import domain
from clipcart.social.counters import (
    VideoCounts,
    add_to_video,
    changed_rows,
    insert_once,
    video_counts,
)
from clipcart.social.models import Collection, Save


async def default_collection(user: User, *, session: AsyncSession) -> Collection:
    """The user's "Saved" collection, made on first use."""
    await session.execute(
        dialect_insert(session, Collection)
        .values(id=new_id(), user_id=user.id, name=domain.DEFAULT_COLLECTION, is_default=True)
        .on_conflict_do_nothing()
    )
    collection = await session.scalar(
        select(Collection).where(
            Collection.user_id == user.id, Collection.name == domain.DEFAULT_COLLECTION
        )
    )
    assert collection is not None
    return collection


async def _own_collection(
    user: User, collection_id: uuid.UUID, *, session: AsyncSession
) -> Collection:
    collection = await session.get(Collection, collection_id)
    if collection is None or collection.user_id != user.id:
        raise NotFound("There is no such collection.", code="collection_not_found")
    return collection


async def save_video(
    user: User,
    video: Video,
    *,
    collection_id: uuid.UUID | None = None,
    session: AsyncSession,
) -> VideoCounts:
    """Save a video into a collection (default "Saved"); saving again moves it."""
    if collection_id is None:
        collection = await default_collection(user, session=session)
    else:
        collection = await _own_collection(user, collection_id, session=session)
    values = {"user_id": user.id, "video_id": video.id, "collection_id": collection.id}
    if await insert_once(session, Save, values):
        return await add_to_video(session, video.id, saves=1)
    await session.execute(
        update(Save)
        .where(Save.user_id == user.id, Save.video_id == video.id)
        .values(collection_id=collection.id)
        .execution_options(synchronize_session=False)
    )
    return (await video_counts([video.id], session=session))[video.id]


async def unsave_video(user: User, video: Video, *, session: AsyncSession) -> VideoCounts:
    """Remove a saved video (idempotent); the new counts."""
    statement = delete(Save).where(Save.user_id == user.id, Save.video_id == video.id)
    if await changed_rows(session, statement):
        return await add_to_video(session, video.id, saves=-1)
    return (await video_counts([video.id], session=session))[video.id]


def _check_collection_name(name: str) -> str:
    problems = domain.collection_name_problems(name)
    if problems:
        raise ValidationFailed.field("name", problems[0])
    return name.strip()


async def _flush_or_name_taken(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise Conflict(
            "You already have a collection with that name.", code="collection_name_taken"
        ) from error


async def create_collection(user: User, *, name: str, session: AsyncSession) -> Collection:
    """A new, empty collection."""
    await default_collection(user, session=session)
    collection = Collection(user_id=user.id, name=_check_collection_name(name))
    session.add(collection)
    await _flush_or_name_taken(session)
    return collection


async def list_collections(user: User, *, session: AsyncSession) -> list[tuple[Collection, int]]:
    """The user's collections (default first) with how many videos each holds."""
    await default_collection(user, session=session)
    statement = (
        select(Collection, func.count(Save.video_id))
        .outerjoin(Save, Save.collection_id == Collection.id)
        .where(Collection.user_id == user.id)
        .group_by(Collection.id)
        .order_by(Collection.is_default.desc(), Collection.created_at, Collection.id)
    )
    return [(collection, count) for collection, count in await session.execute(statement)]


async def rename_collection(
    user: User, collection_id: uuid.UUID, *, name: str, session: AsyncSession
) -> Collection:
    """Rename one of the user's collections (not the default one)."""
    collection = await _own_collection(user, collection_id, session=session)
    if collection.is_default:
        raise ValidationFailed.field("name", "The default collection keeps its name.")
    collection.name = _check_collection_name(name)
    await _flush_or_name_taken(session)
    return collection


async def delete_collection(user: User, collection_id: uuid.UUID, *, session: AsyncSession) -> None:
    """Delete a collection; its videos stay saved, in the default collection."""
    collection = await _own_collection(user, collection_id, session=session)
    if collection.is_default:
        raise ValidationFailed.field("collection", "The default collection cannot be deleted.")
    fallback = await default_collection(user, session=session)
    await session.execute(
        update(Save)
        .where(Save.collection_id == collection.id)
        .values(collection_id=fallback.id)
        .execution_options(synchronize_session=False)
    )
    await session.delete(collection)
    await session.flush()


async def list_saved_videos(
    user: User,
    collection_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int | None,
    session: AsyncSession,
) -> tuple[list[uuid.UUID], str | None]:
    """Ids of the videos saved in one of the user's collections, most recently saved first."""
    await _own_collection(user, collection_id, session=session)
    saves, next_cursor = await paginate(
        session,
        select(Save).where(Save.user_id == user.id, Save.collection_id == collection_id),
        order_by=[Save.created_at, Save.video_id],
        cursor=cursor,
        limit=limit,
    )
    return [save.video_id for save in saves], next_cursor
