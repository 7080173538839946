"""The events floor on SQLite, the embedded default: POST /floor/events parses the JSON body (no
validation) and inserts its events into ClipCart's own recs_events table (its real indexes) in
one transaction on one aiosqlite connection, so writers never wait on SQLite's lock; nothing
else. bench/floors.py serves it to show what one server process can store on SQLite at best.

The database is the file FLOOR_SQLITE_PATH, migrated by bench/floors.py.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiosqlite
from fastapi import FastAPI, Request, Response

from bench._floor_app import COLUMNS, column_values, stored_answer

_NAMES = ", ".join(name for name, _ in COLUMNS)
_ROW = f"({', '.join('?' * (len(COLUMNS) + 1))})"


@functools.lru_cache(maxsize=8)
def insert_events(count: int) -> str:
    """One INSERT of `count` rows (from the bench's own table metadata and a count: no outside
    text reaches this SQL); one statement costs less than executemany's row by row."""
    return (
        f"INSERT INTO recs_events ({_NAMES}, received_at) "
        f"VALUES {', '.join([_ROW] * count)} ON CONFLICT (id) DO NOTHING"
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One connection, set up as ClipCart's (WAL, synchronous=NORMAL)."""
    connection = await aiosqlite.connect(os.environ["FLOOR_SQLITE_PATH"])
    await connection.execute("PRAGMA journal_mode=WAL")
    await connection.execute("PRAGMA synchronous=NORMAL")
    app.state.sqlite = connection
    app.state.writing = asyncio.Lock()
    try:
        yield
    finally:
        await connection.close()


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)


@app.post("/floor/events")
async def events(request: Request) -> Response:
    """The batch's events stored as they came, one transaction."""
    batch = json.loads(await request.body())["events"]
    now = datetime.now(UTC).isoformat()
    rows = [(*event, now) for event in zip(*column_values(batch), strict=True)]
    connection: aiosqlite.Connection = request.app.state.sqlite
    async with request.app.state.writing:  # one transaction at a time on the one connection
        cursor = await connection.execute(
            insert_events(len(rows)), [value for row in rows for value in row]
        )
        await connection.commit()
    return stored_answer(cursor.rowcount, len(batch))


@app.get("/healthz")
async def healthz() -> dict[str, bool]:
    """Up."""
    return {"ok": True}
