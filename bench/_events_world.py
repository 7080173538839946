"""The world bench/events.py posts into: a migrated database with one creator's ready videos,
and signed-in viewers with an API token each."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

VIDEOS = 200


@asynccontextmanager
async def _session_on(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session on a database of its own engine, disposed of afterwards."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from clipcart.core.db import create_engine
    from clipcart.models import load_all_models

    load_all_models()
    engine = create_engine(database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            yield session
    finally:
        await engine.dispose()


def seed_videos(database_url: str) -> list[uuid.UUID]:
    """Migrate a fresh database and give it one creator with VIDEOS ready videos."""
    from clipcart.core.migrations import upgrade_to_head

    upgrade_to_head(database_url)
    return asyncio.run(_insert_videos(database_url))


async def _insert_videos(database_url: str) -> list[uuid.UUID]:
    from clipcart.accounts.models import User
    from clipcart.media.models import Video

    async with _session_on(database_url) as session:
        creator = User(
            email="bench@example.com", handle="bench", display_name="Bench", password_hash="-"
        )
        session.add(creator)
        await session.flush()
        videos = [
            Video(owner_id=creator.id, status="ready", duration_seconds=15.0) for _ in range(VIDEOS)
        ]
        session.add_all(videos)
        await session.commit()
        return [video.id for video in videos]


def signed_in_viewers(database_url: str, count: int) -> list[str]:
    """`count` viewers with an API token each, whose secrets are returned: batches sent with
    one are a signed-in person's, checked like a page's session (a read in the request's
    transaction, which the batch's insert then joins) and indexed by person."""
    return asyncio.run(_create_viewers(database_url, count))


async def _create_viewers(database_url: str, count: int) -> list[str]:
    from clipcart.accounts import service
    from clipcart.accounts.models import User
    from clipcart.accounts.schemas import ApiTokenIn

    secrets = []
    async with _session_on(database_url) as session:
        for number in range(count):
            viewer = User(
                email=f"viewer{number}@example.com",
                handle=f"viewer{number}",
                display_name=f"Viewer {number}",
                password_hash="-",
            )
            session.add(viewer)
            await session.flush()
            _, secret = await service.create_api_token(
                viewer, ApiTokenIn(name="bench", scopes=["account:read"]), session=session
            )
            secrets.append(secret)
        await session.commit()
    return secrets
