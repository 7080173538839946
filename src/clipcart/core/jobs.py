"""Background jobs on Huey: SQLite storage by default, Redis when CLIPCART_REDIS_URL is set."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer, Scheduler

from clipcart.core.config import Settings, get_settings


def create_huey(settings: Settings) -> Huey:
    """The job queue for these settings."""
    immediate = settings.jobs_immediate
    if settings.redis_url:
        return RedisHuey("clipcart", url=settings.redis_url, immediate=immediate)
    path = settings.data_dir.resolve() / "jobs.db"
    return SqliteHuey("clipcart", filename=str(path), immediate=immediate)


huey: Huey = create_huey(get_settings())

# Bulk work nobody is waiting for (the demo world's clips and pictures): queued behind every
# other job, so a payout, an email or a person's own upload does not wait for hundreds of them.
# Honoured by the SQLite queue; the plain Redis queue runs jobs in the order they came.
FILLER_PRIORITY = -10


def run_async(coroutine_function: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
    """Adapt an async job body to Huey's synchronous workers, with its own event loop."""

    def runner(*args: Any, **kwargs: Any) -> Any:
        from clipcart.core.db import dispose_engine

        async def body() -> Any:
            try:
                return await coroutine_function(*args, **kwargs)
            finally:
                await dispose_engine()

        return asyncio.run(body())

    runner.__name__ = coroutine_function.__name__
    runner.__qualname__ = coroutine_function.__qualname__
    runner.__module__ = coroutine_function.__module__
    return runner


def load_task_modules() -> None:
    """Import every domain's tasks so the consumer knows them."""
    import clipcart.accounts.tasks
    import clipcart.affiliate.tasks
    import clipcart.catalog.import_tasks
    import clipcart.commerce.payment_tasks
    import clipcart.commerce.tasks
    import clipcart.ledger.tasks
    import clipcart.media.tasks
    import clipcart.notifications.tasks
    import clipcart.payments.tasks
    import clipcart.recs.tasks  # noqa: F401


PERIODIC_CLAIM_PREFIX = "clipcart:periodic:"


class SharedScheduler(Scheduler):
    """A scheduler that, on Redis, enqueues each periodic task once per minute however many
    consumers run: the first to claim the (task, minute) key in Redis enqueues it."""

    def enqueue_periodic_tasks(self, now: Any) -> None:
        """Enqueue the periodic tasks due now that no other consumer has claimed."""
        storage = self.huey.storage
        if not isinstance(self.huey, RedisHuey):  # one SQLite queue means one consumer
            super().enqueue_periodic_tasks(now)
            return
        now = now or self.huey._get_timestamp()
        for task in self.huey.read_periodic(now):
            key = f"{PERIODIC_CLAIM_PREFIX}{storage.name}:{task.name}:{now:%Y%m%d%H%M}"
            try:
                if not storage.conn.set(key, 1, nx=True, ex=3600):
                    self._logger.debug("Periodic task %s claimed by another consumer", task)
                    continue
                self._logger.info("Enqueueing periodic task %s.", task)
                self.huey.enqueue(task)
            except Exception:
                self._logger.exception("Error enqueueing periodic task %s.", task)


class ClipCartConsumer(Consumer):
    """Huey's consumer with the shared periodic scheduler."""

    scheduler_class = SharedScheduler


class EmbeddedConsumer(ClipCartConsumer):
    """A consumer that lives inside another program (the demo's web process)."""

    def _set_signal_handlers(self) -> None:
        # The host program (uvicorn) owns the process signals; it stops us from its lifespan.
        return None


def create_consumer(workers: int = 2, *, embedded: bool = False) -> Consumer:
    """A Huey consumer using worker threads, with the periodic scheduler."""
    load_task_modules()
    consumer_class = EmbeddedConsumer if embedded else ClipCartConsumer
    return consumer_class(huey, workers=workers, worker_type="thread", periodic=True)


def start_embedded_consumer(workers: int = 2) -> Consumer:
    """Start worker and scheduler threads in this process; stop with `consumer.stop()`."""
    consumer = create_consumer(workers, embedded=True)
    consumer.start()
    return consumer
