"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import os
import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from clipcart.core.db import get_sessionmaker

router = APIRouter(tags=["ops"])
_instance: tuple[int, str] | None = None


def instance_id() -> str:
    """A random name for this process, made on first use (again after a fork): it tells which
    of several processes answered without saying anything about the machine."""
    global _instance
    if _instance is None or _instance[0] != os.getpid():
        _instance = (os.getpid(), secrets.token_hex(6))
    return _instance[1]


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up, and which process answered."""
    return {"status": "ok", "instance": instance_id()}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """The process can serve: the database (and Redis when configured) answer."""
    checks: dict[str, str] = {}
    try:
        async with get_sessionmaker()() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"error: {type(error).__name__}"
    settings = request.app.state.settings
    if settings.redis_url:
        import redis.asyncio as aioredis

        client = aioredis.from_url(settings.redis_url)
        try:
            await client.ping()
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = f"error: {type(error).__name__}"
        finally:
            await client.aclose()
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
async def metrics() -> Response:
    """Prometheus metrics in the text exposition format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
