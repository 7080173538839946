"""Async engine, declarative base and the unit of work that commits once."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, DateTime, MetaData, TypeDecorator, Uuid, event, exc, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from clipcart.core import clock, events
from clipcart.core.config import get_settings
from clipcart.core.ids import new_id

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else clock.as_utc(value).astimezone(UTC)


class Base(DeclarativeBase):
    """Every table's base: constraint names that migrations can find again."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class IdMixin:
    """An opaque UUIDv7 primary key."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class TimestampMixin:
    """When the row was created."""

    created_at: Mapped[datetime] = mapped_column(default=clock.now)


# One engine per event loop: pooled async connections belong to the loop that opened them, and
# job threads (core.jobs.run_async) each run a loop of their own beside the web app's.
_engines: dict[
    asyncio.AbstractEventLoop | None, tuple[AsyncEngine, async_sessionmaker[AsyncSession]]
] = {}
_engines_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _begin_before_savepoint(connection: Any, _name: str | None) -> None:
    """SQLite: open the transaction before a savepoint that would otherwise open it.

    Python's sqlite3 driver begins a transaction only before its first INSERT/UPDATE/DELETE, so
    a SAVEPOINT that comes first starts a transaction of its own, and releasing it commits: what
    the savepoint wrote would stay even if the unit of work then failed.
    """
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


def _replace_closed_connection(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Pool checkout: a connection the server has closed (a restart, an idle timeout, a killed
    backend) is swapped for a new one before anyone uses it.

    asyncpg marks a connection closed as soon as the event loop sees the socket close, so this
    costs no round trip; SQLAlchemy's pool_pre_ping costs three (BEGIN, a ping, ROLLBACK) on
    every checkout, which was half the round trips of a short transaction.
    """
    driver_connection = record.driver_connection
    if driver_connection is None or driver_connection.is_closed():
        raise exc.DisconnectionError("the database server closed this pooled connection")


def fixed_limit(count: int) -> BindParameter[int]:
    """A LIMIT (or OFFSET) written into the SQL instead of sent as a parameter.

    PostgreSQL keeps one plan for a prepared statement only when that plan does not look
    dearer than one made for the values at hand; it takes an unknown LIMIT to keep a tenth of
    the rows, so a small LIMIT sent as a parameter had every call planned anew. Written in, the
    statement (one per distinct count) is planned once per connection."""
    return literal(count, literal_execute=True)


def insert_for(dialect: str) -> Any:
    """The INSERT construct of this database's dialect, the one that can say ON CONFLICT (DO
    NOTHING, DO UPDATE): ClipCart runs on PostgreSQL and SQLite only."""
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"ClipCart does not support the {dialect} database")


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT into `table` (a model or a table) that understands ON CONFLICT on this
    session's database."""
    return insert_for(session.get_bind().dialect.name)(table)


async def fetch_value_in_one_transaction(session: AsyncSession, sql: str, *arguments: Any) -> Any:
    """The first value of one raw PostgreSQL statement, sent straight to asyncpg: inside the
    session's transaction when it has begun one, else as the unit of work's whole transaction.

    A request whose only database work is one statement (a batch of events) then costs one
    round trip instead of three (BEGIN, the statement, COMMIT), and no ORM work. It runs on a
    connection of the session's own pool, and the session's commit that follows has nothing
    to do. Only for a statement that is atomic on its own and is the request's last database
    work: alone, it is committed when it returns, whatever the request does next.
    """
    if session.in_transaction():
        return await _fetch_value(await session.connection(), sql, arguments)
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise RuntimeError("the session is not bound to an async engine")
    async with engine.connect() as alone:
        # asyncpg outside a transaction block runs the statement in a transaction of its own.
        try:
            return await _fetch_value(alone, sql, arguments)
        except BaseException:
            # A failure (or a cancellation) SQLAlchemy did not see leaves the driver connection
            # in a state it cannot reset: it is closed rather than given to the next request.
            await alone.invalidate()
            raise


async def _fetch_value(connection: AsyncConnection, sql: str, arguments: tuple[Any, ...]) -> Any:
    driver_connection = (await connection.get_raw_connection()).driver_connection
    if driver_connection is None:
        raise RuntimeError("the pooled connection has no driver connection")
    return await driver_connection.fetchval(sql, *arguments)


def create_engine(url: str | None = None) -> AsyncEngine:
    """A new engine for `url` (default: the configured database)."""
    url = url or get_settings().resolved_database_url
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "savepoint", _begin_before_savepoint)
    else:
        # A pool as big as the requests one process serves at once: connections opened beyond
        # it are closed again when returned, and each new one costs a few milliseconds.
        engine = create_async_engine(
            url,
            pool_size=get_settings().database_pool_size,
            max_overflow=10,
        )
        event.listen(engine.sync_engine, "checkout", _replace_closed_connection)
    return engine


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _engine_entry() -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    loop = _running_loop()
    with _engines_lock:
        entry = _engines.get(loop)
        if entry is None:
            engine = create_engine()
            entry = (engine, async_sessionmaker(engine, expire_on_commit=False))
            _engines[loop] = entry
    return entry


def get_engine() -> AsyncEngine:
    """This event loop's engine, created on first use."""
    return _engine_entry()[0]


def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    """The sessionmaker bound to this event loop's engine."""
    return _engine_entry()[1]


async def dispose_engine() -> None:
    """Close this event loop's pooled connections (shutdown, end of a job, switching databases)."""
    with _engines_lock:
        entry = _engines.pop(_running_loop(), None)
    if entry is not None:
        await entry[0].dispose()


async def commit_work(session: AsyncSession) -> None:
    """Commit what the session did; one that began no transaction and holds no unflushed
    changes did nothing, and its commit (SQLAlchemy's empty one, ~50 µs) is skipped."""
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        await session.commit()


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[AsyncSession]:
    """One transaction: commits once if the block succeeds, then runs after-commit hooks."""
    async with get_sessionmaker()() as session:
        try:
            yield session
            await commit_work(session)
        except BaseException:
            await session.rollback()
            events.discard(session)
            raise
    await events.run_after_commit(session)
