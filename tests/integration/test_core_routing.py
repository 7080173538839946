"""UnitOfWorkRoute: one transaction per request, committed only when the answer is a success,
with after-commit side effects only then."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import MetaData, String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from clipcart.core import events
from clipcart.core.db import get_engine, get_sessionmaker
from clipcart.core.errors import Conflict, Forbidden
from clipcart.core.middleware import RequestContextMiddleware
from clipcart.core.problems import install_error_handlers
from clipcart.core.routing import DbSession, make_router


class ScratchBase(DeclarativeBase):
    """Tables that exist only while this module runs (real tables belong in migrations)."""

    metadata = MetaData()


class Note(ScratchBase):
    __tablename__ = "core_test_routing_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(80))


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=80)


@pytest.fixture(scope="module")
async def scratch_tables() -> AsyncIterator[None]:
    async with get_engine().begin() as connection:
        await connection.run_sync(ScratchBase.metadata.drop_all)
        await connection.run_sync(ScratchBase.metadata.create_all)
    yield
    async with get_engine().begin() as connection:
        await connection.run_sync(ScratchBase.metadata.drop_all)


@pytest.fixture(autouse=True)
async def empty_notes(scratch_tables: None) -> AsyncIterator[None]:
    yield
    async with get_sessionmaker()() as session:
        await session.execute(delete(Note))
        await session.commit()


async def stored_notes() -> list[str]:
    async with get_sessionmaker()() as session:
        return list((await session.scalars(select(Note.text).order_by(Note.id))).all())


def build_app(side_effects: list[Any]) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, html_renderer=None)
    app.add_middleware(RequestContextMiddleware)
    router = make_router(prefix="/api/v1")

    async def write(session: AsyncSession, text: str) -> None:
        session.add(Note(text=text))
        await session.flush()  # really in the database, inside the open transaction

        async def announce() -> None:
            # runs after commit: a separate connection already sees the note
            side_effects.append((text, await stored_notes()))

        events.after_commit(session, announce)

    @router.post("/notes", status_code=201)
    async def create_note(note_in: NoteIn, session: DbSession) -> dict[str, str]:
        await write(session, note_in.text)
        return {"text": note_in.text}

    @router.post("/notes/conflict")
    async def create_then_conflict(note_in: NoteIn, session: DbSession) -> None:
        await write(session, note_in.text)
        raise Conflict("That note already exists.", code="note_exists")

    @router.post("/notes/answer-422")
    async def create_then_answer_422(note_in: NoteIn, session: DbSession) -> JSONResponse:
        await write(session, note_in.text)
        return JSONResponse({"detail": "refused"}, status_code=422)

    @router.post("/notes/crash")
    async def create_then_crash(note_in: NoteIn, session: DbSession) -> None:
        await write(session, note_in.text)
        raise RuntimeError("disk on fire")

    @router.get("/notes")
    async def list_notes(session: DbSession) -> list[str]:
        return list((await session.scalars(select(Note.text).order_by(Note.id))).all())

    app.include_router(router)
    return app


@pytest.fixture
def side_effects() -> list[Any]:
    return []


@pytest.fixture
async def app(side_effects: list[Any]) -> FastAPI:
    return build_app(side_effects)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_success_commits_and_then_runs_side_effects(
    client: httpx.AsyncClient, side_effects: list[Any]
) -> None:
    response = await client.post("/api/v1/notes", json={"text": "hello"})
    assert response.status_code == 201
    assert await stored_notes() == ["hello"]
    assert side_effects == [("hello", ["hello"])]
    assert (await client.get("/api/v1/notes")).json() == ["hello"]


async def test_app_error_leaves_nothing_written_and_answers_a_problem(
    client: httpx.AsyncClient, side_effects: list[Any]
) -> None:
    response = await client.post("/api/v1/notes/conflict", json={"text": "half done"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "note_exists"
    assert body["detail"] == "That note already exists."
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert await stored_notes() == []
    assert side_effects == []


async def test_an_error_status_returned_without_raising_also_rolls_back(
    client: httpx.AsyncClient, side_effects: list[Any]
) -> None:
    response = await client.post("/api/v1/notes/answer-422", json={"text": "half done"})
    assert response.status_code == 422
    assert await stored_notes() == []
    assert side_effects == []


async def test_a_crash_leaves_nothing_written_and_answers_500(
    client: httpx.AsyncClient, side_effects: list[Any]
) -> None:
    response = await client.post("/api/v1/notes/crash", json={"text": "half done"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "disk on fire" not in response.text
    assert await stored_notes() == []
    assert side_effects == []


async def test_invalid_input_is_422_and_writes_nothing(
    client: httpx.AsyncClient, side_effects: list[Any]
) -> None:
    response = await client.post("/api/v1/notes", json={"text": ""})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "text"
    assert await stored_notes() == []
    assert side_effects == []


async def test_failures_do_not_leak_into_the_next_request(
    client: httpx.AsyncClient, side_effects: list[Any]
) -> None:
    assert (await client.post("/api/v1/notes/conflict", json={"text": "no"})).status_code == 409
    assert (await client.post("/api/v1/notes", json={"text": "yes"})).status_code == 201
    assert (await client.post("/api/v1/notes/crash", json={"text": "no"})).status_code == 500
    assert (await client.post("/api/v1/notes", json={"text": "again"})).status_code == 201
    assert await stored_notes() == ["yes", "again"]
    assert [text for text, _ in side_effects] == ["yes", "again"]


async def test_request_guard_runs_first_in_the_same_transaction(
    app: FastAPI, client: httpx.AsyncClient, side_effects: list[Any]
) -> None:
    async def guard(request: Request, session: AsyncSession) -> None:
        if request.headers.get("X-Let-Me-In") != "yes":
            raise Forbidden("Stay out.")
        session.add(Note(text=f"audit {request.method} {request.url.path}"))

    app.state.request_guard = guard

    response = await client.post("/api/v1/notes", json={"text": "blocked"})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert await stored_notes() == []

    allowed = {"X-Let-Me-In": "yes"}
    response = await client.post("/api/v1/notes", json={"text": "hi"}, headers=allowed)
    assert response.status_code == 201
    assert await stored_notes() == ["audit POST /api/v1/notes", "hi"]

    response = await client.post("/api/v1/notes/conflict", json={"text": "x"}, headers=allowed)
    assert response.status_code == 409
    assert await stored_notes() == ["audit POST /api/v1/notes", "hi"]  # guard's write undone too
    assert [text for text, _ in side_effects] == ["hi"]


async def test_each_request_has_its_own_session(client: httpx.AsyncClient) -> None:
    for text in ("a", "b", "c"):
        assert (await client.post("/api/v1/notes", json={"text": text})).status_code == 201
    assert (await client.get("/api/v1/notes")).json() == ["a", "b", "c"]
    async with get_sessionmaker()() as session:
        assert await session.scalar(select(func.count()).select_from(Note)) == 3
