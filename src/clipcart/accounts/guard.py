"""Placeholder: replaced by the accounts work (authentication and CSRF for every request)."""

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession


async def guard_request(request: Request, session: AsyncSession) -> None:
    request.state.principal = None
