"""Event ingestion: events/s stored through POST /api/v1/events by one Granian process, in
batches of 100 from 16 keep-alive clients, on SQLite and on PostgreSQL (a scratch database
created and dropped), next to the bare JSON endpoint of bench/http_baseline.py in the same run.
Each batch is one viewer's page: 20 videos, each with an impression, watch, replay, watch and
a product chip tap or sheet open, every event at its own moment, sent by visitors (no session);
a second run sends the same without impressions, to show what adding views to the counters
costs (on PostgreSQL a step of the insert's own statement, on SQLite
social.service.record_views), and a third sends the feed's mix from signed-in viewers, one per
client (bearer tokens). CPU per event is reported for the server process and, on PostgreSQL,
for the backends serving its connections.

    .venv/bin/python -m bench.events [--seconds 8] [--warmup 2] [--connections 16]

Writes bench/results/events.json (figures events_per_s_sqlite, events_per_s_postgres, bare_rps,
and server_/database_cpu_us_per_event_* per run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import tempfile
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table

from bench._events_world import seed_videos, signed_in_viewers
from bench._http import REPO_ROOT, LoadResult, granian_server, machine_description
from bench._proc import cpu_seconds_of, descendants, processes
from bench.http_baseline import clipcart_env, serve_and_measure

RESULTS = REPO_ROOT / "bench" / "results" / "events.json"
BATCH = 100
TARGET_EVENTS_PER_S = 50_000
VIDEOS_PER_BATCH = BATCH // 5
# 600,000 distinct events per run, enough for 8 s at more than the target; beyond that bodies
# repeat (counted as duplicates, not stored events, which would skew the figures).
MAX_BODIES = 6000
PG_SERVER = os.environ.get("CLIPCART_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
console = Console()


@dataclass(frozen=True)
class IngestResult:
    """One measured run of posting batches."""

    load: LoadResult
    accepted: int
    duplicates: int
    rejected: int
    server_cpu_s: float  # CPU seconds of the server process (not the database) during the run
    # CPU seconds of the database's backends serving the server's connections (PostgreSQL)
    database_cpu_s: float | None = None

    @property
    def events_per_s(self) -> float:
        """Events the server stored per second."""
        return self.accepted / self.load.seconds if self.load.seconds else 0.0

    @property
    def cpu_us_per_event(self) -> float:
        """Server CPU microseconds per stored event: comparable on a busy machine."""
        return self.server_cpu_s * 1e6 / self.accepted if self.accepted else 0.0

    @property
    def database_cpu_us_per_event(self) -> float | None:
        """The database backends' CPU microseconds per stored event (PostgreSQL only)."""
        if self.database_cpu_s is None or not self.accepted:
            return None
        return self.database_cpu_s * 1e6 / self.accepted


def server_cpu_seconds() -> float:
    """CPU seconds used so far by this process's descendants (the Granian server), from /proc."""
    table = processes()
    return sum(table[pid].cpu_seconds for pid in descendants(os.getpid(), table))


def make_bodies(video_ids: list[uuid.UUID], count: int, *, views: bool = True) -> list[bytes]:
    """`count` request bodies of BATCH distinct events shaped like a feed page sends them.

    Without `views` the impressions are replays instead: the same rows to store, but no view
    counters to update, which shows what the counters cost.
    """
    chooser = random.Random(7)
    start = datetime.now(UTC) - timedelta(minutes=10)
    session_id = uuid.uuid4().hex
    videos = [str(video_id) for video_id in video_ids]
    product = str(uuid.uuid4())
    bodies = []
    for _ in range(count):
        # One viewer's page: VIDEOS_PER_BATCH videos scrolled past, each seen, watched, replayed
        # and watched again, and one product action on it.
        events: list[dict[str, Any]] = []
        # Each event at its own moment, as a page sends them: the viewer spends a few seconds
        # on every video.
        moments = iter(
            (start + timedelta(milliseconds=step * 1_500 + chooser.randint(0, 999))).isoformat()
            for step in range(BATCH)
        )
        for position, video in enumerate(chooser.sample(videos, VIDEOS_PER_BATCH)):
            common = {
                "session_id": session_id,
                "surface": "for_you",
                "position": position,
                "video_id": video,
            }
            first = "impression" if views else "replay"
            events.append(
                {"id": str(uuid.uuid4()), "type": first, "occurred_at": next(moments), **common}
            )
            for kind in ("watch", "replay", "watch"):
                watch = chooser.randint(500, 15_000)
                extra = {"watch_ms": watch, "duration_ms": 15_000, "completed": watch > 14_000}
                events.append(
                    {
                        "id": str(uuid.uuid4()),
                        "type": kind,
                        "occurred_at": next(moments),
                        **common,
                        **(extra if kind == "watch" else {}),
                    }
                )
            action = chooser.choice(("chip_tap", "sheet_open"))
            events.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": action,
                    "occurred_at": next(moments),
                    "product_id": product,
                    **common,
                }
            )
        bodies.append(json.dumps({"events": events}, separators=(",", ":")).encode())
    return bodies


def post_load(
    url: str,
    bodies: list[bytes],
    *,
    connections: int,
    seconds: float,
    database_pids: Collection[int] = (),
    headers: Sequence[str] = ("",),
) -> IngestResult:
    """Keep `connections` clients posting the next body on `url` for `seconds` (measuring the
    CPU of the server and of the database processes `database_pids`); client i sends the more
    header lines `headers[i % len(headers)]` (each line ending in CRLF)."""
    return asyncio.run(
        _post_load(
            url,
            bodies,
            connections=connections,
            seconds=seconds,
            database_pids=database_pids,
            headers=headers,
        )
    )


async def _post_load(
    url: str,
    bodies: list[bytes],
    *,
    connections: int,
    seconds: float,
    database_pids: Collection[int],
    headers: Sequence[str],
) -> IngestResult:
    host, _, port = url.removeprefix("http://").partition("/")[0].partition(":")
    path = "/" + url.removeprefix("http://").partition("/")[2]
    heads = [
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{lines}"
            "Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: "
        ).encode()
        for lines in headers
    ]
    next_body = iter(_cycle(bodies))
    cpu_before = server_cpu_seconds()
    database_before = cpu_seconds_of(database_pids)
    latencies: list[float] = []
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "errors": 0}
    started = time.perf_counter()
    deadline = started + seconds

    async def client(head: bytes) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline:
                body = next(next_body)
                sent = time.perf_counter()
                writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
                response_head = await reader.readuntil(b"\r\n\r\n")
                status = int(response_head.split(b" ", 2)[1])
                length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", response_head)
                if length is None:
                    raise RuntimeError("response without Content-Length")
                answer = await reader.readexactly(int(length.group(1)))
                latencies.append(time.perf_counter() - sent)
                if status != 200:
                    totals["errors"] += 1
                    continue
                outcome = json.loads(answer)
                totals["accepted"] += outcome["accepted"]
                totals["duplicates"] += outcome["duplicates"]
                totals["rejected"] += len(outcome["rejected"])
        finally:
            writer.close()

    await asyncio.gather(*(client(heads[number % len(heads)]) for number in range(connections)))
    elapsed = time.perf_counter() - started
    server_cpu = server_cpu_seconds() - cpu_before
    database_after = cpu_seconds_of(database_pids)
    # Backends that ended meanwhile are left out rather than counted negative.
    database_cpu = sum(
        used - database_before[pid]
        for pid, used in database_after.items()
        if pid in database_before
    )
    load = LoadResult.of(latencies, seconds=elapsed, errors=totals["errors"])
    return IngestResult(
        load,
        totals["accepted"],
        totals["duplicates"],
        totals["rejected"],
        server_cpu,
        database_cpu if database_pids else None,
    )


def _cycle(bodies: list[bytes]) -> Iterator[bytes]:
    while True:
        yield from bodies


def database_backends(database_url: str) -> list[int]:
    """The PostgreSQL backends connected to this database now (none for SQLite)."""
    if not database_url.startswith("postgresql"):
        return []

    async def backends() -> list[int]:
        connection = await asyncpg.connect(database_url.replace("+asyncpg", "", 1))
        try:
            rows = await connection.fetch(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()
        return [row["pid"] for row in rows]

    return asyncio.run(backends())


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database (asyncpg URL), dropped afterwards."""
    name = f"clipcart_bench_events_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def measure_ingest(
    title: str, backend: str, database_url: str, data_dir: Path, *, args: argparse.Namespace
) -> dict[str, IngestResult]:
    """Seed the database, serve ClipCart on it, warm up, then the measured runs, named after
    `backend`: the feed's mix of events from visitors (`backend`), the same without
    impressions (`backend`_without_views: no view counters to update), and the feed's mix
    from signed-in viewers, one per client (`backend`_signed_in)."""
    with console.status(f"{title}: seeding"):
        video_ids = seed_videos(database_url)
        tokens = signed_in_viewers(database_url, args.connections)
        bodies = make_bodies(video_ids, MAX_BODIES)
        no_view_bodies = make_bodies(video_ids, MAX_BODIES, views=False)
        signed_in_bodies = make_bodies(video_ids, MAX_BODIES)
    warmup_bodies, bodies = bodies[:200], bodies[200:]
    env = clipcart_env(data_dir, log_level="WARNING") | {"CLIPCART_DATABASE_URL": database_url}
    with (
        console.status(title),
        granian_server(
            "clipcart.app:create_app", factory=True, env=env, ready_path="/healthz"
        ) as base,
    ):
        url = base + "/api/v1/events"
        post_load(url, warmup_bodies, connections=args.connections, seconds=args.warmup)
        # The warm-up opened the server's pooled connections: their backends do its work.
        load = {"connections": args.connections, "database_pids": database_backends(database_url)}
        runs = {
            backend: post_load(url, bodies, seconds=args.seconds, **load),
            f"{backend}_without_views": post_load(
                url, no_view_bodies, seconds=args.seconds, **load
            ),
            f"{backend}_signed_in": post_load(
                url,
                signed_in_bodies,
                seconds=args.seconds,
                headers=[f"Authorization: Bearer {token}\r\n" for token in tokens],
                **load,
            ),
        }
    for name, run in runs.items():
        if run.load.errors or run.rejected:
            raise RuntimeError(
                f"{title} {name}: {run.load.errors} failed requests, {run.rejected} rejected"
            )
    return runs


def main() -> None:
    """Measure, print the table and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="discarded seconds first")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    args = parser.parse_args()
    console.print(
        f"Load: asyncio keep-alive client, {args.connections} connections, batches of {BATCH} "
        f"events, {args.warmup:g} s warm-up, {args.seconds:g} s measured; one Granian worker"
    )
    load = {"connections": args.connections, "warmup": args.warmup, "seconds": args.seconds}
    bare = serve_and_measure(
        "bare: FastAPI, one JSON route, no middleware", "bench._bare_app:app", "/ok", load=load
    )
    runs: dict[str, IngestResult] = {}
    with tempfile.TemporaryDirectory(prefix="clipcart-bench-events-") as temporary:
        root = Path(temporary)
        (root / "sqlite").mkdir()
        sqlite_url = f"sqlite+aiosqlite:///{root / 'sqlite' / 'clipcart.db'}"
        runs |= measure_ingest("SQLite", "sqlite", sqlite_url, root / "sqlite", args=args)
        (root / "postgres").mkdir()
        with scratch_postgres() as postgres_url:
            runs |= measure_ingest(
                "PostgreSQL", "postgres", postgres_url, root / "postgres", args=args
            )

    table = Table(title=f"Event ingestion (one Granian worker, batches of {BATCH})")
    columns = (
        "run",
        "requests/s",
        "events/s",
        "CPU µs/event",
        "DB CPU µs/event",
        "p50 ms",
        "p99 ms",
        "duplicates",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "run" else "right")
    table.add_row(
        "bare JSON endpoint (GET /ok)",
        f"{bare.rps:,.0f}",
        "",
        "",
        "",
        f"{bare.p50_ms:.2f}",
        f"{bare.p99_ms:.2f}",
        "",
    )
    for name, run in runs.items():
        table.add_row(
            f"POST /api/v1/events, {name.replace('_', ' ')}",
            f"{run.load.rps:,.0f}",
            f"{run.events_per_s:,.0f}",
            f"{run.cpu_us_per_event:.1f}",
            "" if run.database_cpu_us_per_event is None else f"{run.database_cpu_us_per_event:.1f}",
            f"{run.load.p50_ms:.2f}",
            f"{run.load.p99_ms:.2f}",
            f"{run.duplicates:,}",
        )
    console.print(table)
    console.print(
        f"Target: {TARGET_EVENTS_PER_S:,} events/s. 'without views': the same batches with the "
        "impressions turned into replays, so no view counters are updated. 'signed in': the "
        "same mix sent by signed-in viewers, one per client, with their API tokens (the caller "
        "checked, the events indexed by person). DB CPU: the PostgreSQL backends serving the "
        "server's connections."
    )

    figures = {
        "events_per_s_sqlite": round(runs["sqlite"].events_per_s, 1),
        "events_per_s_postgres": round(runs["postgres"].events_per_s, 1),
        "bare_rps": round(bare.rps, 1),
    }
    for backend in ("sqlite", "postgres"):
        for name in ("without_views", "signed_in"):
            figures[f"events_per_s_{backend}_{name}"] = round(
                runs[f"{backend}_{name}"].events_per_s, 1
            )
    for name, run in runs.items():
        figures[f"batches_per_s_{name}"] = round(run.load.rps, 1)
        figures[f"server_cpu_us_per_event_{name}"] = round(run.cpu_us_per_event, 2)
        if run.database_cpu_us_per_event is not None:
            figures[f"database_cpu_us_per_event_{name}"] = round(run.database_cpu_us_per_event, 2)
        figures[f"p50_ms_{name}"] = round(run.load.p50_ms, 3)
        figures[f"p99_ms_{name}"] = round(run.load.p99_ms, 3)
    document = {
        "figures": figures,
        "targets": {
            "events_per_s_sqlite": TARGET_EVENTS_PER_S,
            "events_per_s_postgres": TARGET_EVENTS_PER_S,
        },
        # The baseline: the bare endpoint's requests/s, served the same way.
        "baselines": {
            f"{kind}_per_s_{backend}": "bare_rps"
            for kind in ("events", "batches")
            for backend in ("sqlite", "postgres")
        },
        "machine": machine_description(
            f"load: asyncio keep-alive client, {args.connections} connections"
        ),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"Wrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
