"""Routers whose every request runs in one unit of work, guarded before the handler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import events
from clipcart.core.db import commit_work, get_sessionmaker

RequestGuard = Callable[[Request, AsyncSession], Awaitable[None]]


class UnitOfWorkRoute(APIRoute):
    """Opens a session per request, runs the app's request guard (authentication, CSRF),
    commits once when the handler answers below 400, then runs after-commit hooks."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run_in_unit_of_work(request: Request) -> Response:
            async with get_sessionmaker()() as session:
                request.state.db = session
                try:
                    guard: RequestGuard | None = getattr(request.app.state, "request_guard", None)
                    if guard is not None:
                        await guard(request, session)
                    response = await handler(request)
                    if response.status_code < 400:
                        await commit_work(session)
                    else:
                        await session.rollback()
                        events.discard(session)
                except BaseException:
                    await session.rollback()
                    events.discard(session)
                    raise
            await events.run_after_commit(session)
            return response

        return run_in_unit_of_work


async def get_session(request: Request) -> AsyncSession:
    """The request's session (opened by UnitOfWorkRoute). A coroutine on purpose: FastAPI runs
    a plain-function dependency in a worker thread, a thread hop on every request."""
    session: AsyncSession = request.state.db
    return session


DbSession = Annotated[AsyncSession, Depends(get_session)]


def make_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes run in a unit of work."""
    return APIRouter(route_class=UnitOfWorkRoute, **kwargs)
