"""Background jobs: Huey on SQLite or Redis, run by the embedded consumer; async job bodies."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer
from sqlalchemy import MetaData, String, delete, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from clipcart.core import jobs
from clipcart.core.config import Settings
from clipcart.core.db import get_engine, get_sessionmaker, unit_of_work
from tests.services import require_redis

RESULT_TIMEOUT = 15  # seconds; a broken consumer fails the test instead of hanging it


class ScratchBase(DeclarativeBase):
    """Tables that exist only while this module runs (real tables belong in migrations)."""

    metadata = MetaData()


class JobNote(ScratchBase):
    __tablename__ = "core_test_jobs_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(80))


@pytest.fixture(scope="module")
async def scratch_tables() -> AsyncIterator[None]:
    async with get_engine().begin() as connection:
        await connection.run_sync(ScratchBase.metadata.drop_all)
        await connection.run_sync(ScratchBase.metadata.create_all)
    yield
    async with get_engine().begin() as connection:
        await connection.run_sync(ScratchBase.metadata.drop_all)


@pytest.fixture
async def job_notes(scratch_tables: None) -> AsyncIterator[None]:
    yield
    async with get_sessionmaker()() as session:
        await session.execute(delete(JobNote))
        await session.commit()


async def stored_job_notes() -> list[str]:
    async with get_sessionmaker()() as session:
        return sorted((await session.scalars(select(JobNote.text))).all())


def record_run(path: str, value: int) -> int:
    """A job with a visible effect: one line per execution, in a file any process can reach."""
    with open(path, "a") as handle:
        handle.write(f"{threading.current_thread().name}\n")
    return value * 2


async def add_note(note: str, pause: float = 0.0) -> str:
    """An async job body that uses the database, as domain jobs do."""
    async with unit_of_work() as session:
        await session.execute(text("SELECT 1"))
        await asyncio.sleep(pause)
        session.add(JobNote(text=note))
    return note


def job_settings(tmp_path: Path, backend: str) -> Settings:
    redis_url = require_redis() if backend == "redis" else None
    return Settings(data_dir=tmp_path, jobs_immediate=False, redis_url=redis_url)


@pytest.fixture(params=["sqlite", "redis"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Huey]:
    """A job queue built by create_huey for that backend, not running anything inline."""
    huey = jobs.create_huey(job_settings(tmp_path, request.param))
    assert not huey.immediate
    yield huey
    if request.param == "redis":
        huey.storage.conn.close()


@pytest.fixture
def consumer(queue: Huey, monkeypatch: pytest.MonkeyPatch) -> Iterator[Consumer]:
    """start_embedded_consumer itself, pointed at the test's queue."""
    monkeypatch.setattr(jobs, "huey", queue)
    started = jobs.start_embedded_consumer(workers=2)
    yield started
    started.stop(graceful=True)
    assert not any(thread.is_alive() for _, thread in started.worker_threads)


def wait_for_lines(path: Path, count: int) -> list[str]:
    deadline = time.monotonic() + RESULT_TIMEOUT
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    return path.read_text().splitlines() if path.exists() else []


def test_create_huey_uses_sqlite_in_data_dir_by_default(tmp_path: Path) -> None:
    huey = jobs.create_huey(Settings(data_dir=tmp_path, jobs_immediate=False, redis_url=None))
    assert isinstance(huey, SqliteHuey)
    assert not huey.immediate
    assert Path(huey.storage.filename) == tmp_path.resolve() / "jobs.db"
    inline = jobs.create_huey(Settings(data_dir=tmp_path, jobs_immediate=True, redis_url=None))
    assert inline.immediate


def test_create_huey_uses_redis_when_configured(tmp_path: Path) -> None:
    huey = jobs.create_huey(job_settings(tmp_path, "redis"))
    assert isinstance(huey, RedisHuey)
    assert huey.storage.conn.ping()
    huey.storage.conn.close()


def test_filler_jobs_wait_behind_every_other_job(tmp_path: Path) -> None:
    """On the default (SQLite) queue a filler job queued first still runs after the others."""
    from clipcart.demo.world import media_jobs

    huey = jobs.create_huey(Settings(data_dir=tmp_path, jobs_immediate=False, redis_url=None))

    @huey.task(priority=jobs.FILLER_PRIORITY)
    def render_clips() -> None: ...

    @huey.task()
    def send_email() -> None: ...

    render_clips()
    send_email()
    render_clips()
    assert [huey.dequeue().name for _ in range(3)] == [
        "send_email",
        "render_clips",
        "render_clips",
    ]
    # The demo world's bulk media jobs are such fillers.
    for job in (media_jobs.render_videos_job, media_jobs.draw_products_job):
        assert job.task_class.default_priority == jobs.FILLER_PRIORITY


def test_embedded_consumer_runs_a_task_exactly_once(
    queue: Huey, consumer: Consumer, tmp_path: Path
) -> None:
    task = queue.task(name="core_test_record_run")(record_run)
    runs = tmp_path / "runs.txt"
    result = task(str(runs), 21)
    assert result.get(blocking=True, timeout=RESULT_TIMEOUT) == 42
    time.sleep(0.5)  # time enough for a second (wrong) execution to show up
    lines = runs.read_text().splitlines()
    assert len(lines) == 1
    assert lines[0] != threading.main_thread().name  # a worker thread ran it
    assert len(queue) == 0  # nothing left in the queue


def test_embedded_consumer_runs_many_tasks_once_each(
    queue: Huey, consumer: Consumer, tmp_path: Path
) -> None:
    task = queue.task(name="core_test_record_run")(record_run)
    results = [task(str(tmp_path / f"run-{n}.txt"), n) for n in range(10)]
    assert [r.get(blocking=True, timeout=RESULT_TIMEOUT) for r in results] == [
        n * 2 for n in range(10)
    ]
    time.sleep(0.5)
    for n in range(10):
        assert len((tmp_path / f"run-{n}.txt").read_text().splitlines()) == 1


def test_embedded_consumer_runs_scheduled_tasks(
    queue: Huey, consumer: Consumer, tmp_path: Path
) -> None:
    task = queue.task(name="core_test_record_run")(record_run)
    runs = tmp_path / "later.txt"
    result = task.schedule((str(runs), 5), delay=1)
    assert not runs.exists()  # not before its time
    assert result.get(blocking=True, timeout=RESULT_TIMEOUT) == 10
    assert len(wait_for_lines(runs, 1)) == 1


def test_embedded_consumer_leaves_process_signals_to_the_host(
    queue: Huey, monkeypatch: pytest.MonkeyPatch
) -> None:
    watched = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    before = {signum: signal.getsignal(signum) for signum in watched}
    monkeypatch.setattr(jobs, "huey", queue)
    started = jobs.start_embedded_consumer(workers=1)
    try:
        assert {signum: signal.getsignal(signum) for signum in watched} == before
        assert all(thread.daemon for _, thread in started.worker_threads)
    finally:
        started.stop(graceful=True)


# --- run_async -----------------------------------------------------------------------------


def test_run_async_adapts_an_async_function_and_keeps_its_name() -> None:
    async def double(value: int, *, times: int = 2) -> int:
        await asyncio.sleep(0)
        return value * times

    runner = jobs.run_async(double)
    assert runner(21) == 42
    assert runner(5, times=3) == 15
    # Huey registers tasks by module and name: the adapter must not rename them
    assert runner.__name__ == "double"
    assert runner.__module__ == __name__
    assert runner.__qualname__.endswith("double")


def test_run_async_passes_exceptions_through() -> None:
    async def broken() -> None:
        raise LookupError("no such order")

    with pytest.raises(LookupError, match="no such order"):
        jobs.run_async(broken)()


async def test_async_job_runs_on_the_embedded_consumer(
    queue: Huey, consumer: Consumer, job_notes: None
) -> None:
    task = queue.task(name="core_test_add_note")(jobs.run_async(add_note))
    result = task("from the queue")
    value = await asyncio.to_thread(result.get, blocking=True, timeout=RESULT_TIMEOUT)
    assert value == "from the queue"
    assert await stored_job_notes() == ["from the queue"]


async def test_async_jobs_use_the_database_beside_the_web_app(job_notes: None) -> None:
    """Embedded mode: worker threads run jobs while the app's own loop keeps using the
    database; neither may break the other's connections."""

    async def app_requests() -> int:
        done = 0
        for _ in range(20):
            async with get_sessionmaker()() as session:
                await session.execute(text("SELECT 1"))
            done += 1
            await asyncio.sleep(0.01)
        return done

    async with get_sessionmaker()() as session:  # the app's pool holds a connection
        await session.execute(text("SELECT 1"))
    runner = jobs.run_async(add_note)
    outcomes: list[Any] = await asyncio.gather(
        app_requests(),
        *(asyncio.to_thread(runner, f"job {n}", 0.05) for n in range(4)),
        return_exceptions=True,
    )
    assert outcomes == [20, "job 0", "job 1", "job 2", "job 3"]
    assert await stored_job_notes() == ["job 0", "job 1", "job 2", "job 3"]
    # and the app's engine still works afterwards
    assert await app_requests() == 20
