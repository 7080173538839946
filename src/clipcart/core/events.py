"""After-commit hooks: side effects (jobs, pub/sub, webhooks) run only once data is durable."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None] | None]
_KEY = "clipcart.after_commit"


def after_commit(session: AsyncSession, hook: Hook) -> None:
    """Run `hook` after `session` commits; dropped if it rolls back."""
    session.info.setdefault(_KEY, []).append(hook)


def discard(session: AsyncSession) -> None:
    """Forget the hooks of a transaction that rolled back."""
    session.info.pop(_KEY, None)


async def run_after_commit(session: AsyncSession) -> None:
    """Run and clear the hooks queued on `session`; one failing hook does not stop the rest."""
    hooks: list[Hook] = session.info.pop(_KEY, [])
    for hook in hooks:
        try:
            result: Any = hook()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("after-commit hook failed", extra={"hook": repr(hook)})
