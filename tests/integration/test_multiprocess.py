"""ClipCart on several processes, as production runs it: `clipcart serve --workers 2` (Granian)
and two `clipcart worker` (Huey) processes on a fresh PostgreSQL database (migrated with
`clipcart migrate`) and a Redis database of their own. A log-in made through one web process
is valid on the other, the login rate limit is shared, an order placed through one is seen and
paid through the other, and each job runs once however many workers consume the queue.

Which process answered is known honestly: each client below keeps one keep-alive connection
(accepted by one process), `/healthz` names the process behind it (a random instance id), and
every request is checked to have gone over that same connection (its local port)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from bench._commerce import Buyer, Stocked, seed_buyers, seed_shop

from tests.services import require_postgres, require_redis

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

API = "/api/v1"
REPO_ROOT = Path(__file__).resolve().parents[2]
CLIPCART = str(Path(sys.executable).with_name("clipcart"))
REDIS_DB = 13  # this module's own Redis database, flushed before and after
LOGIN_LIMIT = 6
PASSWORD = "several processes, one truth 42"
JOBS = 40
STARTUP_SECONDS = 60  # a timeout only: a loaded machine starts four Python processes slowly


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _admin(database_url: str, statement: str) -> None:
    import asyncpg

    base = database_url.rpartition("/")[0].replace("postgresql+asyncpg", "postgresql")

    async def run() -> None:
        connection = await asyncpg.connect(f"{base}/postgres")
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


class Inbox(MessageHandler):
    """An SMTP server's mailbox: every message received, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []

    def handle_message(self, message: Message) -> None:
        self.messages.append(message)


@dataclass
class Cluster:
    """The running processes and how to reach what they share."""

    base_url: str
    database_url: str
    redis_url: str
    worker_logs: list[Path]
    inbox: Inbox


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Granian's children stop with it
        )


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Ask every process group to stop at once, then wait (killing any that will not)."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for(what: str, check: Any, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                pytest.fail(f"{process.args!r} exited with {process.returncode} ({what})")
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Migrate a fresh database, then start the web processes and two job workers."""
    import redis

    postgres_url = require_postgres()
    redis_url = re.sub(r"/\d*$", "", require_redis()) + f"/{REDIS_DB}"
    name = f"clipcart_multiprocess_{uuid.uuid4().hex[:10]}"
    database_url = f"{postgres_url.rpartition('/')[0]}/{name}"
    redis.Redis.from_url(redis_url).flushdb()
    _admin(database_url, f'CREATE DATABASE "{name}"')
    logs = REPO_ROOT / "test-artifacts" / "multiprocess"
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    worker_logs = [logs / f"worker-{number}.log" for number in (1, 2)]
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        smtp.start()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("CLIPCART_") or key.startswith("CLIPCART_TEST_")
        } | {
            "CLIPCART_ENVIRONMENT": "production",
            "CLIPCART_DATA_DIR": str(tmp_path_factory.mktemp("multiprocess")),  # shared
            "CLIPCART_DATABASE_URL": database_url,
            "CLIPCART_REDIS_URL": redis_url,
            "CLIPCART_BASE_URL": base_url,  # the payment sandbox is served by the same processes
            "CLIPCART_LOGIN_ATTEMPTS_PER_MINUTE_PER_IP": str(LOGIN_LIMIT),
            "CLIPCART_SMTP_HOST": "127.0.0.1",
            "CLIPCART_SMTP_PORT": str(smtp.port),
            "CLIPCART_LOG_LEVEL": "INFO",
            "CLIPCART_LOG_JSON": "true",
        }
        # No CLIPCART_SECRET_KEY: the processes must agree on the one generated in the data dir.
        migrated = subprocess.run(
            [CLIPCART, "migrate"], cwd=REPO_ROOT, env=env, capture_output=True, text=True
        )
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        serve = [CLIPCART, "serve", "--port", str(port), "--workers", "2"]
        processes.append(_start(serve, env, logs / "serve.log"))
        for log in worker_logs:
            processes.append(_start([CLIPCART, "worker", "--threads", "2"], env, log))
        _wait_for(
            "two web processes",
            lambda: len({_instance(base_url) for _ in range(12)}) == 2,
            processes,
        )
        _wait_for(
            "both job workers",
            lambda: all("Huey consumer started" in log.read_text() for log in worker_logs),
            processes,
        )
        yield Cluster(base_url, database_url, redis_url, worker_logs, inbox)
    finally:
        _stop(processes)
        smtp.stop()
        redis.Redis.from_url(redis_url).flushdb()
        _admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _instance(base_url: str) -> str:
    """The instance id of whichever process accepts a new connection."""
    with httpx.Client(base_url=base_url, timeout=5) as fresh:
        return str(fresh.get("/healthz").json()["instance"])


class Pinned:
    """An HTTP client whose one keep-alive connection was accepted by one known process."""

    def __init__(self, client: httpx.Client, instance: str, local_port: int) -> None:
        self.client = client
        self.instance = instance
        self.local_port = local_port

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """Send a request and check it went over the pinned connection."""
        response = self.client.request(method, path, **options)
        assert _local_port(response) == self.local_port, "the connection was replaced"
        return response


def _local_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("client_addr")[1])


@pytest.fixture
def pinned(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[tuple[Pinned, Pinned]]:
    """Two clients from the test's own loopback address (its own rate-limit key), one on each
    web process."""
    source = getattr(request, "param", "127.0.0.1")
    found: dict[str, Pinned] = {}
    spare: list[httpx.Client] = []
    try:
        for _ in range(40):
            transport = httpx.HTTPTransport(
                local_address=source, limits=httpx.Limits(max_connections=1)
            )
            client = httpx.Client(base_url=cluster.base_url, transport=transport, timeout=30)
            response = client.get("/healthz")
            instance = str(response.json()["instance"])
            if instance in found:
                spare.append(client)
                continue
            found[instance] = Pinned(client, instance, _local_port(response))
            if len(found) == 2:
                break
        assert len(found) == 2, "new connections never reached a second web process"
        first, second = found.values()
        yield first, second
    finally:
        for client in spare + [pinned.client for pinned in found.values()]:
            client.close()


def _csrf(client: Pinned) -> str:
    response = client.request("GET", f"{API}/auth/csrf")
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


@pytest.mark.parametrize("pinned", ["127.0.0.2"], indirect=True)
def test_a_login_through_one_process_is_valid_on_the_other(pinned: tuple[Pinned, Pinned]) -> None:
    one, other = pinned
    handle = f"mp{uuid.uuid4().hex[:8]}"
    email = f"{handle}@example.com"
    signup = {"email": email, "handle": handle, "password": PASSWORD}
    answer = one.request(
        "POST", f"{API}/auth/signup", json=signup, headers={"X-CSRF-Token": _csrf(one)}
    )
    assert answer.status_code == 201, answer.text
    one.client.cookies.clear()

    login = {"email": email, "password": PASSWORD}
    answer = one.request(
        "POST", f"{API}/auth/login", json=login, headers={"X-CSRF-Token": _csrf(one)}
    )
    assert answer.status_code == 200, answer.text
    csrf_token = answer.json()["csrf_token"]
    other.client.cookies = httpx.Cookies(one.client.cookies)  # the same browser, other process

    me = other.request("GET", f"{API}/me")
    assert me.status_code == 200, me.text
    assert me.json()["handle"] == handle
    # The CSRF token issued by the first process is good for an unsafe request on the second.
    renamed = other.request(
        "PATCH",
        f"{API}/me",
        json={"display_name": "Both Ways"},
        headers={"X-CSRF-Token": csrf_token},
    )
    assert renamed.status_code == 200, renamed.text
    assert one.request("GET", f"{API}/me").json()["display_name"] == "Both Ways"
    # Logging out on the second process ends the session on the first.
    out = other.request("POST", f"{API}/auth/logout", headers={"X-CSRF-Token": csrf_token})
    assert out.status_code == 204, out.text
    assert one.request("GET", f"{API}/me").status_code == 401


@pytest.mark.parametrize("pinned", ["127.0.0.3"], indirect=True)
def test_the_login_rate_limit_is_shared_by_the_processes(pinned: tuple[Pinned, Pinned]) -> None:
    tokens = {client.instance: _csrf(client) for client in pinned}
    statuses = []
    for attempt in range(LOGIN_LIMIT + 4):
        client = pinned[attempt % 2]
        body = {"email": f"nobody{attempt}@example.com", "password": "wrong password 123"}
        answer = client.request(
            "POST",
            f"{API}/auth/login",
            json=body,
            headers={"X-CSRF-Token": tokens[client.instance]},
        )
        statuses.append(answer.status_code)
    # Per process, each would have allowed LOGIN_LIMIT; together they allow LOGIN_LIMIT.
    assert statuses == [401] * LOGIN_LIMIT + [429] * 4


def _seed_shop_and_buyer(database_url: str) -> tuple[Stocked, Buyer]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from clipcart.core.db import create_engine

    async def run() -> tuple[Stocked, Buyer]:
        engine = create_engine(database_url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                stocked = await seed_shop(
                    stock=5, handle=f"mp{uuid.uuid4().hex[:8]}", session=session
                )
                [buyer] = await seed_buyers(1, prefix="mpbuyer", session=session)
                await session.commit()
                return stocked, buyer
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.mark.parametrize("pinned", ["127.0.0.4"], indirect=True)
def test_an_order_placed_through_one_process_is_seen_and_paid_through_the_other(
    cluster: Cluster, pinned: tuple[Pinned, Pinned]
) -> None:
    one, other = pinned
    stocked, buyer = _seed_shop_and_buyer(cluster.database_url)
    body: dict[str, Any] = {
        "items": [{"variant_id": str(stocked.variant_id), "quantity": 2}],
        "address_id": str(buyer.address_id),
    }
    quoted = one.request("POST", f"{API}/checkout/quote", json=body, headers=buyer.headers)
    assert quoted.status_code == 200, quoted.text
    body |= {"expected_total": int(quoted.json()["grand_total"]["amount"])}
    body |= {"payment_method": buyer.card_token}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    placed = one.request("POST", f"{API}/checkout", json=body, headers=buyer.headers | key)
    assert placed.status_code == 201, placed.text
    [order] = placed.json()["orders"]

    seen = other.request("GET", f"{API}/orders/{order['id']}", headers=buyer.headers)
    assert seen.status_code == 200, seen.text
    assert seen.json()["status"] == order["status"]
    listed = other.request("GET", f"{API}/orders", headers=buyer.headers).json()
    assert order["id"] in {item["id"] for item in listed["items"]}
    # The same Idempotency-Key replays the first answer on the other process.
    again = other.request("POST", f"{API}/checkout", json=body, headers=buyer.headers | key)
    assert again.status_code == 201 and again.json() == placed.json()

    path = f"{API}/checkout/{placed.json()['checkout_id']}/pay"
    key = {"Idempotency-Key": uuid.uuid4().hex}
    paid = other.request("POST", path, json={}, headers=buyer.headers | key)
    assert paid.status_code == 200, paid.text
    assert [item["status"] for item in paid.json()["orders"]] == ["paid"]
    final = one.request("GET", f"{API}/orders/{order['id']}", headers=buyer.headers)
    assert final.json()["status"] == "paid"


def _queue_notifications(database_url: str, count: int) -> list[str]:
    """A user with `count` notifications whose email is queued; their ids."""
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from clipcart.accounts.models import User
    from clipcart.core.db import create_engine
    from clipcart.core.ids import new_id
    from clipcart.notifications.models import Notification

    async def run() -> list[str]:
        engine = create_engine(database_url)
        user_id = new_id()
        ids = [new_id() for _ in range(count)]
        try:
            async with async_sessionmaker(engine)() as session:
                await session.execute(
                    insert(User),
                    [
                        {
                            "id": user_id,
                            "email": f"jobs{user_id.hex[:8]}@example.com",
                            "handle": f"jobs{user_id.hex[:8]}",
                            "display_name": "Jobs",
                            "password_hash": "-",
                        }
                    ],
                )
                rows = [
                    {
                        "id": id_,
                        "user_id": user_id,
                        "kind": "order_shipped",
                        "title": f"Parcel {number}",
                        "email_status": "queued",
                    }
                    for number, id_ in enumerate(ids)
                ]
                await session.execute(insert(Notification), rows)
                await session.commit()
        finally:
            await engine.dispose()
        return [str(id_) for id_ in ids]

    return asyncio.run(run())


def _log_lines(paths: list[Path]) -> list[tuple[int, dict[str, Any]]]:
    """(worker number, JSON record) for every JSON line the workers wrote."""
    records = []
    for number, path in enumerate(paths):
        for line in path.read_text().splitlines():
            if line.startswith("{"):
                records.append((number, json.loads(line)))
    return records


def test_each_job_runs_once_with_two_workers_on_one_queue(cluster: Cluster) -> None:
    from huey import RedisHuey

    from clipcart.core.jobs import huey
    from clipcart.notifications.tasks import send_email_job

    ids = _queue_notifications(cluster.database_url, JOBS)
    queue = RedisHuey("clipcart", url=cluster.redis_url)
    tasks = [send_email_job.s(notification_id) for notification_id in ids]
    for task in tasks:  # the messages `send_email_job(id)` would put on the shared queue
        queue.storage.enqueue(huey.serialize_task(task), task.priority)

    def parcels() -> Counter[str]:  # other tests' orders send emails too
        subjects = (str(message["Subject"]) for message in cluster.inbox.messages)
        return Counter(subject for subject in subjects if subject.startswith("Parcel "))

    deadline = time.monotonic() + 20
    while parcels().total() < JOBS and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # a duplicate would arrive about now
    assert parcels() == Counter(f"Parcel {number}" for number in range(JOBS))
    assert queue.pending_count() == 0

    executed: Counter[str] = Counter()
    by_worker: Counter[int] = Counter()
    for worker, record in _log_lines(cluster.worker_logs):
        found = re.match(r"Executing clipcart\.notifications\.tasks\.\S+: (\S+)", record["event"])
        if found and found.group(1) in {task.id for task in tasks}:
            executed[found.group(1)] += 1
            by_worker[worker] += 1
    assert executed == Counter({task.id: 1 for task in tasks})
    assert set(by_worker) == {0, 1}, f"one worker ran every job: {by_worker}"


def test_each_periodic_job_is_enqueued_once_a_minute_by_two_workers(cluster: Cluster) -> None:
    # Both schedulers check the periodic tasks as they start, and once a minute after that.
    enqueued: Counter[tuple[str, str]] = Counter()
    for _, record in _log_lines(cluster.worker_logs):
        found = re.match(r"Enqueueing periodic task (\S+?):", record["event"])
        if found:
            enqueued[(found.group(1), record["timestamp"][:16])] += 1
    assert any(name.endswith("commerce.expire_reservations") for name, _ in enqueued)
    assert [key for key, count in enqueued.items() if count > 1] == []
