"""The floors: the least work each of the speed targets' requests must do, written as lean as the
stack allows (FastAPI on Granian, asyncpg with no ORM, no validation, no middleware), so that
bench/floors.py can show what one server process on this machine can reach at best.

- GET /floor/read: one indexed read by a secret's hash, the least a signed-in request does (its
  caller's session), then a tiny JSON answer: For You's floor.
- POST /floor/refuse: the JSON body read, the caller read by the hash of their token and the
  stock read, in one transaction, then a 409 problem+json: the flash sale's sold-out floor.
- POST /floor/events: the JSON body parsed (no validation) and its events inserted into ClipCart's
  own recs_events table (its real indexes) in one statement, nothing else: issue 4's floor.

The database is FLOOR_DATABASE_URL (plain asyncpg URL), prepared by bench/floors.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response

COLUMNS = (
    ("id", "uuid"),
    ("type", "smallint"),
    ("occurred_at", "text"),  # ISO text: PostgreSQL parses it
    ("session_id", "varchar"),
    ("surface", "smallint"),
    ("position", "integer"),
    ("video_id", "uuid"),
    ("product_id", "uuid"),
    ("watch_ms", "integer"),
    ("duration_ms", "integer"),
    ("completed", "boolean"),
)
_ARRAYS = ", ".join(f"CAST(${n} AS {kind}[])" for n, (_, kind) in enumerate(COLUMNS, 1))
_NAMES = ", ".join(name for name, _ in COLUMNS)
# Constant inputs from the bench's own table metadata: no outside text reaches this SQL.
INSERT_EVENTS = (
    f"INSERT INTO recs_events ({_NAMES}, received_at) "
    f"SELECT {_NAMES.replace('occurred_at', 'CAST(occurred_at AS timestamptz)')}, now() "
    f"FROM unnest({_ARRAYS}) AS batch({_NAMES}) "
    "ON CONFLICT (id) DO NOTHING"
)
READ_CALLER = "SELECT user_id FROM floor_tokens WHERE token_hash = $1"
READ_STOCK = "SELECT available FROM floor_stock WHERE variant_id = $1"
# The bench's event type names, coded as recs.domain codes them (the values do not matter here).
CODES = {
    "type": {"impression": 1, "watch": 2, "replay": 3, "chip_tap": 4, "sheet_open": 5},
    "surface": {"for_you": 1},
}
_SOLD_OUT = json.dumps(
    {"type": "about:blank", "title": "Sold out", "status": 409, "code": "sold_out"}
).encode()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One pool, as large as the ClipCart app's."""
    app.state.pool = await asyncpg.create_pool(
        os.environ["FLOOR_DATABASE_URL"], min_size=10, max_size=10
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)


def _token_hash(request: Request) -> str:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    return hashlib.sha256(token.encode()).hexdigest()


@app.get("/floor/read")
async def read(request: Request) -> dict[str, str]:
    """One indexed read by the caller's secret, as a signed-in request starts."""
    user_id = await request.app.state.pool.fetchval(READ_CALLER, _token_hash(request))
    return {"user": str(user_id)}


@app.post("/floor/refuse")
async def refuse(request: Request) -> Response:
    """The caller and the stock read in one transaction, then sold out."""
    body = json.loads(await request.body())
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        await connection.fetchval(READ_CALLER, _token_hash(request))
        await connection.fetchval(READ_STOCK, body["items"][0]["variant_id"])
    return Response(_SOLD_OUT, status_code=409, media_type="application/problem+json")


@app.post("/floor/events")
async def events(request: Request) -> Response:
    """The batch's events stored as they came, one statement."""
    batch = json.loads(await request.body())["events"]
    async with request.app.state.pool.acquire() as connection:
        status = await connection.execute(INSERT_EVENTS, *column_values(batch))
    return stored_answer(int(status.rsplit(" ", 1)[1]), len(batch))


def column_values(batch: list[dict[str, Any]]) -> list[list[Any]]:
    """The events' values, one list per column of COLUMNS (names coded as ClipCart codes them)."""
    return [
        [CODES[name][event[name]] for event in batch]
        if name in CODES
        else [event.get(name) for event in batch]
        for name, _ in COLUMNS
    ]


def stored_answer(stored: int, sent: int) -> Response:
    """The events endpoint's answer for a batch of `sent` events of which `stored` were new."""
    answer = {"accepted": stored, "duplicates": sent - stored, "rejected": []}
    return Response(json.dumps(answer).encode(), media_type="application/json")


@app.get("/healthz")
async def healthz() -> dict[str, bool]:
    """Up."""
    return {"ok": True}
