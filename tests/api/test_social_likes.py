"""Likes, saves, shares and the counters they change, through the API.

The helpers at the top are shared by the other test_social_* modules."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from clipcart.core.clock import now
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.media.models import Video
from clipcart.social import service
from clipcart.social.models import Save, Share, VideoCounter, VideoLike
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup


@dataclass
class Person:
    """A signed-up person and their logged-in browser."""

    client: httpx.AsyncClient
    id: uuid.UUID
    handle: str


PersonMaker = Callable[[str], Awaitable[Person]]


@pytest.fixture
async def person(app: Any) -> AsyncIterator[PersonMaker]:
    """Make a person with their own logged-in client."""
    async with AsyncExitStack() as stack:

        async def make(handle: str) -> Person:
            client = await stack.enter_async_context(new_client(app))
            data = await signup(client, handle)
            return Person(client=client, id=uuid.UUID(data["user"]["id"]), handle=handle)

        yield make


async def make_video(
    owner: Person, *, visibility: str = "public", status: str = "ready", caption: str = ""
) -> uuid.UUID:
    """A video row as the media pipeline leaves it once transcoded."""
    async with unit_of_work() as session:
        video = Video(
            owner_id=owner.id,
            status=status,
            visibility=visibility,
            caption=caption,
            duration_seconds=2.0,
            ready_at=now() if status == "ready" else None,
        )
        session.add(video)
        await session.flush()
        return video.id


async def count_rows(model: Any, **where: Any) -> int:
    """How many rows of `model` match."""
    async with get_sessionmaker()() as session:
        statement = select(func.count()).select_from(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return int(await session.scalar(statement) or 0)


async def stored_counts(video_id: uuid.UUID) -> service.VideoCounts:
    """The counters as stored."""
    async with get_sessionmaker()() as session:
        return (await service.video_counts([video_id], session=session))[video_id]


# --- likes -------------------------------------------------------------------------------------


async def test_liking_twice_is_idempotent_and_counts_once(person: PersonMaker) -> None:
    creator, fan = await person("creator"), await person("fan")
    video_id = await make_video(creator)

    first = await fan.client.post(f"{API}/videos/{video_id}/like")
    assert first.status_code == 200, first.text
    assert first.json() == {
        "liked": True,
        "counts": {"likes": 1, "comments": 0, "saves": 0, "shares": 0, "views": 0},
    }
    second = await fan.client.post(f"{API}/videos/{video_id}/like")
    assert second.status_code == 200
    assert second.json()["counts"]["likes"] == 1
    assert await count_rows(VideoLike, video_id=video_id) == 1
    assert (await stored_counts(video_id)).likes == 1

    state = await fan.client.get(f"{API}/videos/{video_id}/social")
    assert state.json()["liked"] is True and state.json()["counts"]["likes"] == 1

    await creator.client.post(f"{API}/videos/{video_id}/like")
    assert (await stored_counts(video_id)).likes == 2

    gone = await fan.client.delete(f"{API}/videos/{video_id}/like")
    assert gone.json() == {
        "liked": False,
        "counts": {"likes": 1, "comments": 0, "saves": 0, "shares": 0, "views": 0},
    }
    again = await fan.client.delete(f"{API}/videos/{video_id}/like")
    assert again.json()["counts"]["likes"] == 1
    assert await count_rows(VideoLike, video_id=video_id) == 1


async def test_liking_needs_a_login_and_a_visible_video(
    person: PersonMaker, client: httpx.AsyncClient
) -> None:
    creator, fan = await person("creator"), await person("fan")
    public = await make_video(creator)
    private = await make_video(creator, visibility="private")
    processing = await make_video(creator, status="processing")

    anonymous = await client.post(f"{API}/videos/{public}/like")
    assert anonymous.status_code in (401, 403)
    for hidden in (private, processing, uuid.uuid4()):
        assert_problem(await fan.client.post(f"{API}/videos/{hidden}/like"), 404, "video_not_found")
    assert await count_rows(VideoLike) == 0
    # the owner sees their own private video and may like it
    own = await creator.client.post(f"{API}/videos/{private}/like")
    assert own.status_code == 200 and own.json()["counts"]["likes"] == 1


async def test_anonymous_viewers_read_counts_without_state(
    person: PersonMaker, client: httpx.AsyncClient
) -> None:
    creator = await person("creator")
    video_id = await make_video(creator)
    await creator.client.post(f"{API}/videos/{video_id}/like")
    response = await client.get(f"{API}/videos/{video_id}/social")
    assert response.status_code == 200
    assert response.json()["liked"] is False
    assert response.json()["counts"]["likes"] == 1


# --- saves and collections ---------------------------------------------------------------------


async def test_saving_goes_to_the_default_collection_once(person: PersonMaker) -> None:
    creator, fan = await person("creator"), await person("fan")
    video_id = await make_video(creator)
    for _ in range(2):
        saved = await fan.client.post(f"{API}/videos/{video_id}/save")
        assert saved.status_code == 200, saved.text
        assert saved.json()["saved"] is True
        assert saved.json()["counts"]["saves"] == 1
    collections = (await fan.client.get(f"{API}/me/collections")).json()
    assert [(c["name"], c["is_default"], c["video_count"]) for c in collections] == [
        ("Saved", True, 1)
    ]
    listed = await fan.client.get(f"{API}/me/collections/{collections[0]['id']}/videos")
    assert listed.json()["video_ids"] == [str(video_id)]
    state = (await fan.client.get(f"{API}/videos/{video_id}/social")).json()
    assert state["saved"] is True

    unsaved = await fan.client.delete(f"{API}/videos/{video_id}/save")
    assert unsaved.json()["saved"] is False and unsaved.json()["counts"]["saves"] == 0
    again = await fan.client.delete(f"{API}/videos/{video_id}/save")
    assert again.json()["counts"]["saves"] == 0
    assert await count_rows(Save) == 0


async def test_collections_crud_and_moving_saves(person: PersonMaker) -> None:
    creator, fan = await person("creator"), await person("fan")
    first, second = await make_video(creator), await make_video(creator)

    created = await fan.client.post(f"{API}/me/collections", json={"name": "  Gift ideas "})
    assert created.status_code == 201, created.text
    gifts = created.json()
    assert gifts["name"] == "Gift ideas" and gifts["is_default"] is False
    duplicate = await fan.client.post(f"{API}/me/collections", json={"name": "Gift ideas"})
    assert_problem(duplicate, 409, "collection_name_taken")
    assert_problem(
        await fan.client.post(f"{API}/me/collections", json={"name": "   "}),
        422,
        "validation_failed",
    )

    into = await fan.client.post(f"{API}/videos/{first}/save", json={"collection_id": gifts["id"]})
    assert into.status_code == 200 and into.json()["counts"]["saves"] == 1
    await fan.client.post(f"{API}/videos/{second}/save")
    names = {
        c["name"]: c["video_count"] for c in (await fan.client.get(f"{API}/me/collections")).json()
    }
    assert names == {"Saved": 1, "Gift ideas": 1}

    renamed = await fan.client.patch(
        f"{API}/me/collections/{gifts['id']}", json={"name": "Birthday"}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Birthday"
    default_id = next(
        c["id"] for c in (await fan.client.get(f"{API}/me/collections")).json() if c["is_default"]
    )
    assert_problem(
        await fan.client.patch(f"{API}/me/collections/{default_id}", json={"name": "X"}),
        422,
        "validation_failed",
    )
    assert_problem(
        await fan.client.delete(f"{API}/me/collections/{default_id}"), 422, "validation_failed"
    )

    # someone else's collection does not exist for you
    assert_problem(
        await creator.client.post(
            f"{API}/videos/{first}/save", json={"collection_id": gifts["id"]}
        ),
        404,
        "collection_not_found",
    )
    assert_problem(
        await creator.client.delete(f"{API}/me/collections/{gifts['id']}"),
        404,
        "collection_not_found",
    )

    deleted = await fan.client.delete(f"{API}/me/collections/{gifts['id']}")
    assert deleted.status_code == 204
    remaining = (await fan.client.get(f"{API}/me/collections")).json()
    assert [(c["name"], c["video_count"]) for c in remaining] == [("Saved", 2)]
    assert (await stored_counts(first)).saves == 1


# --- shares ------------------------------------------------------------------------------------


async def test_share_codes_credit_the_sharer(
    person: PersonMaker, client: httpx.AsyncClient
) -> None:
    creator, fan = await person("creator"), await person("fan")
    video_id = await make_video(creator)
    shared = await fan.client.post(f"{API}/videos/{video_id}/shares", json={"channel": "whatsapp"})
    assert shared.status_code == 201, shared.text
    body = shared.json()
    assert body["url"] == f"/v/{video_id}?s={body['code']}"
    assert 6 <= len(body["code"]) <= 16
    assert body["counts"]["shares"] == 1

    anonymous = await client.post(f"{API}/videos/{video_id}/shares")
    assert anonymous.status_code == 201
    assert anonymous.json()["code"] != body["code"]
    assert anonymous.json()["counts"]["shares"] == 2

    async with get_sessionmaker()() as session:
        assert await service.resolve_share(body["code"], session=session) == fan.id
        assert await service.resolve_share(anonymous.json()["code"], session=session) is None
        assert await service.resolve_share("nope", session=session) is None

    bad = await fan.client.post(f"{API}/videos/{video_id}/shares", json={"channel": "pigeon"})
    assert_problem(bad, 422, "bad_channel")
    assert await count_rows(Share) == 2
    private = await make_video(creator, visibility="private")
    assert_problem(await fan.client.post(f"{API}/videos/{private}/shares"), 404, "video_not_found")


# --- the feed's read side ---------------------------------------------------------------------


async def test_read_side_answers_for_many_videos_at_once(person: PersonMaker) -> None:
    creator, fan = await person("creator"), await person("fan")
    liked, saved, untouched = [await make_video(creator) for _ in range(3)]
    await fan.client.post(f"{API}/videos/{liked}/like")
    await fan.client.post(f"{API}/videos/{saved}/save")
    async with unit_of_work() as session:
        await service.record_views({liked: 3, saved: 1, uuid.uuid4(): 5}, session=session)
    async with get_sessionmaker()() as session:
        counts = await service.video_counts([liked, saved, untouched], session=session)
        state = await service.viewer_video_state(fan.id, [liked, saved, untouched], session=session)
        nobody = await service.viewer_video_state(None, [liked], session=session)
    assert counts[liked] == service.VideoCounts(likes=1, views=3)
    assert counts[saved] == service.VideoCounts(saves=1, views=1)
    assert counts[untouched] == service.VideoCounts()
    assert state[liked] == service.ViewerVideoState(liked=True, saved=False)
    assert state[saved] == service.ViewerVideoState(liked=False, saved=True)
    assert state[untouched] == service.ViewerVideoState()
    assert nobody[liked] == service.ViewerVideoState()
    assert await count_rows(VideoCounter) == 2  # the unknown video got no counter row
