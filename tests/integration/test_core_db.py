"""The database layer: UTC datetimes on every backend, and one unit of work whose side effects
run only after its commit."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import pytest
from sqlalchemy import MetaData, String, Uuid, delete, event, func, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from clipcart.core import clock, events
from clipcart.core.db import (
    IdMixin,
    TimestampMixin,
    UTCDateTime,
    fetch_value_in_one_transaction,
    fixed_limit,
    get_engine,
    get_sessionmaker,
    unit_of_work,
)
from tests.services import require_postgres


class ScratchBase(DeclarativeBase):
    """Tables that exist only while this module runs (real tables belong in migrations)."""

    metadata = MetaData()
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class Happening(ScratchBase):
    __tablename__ = "core_test_db_happenings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    label: Mapped[str] = mapped_column(String(40), default="")


class Stamped(IdMixin, TimestampMixin, ScratchBase):
    __tablename__ = "core_test_db_stamped"

    label: Mapped[str] = mapped_column(String(40))


@pytest.fixture(scope="module")
async def scratch_tables() -> AsyncIterator[None]:
    async with get_engine().begin() as connection:
        await connection.run_sync(ScratchBase.metadata.drop_all)
        await connection.run_sync(ScratchBase.metadata.create_all)
    yield
    async with get_engine().begin() as connection:
        await connection.run_sync(ScratchBase.metadata.drop_all)


@pytest.fixture(autouse=True)
async def empty_scratch_tables(scratch_tables: None) -> AsyncIterator[None]:
    yield
    async with get_sessionmaker()() as session:
        await session.execute(delete(Happening))
        await session.execute(delete(Stamped))
        await session.commit()


async def count_happenings() -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(func.count()).select_from(Happening)) or 0)


# --- UTCDateTime ---------------------------------------------------------------------------

MOMENTS = [
    datetime(2030, 1, 2, 3, 4, 5, 123_456, tzinfo=UTC),
    datetime(2030, 1, 2, 8, 34, 5, 123_457, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2029, 12, 31, 19, 0, 0, tzinfo=timezone(timedelta(hours=-8))),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
]


async def test_datetimes_come_back_as_the_same_instant_in_aware_utc() -> None:
    async with unit_of_work() as session:
        session.add_all(Happening(id=index, at=moment) for index, moment in enumerate(MOMENTS))
    async with get_sessionmaker()() as session:
        stored = (await session.scalars(select(Happening).order_by(Happening.id))).all()
    assert [row.at for row in stored] == MOMENTS  # same instants, microseconds kept
    for row in stored:
        assert row.at.tzinfo is UTC
        assert row.at.utcoffset() == timedelta(0)


async def test_database_orders_and_compares_by_instant_whatever_the_offset() -> None:
    async with unit_of_work() as session:
        session.add_all(Happening(id=index, at=moment) for index, moment in enumerate(MOMENTS))
    by_instant = sorted(range(len(MOMENTS)), key=lambda index: MOMENTS[index])
    threshold = datetime(2030, 1, 2, 12, 4, 5, 123_456, tzinfo=timezone(timedelta(hours=9)))
    async with get_sessionmaker()() as session:
        ordered = (await session.scalars(select(Happening.id).order_by(Happening.at))).all()
        later = (
            await session.scalars(
                select(Happening.id).where(Happening.at > threshold).order_by(Happening.id)
            )
        ).all()
    assert list(ordered) == by_instant
    # threshold is 03:04:05.123456 UTC: only the one a microsecond later and 2999 are after it
    assert list(later) == [1, 4]


async def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2030, 1, 2, 3, 4, 5)
    with pytest.raises(StatementError, match="naive datetime"):
        async with unit_of_work() as session:
            session.add(Happening(id=1, at=naive))
    with pytest.raises(StatementError, match="naive datetime"):
        async with get_sessionmaker()() as session:
            await session.execute(select(Happening).where(Happening.at > naive))
    assert await count_happenings() == 0


async def test_mixins_give_a_uuid7_id_and_a_creation_time_from_the_clock() -> None:
    with clock.frozen_at(datetime(2031, 7, 8, 9, 10, 11, 120_000, tzinfo=UTC)) as frozen:
        async with unit_of_work() as session:
            session.add(Stamped(label="first"))
        frozen.advance(timedelta(seconds=30))
        async with unit_of_work() as session:
            session.add(Stamped(label="second"))
    async with get_sessionmaker()() as session:
        rows = (await session.scalars(select(Stamped).order_by(Stamped.id))).all()
    assert [row.label for row in rows] == ["first", "second"]  # UUIDv7 sorts by creation
    assert all(isinstance(row.id, uuid.UUID) and row.id.version == 7 for row in rows)
    assert rows[0].created_at == datetime(2031, 7, 8, 9, 10, 11, 120_000, tzinfo=UTC)
    assert rows[1].created_at == rows[0].created_at + timedelta(seconds=30)


# --- unit of work and after-commit hooks ---------------------------------------------------


async def test_unit_of_work_commits_once_and_then_runs_hooks_in_order() -> None:
    seen: list[object] = []

    async def async_hook() -> None:
        # after commit: another connection already sees the row
        seen.append(("async", await count_happenings()))

    async with unit_of_work() as session:
        session.add(Happening(id=1, at=MOMENTS[0]))
        events.after_commit(session, lambda: seen.append("sync"))
        events.after_commit(session, async_hook)
        await session.flush()
        assert seen == []  # nothing runs before the commit
    assert seen == ["sync", ("async", 1)]


async def test_hooks_do_not_run_when_the_block_fails_and_nothing_is_written() -> None:
    seen: list[str] = []
    with pytest.raises(LookupError):
        async with unit_of_work() as session:
            session.add(Happening(id=1, at=MOMENTS[0]))
            await session.flush()
            events.after_commit(session, lambda: seen.append("ran"))
            raise LookupError("the use case failed half way")
    assert seen == []
    assert await count_happenings() == 0


async def test_a_savepoint_opening_the_transaction_is_undone_with_it() -> None:
    """A nested transaction (savepoint) that comes before any other write is still part of the
    unit of work: when the unit fails, what the savepoint wrote is undone too (the SQLite driver
    used to run that savepoint as a transaction of its own and commit it on release)."""
    with pytest.raises(LookupError):
        async with unit_of_work() as session:
            async with session.begin_nested():
                session.add(Happening(id=1, at=MOMENTS[0]))
            session.add(Happening(id=2, at=MOMENTS[1]))
            await session.flush()
            raise LookupError("the use case failed after its savepoint")
    assert await count_happenings() == 0

    async with unit_of_work() as session:  # and a unit that succeeds keeps both
        async with session.begin_nested():
            session.add(Happening(id=1, at=MOMENTS[0]))
        session.add(Happening(id=2, at=MOMENTS[1]))
    assert await count_happenings() == 2


async def test_hooks_do_not_run_when_the_commit_itself_fails() -> None:
    async with unit_of_work() as session:
        session.add(Happening(id=1, at=MOMENTS[0]))
    seen: list[str] = []
    with pytest.raises(IntegrityError):
        async with unit_of_work() as session:
            session.add(Happening(id=2, at=MOMENTS[0]))
            session.add(Happening(id=1, at=MOMENTS[1]))  # duplicate key, found at commit
            events.after_commit(session, lambda: seen.append("ran"))
    assert seen == []
    assert await count_happenings() == 1


async def test_a_failing_hook_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def broken_sync() -> None:
        raise RuntimeError("mail server down")

    async def broken_async() -> None:
        raise RuntimeError("queue down")

    async def fine_async() -> None:
        seen.append("fine async")

    caplog.set_level(logging.ERROR, logger="clipcart.core.events")
    async with unit_of_work() as session:
        session.add(Happening(id=1, at=MOMENTS[0]))
        events.after_commit(session, lambda: seen.append("first"))
        events.after_commit(session, broken_sync)
        events.after_commit(session, broken_async)
        events.after_commit(session, fine_async)
        events.after_commit(session, lambda: seen.append("last"))
    assert seen == ["first", "fine async", "last"]
    assert await count_happenings() == 1  # the commit stands
    failures = [r for r in caplog.records if r.getMessage() == "after-commit hook failed"]
    assert len(failures) == 2
    messages = {str(record.exc_info[1]) for record in failures if record.exc_info}
    assert messages == {"mail server down", "queue down"}


async def test_hooks_run_once_per_transaction() -> None:
    seen: list[str] = []
    async with unit_of_work() as session:
        events.after_commit(session, lambda: seen.append("one"))
    await events.run_after_commit(session)  # running again finds nothing queued
    async with unit_of_work() as session:
        events.after_commit(session, lambda: seen.append("two"))
    assert seen == ["one", "two"]


async def test_a_unit_that_touched_nothing_skips_its_commit_and_still_runs_hooks() -> None:
    """No connection is taken and SQLAlchemy's empty commit (~50 µs) is not run, but what the
    unit queued for after the commit runs."""
    checkouts: list[object] = []
    commits: list[object] = []
    seen: list[str] = []
    engine = get_engine()

    def count_checkout(*_: object) -> None:
        checkouts.append(object())

    event.listen(engine.sync_engine, "checkout", count_checkout)
    try:
        async with unit_of_work() as session:
            event.listen(session.sync_session, "after_commit", lambda *_: commits.append(object()))
            events.after_commit(session, lambda: seen.append("ran"))
    finally:
        event.remove(engine.sync_engine, "checkout", count_checkout)
    assert (checkouts, commits, seen) == ([], [], ["ran"])

    async with unit_of_work() as session:  # a unit with unflushed changes still commits them
        event.listen(session.sync_session, "after_commit", lambda *_: commits.append(object()))
        session.add(Happening(id=1, at=MOMENTS[0]))
    assert len(commits) == 1
    assert await count_happenings() == 1


_INSERT_HAPPENING = (
    "WITH stored AS (INSERT INTO core_test_db_happenings (id, at, label) "
    "VALUES ($1, now(), 'raw') RETURNING id) SELECT count(*) FROM stored"
)


@pytest.mark.postgres
async def test_one_statement_alone_is_its_own_transaction() -> None:
    """With no transaction begun, the statement commits by itself: another connection sees its
    row at once, and the session, which began nothing, has nothing to undo."""
    require_postgres()
    async with get_sessionmaker()() as session:
        assert await fetch_value_in_one_transaction(session, _INSERT_HAPPENING, 1) == 1
        assert not session.in_transaction()
        assert await count_happenings() == 1
        await session.rollback()
    assert await count_happenings() == 1


@pytest.mark.postgres
async def test_a_statement_that_fails_alone_changes_nothing_and_its_connection_is_closed() -> None:
    """Its connection is not given to the next request in a state SQLAlchemy never saw."""
    require_postgres()
    invalidated: list[object] = []

    def count_invalidated(*_: object) -> None:
        invalidated.append(object())

    engine = get_engine()
    event.listen(engine.sync_engine, "invalidate", count_invalidated)
    try:
        async with get_sessionmaker()() as session:
            with pytest.raises(asyncpg.UniqueViolationError):
                await fetch_value_in_one_transaction(
                    session,
                    "WITH stored AS (INSERT INTO core_test_db_happenings (id, at, label) "
                    "VALUES ($1::int, now(), 'once'), ($1::int, now(), 'twice') RETURNING id) "
                    "SELECT count(*) FROM stored",
                    5,
                )
            assert invalidated != []
            assert await fetch_value_in_one_transaction(session, _INSERT_HAPPENING, 6) == 1
    finally:
        event.remove(engine.sync_engine, "invalidate", count_invalidated)
    assert await count_happenings() == 1


@pytest.mark.postgres
async def test_one_statement_joins_the_transaction_the_session_began() -> None:
    """Once the unit of work has begun (it read or wrote before), the statement is part of it
    and is undone with it."""
    require_postgres()
    with pytest.raises(LookupError):
        async with unit_of_work() as session:
            session.add(Happening(id=1, at=MOMENTS[0]))
            await session.flush()
            assert await fetch_value_in_one_transaction(session, _INSERT_HAPPENING, 2) == 1
            assert await count_happenings() == 0  # not committed yet
            raise LookupError("the use case failed after the statement")
    assert await count_happenings() == 0

    async with unit_of_work() as session:
        await session.scalar(select(func.count()).select_from(Happening))
        await fetch_value_in_one_transaction(session, _INSERT_HAPPENING, 3)
    assert await count_happenings() == 1


@pytest.mark.postgres
async def test_pooled_connections_the_server_killed_are_replaced_before_use() -> None:
    """A database restart (here: every backend of this pool terminated) costs no request."""
    require_postgres()

    async def backend_pid() -> int:
        async with get_sessionmaker()() as session:
            return int((await session.execute(select(func.pg_backend_pid()))).scalar_one())

    # Several connections checked out at once, so the pool holds more than one.
    first_pids = set(await asyncio.gather(*(backend_pid() for _ in range(4))))
    admin = await asyncpg.connect(
        get_engine().url.set(drivername="postgresql").render_as_string(False)
    )
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM unnest($1::int[]) AS pid",
            list(first_pids),
        )
    finally:
        await admin.close()
    await asyncio.sleep(0.1)  # the event loop sees the sockets close

    later_pids = set(await asyncio.gather(*(backend_pid() for _ in range(4))))
    assert later_pids.isdisjoint(first_pids)


async def test_a_fixed_limit_is_written_into_the_sql_not_sent_as_a_parameter() -> None:
    """So PostgreSQL plans the statement once (see fixed_limit); the rows are the same."""
    sent: list[tuple[str, Sequence[object] | Mapping[str, object]]] = []
    engine = get_engine()

    def capture(
        _conn: object,
        _cursor: object,
        statement: str,
        parameters: Sequence[object] | Mapping[str, object],
        *_: object,
    ) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with unit_of_work() as session:
            rows = await session.execute(
                select(func.count()).select_from(
                    select(func.now()).limit(fixed_limit(7)).subquery()
                )
            )
            assert rows.scalar_one() == 1
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    [(statement, parameters)] = sent
    assert "LIMIT 7" in statement
    assert 7 not in (parameters.values() if isinstance(parameters, dict) else parameters)
