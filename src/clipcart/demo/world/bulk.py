"""Writing many rows fast: driver-level executemany on SQLite, COPY on PostgreSQL.

No ORM objects per row: values go through each column's own bind processor (so they are
stored exactly as the app's models store them) and then straight to the driver."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, Index, Table, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clipcart.core.db import create_engine, get_engine

BATCH_ROWS = 20_000
# Random-order index inserts (the event log has five indexes) crawl once the indexes outgrow
# SQLite's default 2 MB page cache; 512 MB keeps a 5M-event load in memory.
SQLITE_CACHE_KIB = 512 * 1024
# A world is written before anything serves the database, and a half-built one has no marker
# (written last, see building.py) so it is never taken for a world: no fsync (only an OS crash
# mid-build could lose pages; the journal stays, so a failed transaction still rolls back), no
# per-row foreign-key lookups (every reference is to a row the generator wrote or was given),
# index sorts in memory and on a helper thread.
SQLITE_BULK_PRAGMAS = (
    "PRAGMA synchronous = OFF",
    "PRAGMA foreign_keys = OFF",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA threads = 2",
    f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}",
)
_VERSION_7 = 0x7 << 76
_VARIANT = 0x2 << 62


def world_id(rng: random.Random, at: datetime) -> uuid.UUID:
    """A UUIDv7 for a row made `at`, drawn from `rng` so a seed makes the same world."""
    milliseconds = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    rand_a = rng.getrandbits(12)
    rand_b = rng.getrandbits(62)
    return uuid.UUID(int=(milliseconds << 80) | _VERSION_7 | (rand_a << 64) | _VARIANT | rand_b)


class BulkWriter:
    """Appends rows to tables through one connection, in batches."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self.is_postgres = self.dialect.name == "postgresql"
        self.written: dict[str, int] = {}

    def encoder(self, table: Table, name: str) -> Callable[[Any], Any]:
        """How a value of `table.name` is handed to the driver (identity when as it is)."""
        column_type = table.c[name].type
        if self.is_postgres and not isinstance(column_type, JSON):
            return _same  # asyncpg's COPY takes Python values; only JSON becomes text
        process = column_type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return process if process is not None else _same

    def uuid_from_int(self, number: int) -> Any:
        """A UUID given as its 128 bits, in the form the driver takes (hex text on SQLite)."""
        return uuid.UUID(int=number) if self.is_postgres else f"{number:032x}"

    async def write(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        encoded: bool = False,
    ) -> int:
        """Insert `rows` (values in `columns` order, already through `encoder` when `encoded`);
        the number written."""
        processors = [self.encoder(table, name) for name in columns]
        plain = encoded or all(process is _same for process in processors)
        batch: list[tuple[Any, ...]] = []
        count = 0
        for row in rows:
            if plain:
                batch.append(tuple(row))
            else:
                batch.append(tuple(p(v) for p, v in zip(processors, row, strict=True)))
            if len(batch) >= BATCH_ROWS:
                await self._send(table, columns, batch)
                count += len(batch)
                batch = []
        if batch:
            await self._send(table, columns, batch)
            count += len(batch)
        self.written[table.name] = self.written.get(table.name, 0) + count
        return count

    async def _send(
        self, table: Table, columns: Sequence[str], batch: list[tuple[Any, ...]]
    ) -> None:
        if self.is_postgres:
            raw = await self.connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.copy_records_to_table(table.name, records=batch, columns=list(columns))
            return
        marks = ", ".join("?" * len(columns))
        # Table and column names come from the models' metadata, never from outside.
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        await self.connection.exec_driver_sql(sql, batch)


@asynccontextmanager
async def bulk_engine() -> AsyncIterator[AsyncEngine]:
    """The engine a world is written through: the configured one on PostgreSQL (COPY is
    already bulk); on SQLite a separate engine whose connections are set up for a bulk load
    (SQLITE_BULK_PRAGMAS), disposed afterwards so that the app's own connections keep their
    settings."""
    engine = get_engine()
    if engine.dialect.name != "sqlite":
        yield engine
        return
    bulk = create_engine(engine.url.render_as_string(hide_password=False))
    event.listen(bulk.sync_engine, "connect", _bulk_pragmas)
    try:
        yield bulk
    finally:
        await bulk.dispose()


def _bulk_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_BULK_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


@asynccontextmanager
async def without_indexes(
    engine: AsyncEngine, tables: Sequence[Table], *, enabled: bool = True
) -> AsyncIterator[None]:
    """Drop the secondary indexes of `tables` for a bulk load and build them again after
    (sorting once beats millions of random index inserts), even when the load fails."""
    if not enabled:
        yield
        return
    indexes = [index for table in tables for index in table.indexes]
    async with engine.begin() as connection:
        for index in indexes:
            await connection.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
    try:
        yield
    finally:
        async with engine.begin() as connection:
            for index in indexes:
                await connection.run_sync(_create_index, index)


def _create_index(connection: Connection, index: Index) -> None:
    index.create(connection, checkfirst=True)


def _same(value: Any) -> Any:
    return value
