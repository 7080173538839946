"""The baseline: a FastAPI app with one JSON route and no middleware of ClipCart's."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/ok")
async def ok() -> dict[str, bool]:
    """The smallest useful JSON answer."""
    return {"ok": True}
