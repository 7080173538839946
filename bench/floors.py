"""Floors: how far one server process on this machine can go at best on the shape of work each
speed target measures, so that a target out of reach is shown out of reach rather than argued.

Each floor is bench/_floor_app.py: FastAPI on one Granian worker, like ClipCart, doing only the
database work its request cannot do without (asyncpg, no ORM, no validation, no middleware, no
logging), on a scratch PostgreSQL database migrated to ClipCart's schema. Measured in the same run
as the bare endpoint of bench/http_baseline.py:

- For You (issue 5, ratio >= 0.40, p99 <= 25 ms at 16 clients): one indexed read per request, the
  caller's session, which any signed-in page needs before it ranks anything.
- The flash sale (issue 6, sold-out p99 <= 50 ms at 50 clients): the caller and the stock read in
  one transaction, then 409 sold out.
- Events (issue 4, 50,000 events/s): batches of 100 of bench/events.py's events inserted into
  recs_events as they came (its real indexes), one statement, nothing else; and the same on
  SQLite, the embedded default (bench/_floor_sqlite_app.py: one aiosqlite connection, one
  transaction at a time, so no writer ever waits on SQLite's lock).

And ClipCart's own GET /healthz (its middleware stack, no database), the least any ClipCart
request costs, against the same bare endpoint.

    .venv/bin/python -m bench.floors [--seconds 8] [--warmup 2]

Writes bench/results/floors.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import secrets
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table

from bench._http import REPO_ROOT, LoadResult, granian_server, machine_description, run_load
from bench.events import (
    IngestResult,
    database_backends,
    make_bodies,
    post_load,
    scratch_postgres,
)
from bench.http_baseline import clipcart_env, serve_and_measure

RESULTS = REPO_ROOT / "bench" / "results" / "floors.json"
CALLERS = 5000
console = Console()


async def _prepare(database_url: str) -> tuple[list[str], uuid.UUID]:
    """The floor tables: CALLERS tokens by hash, one sold-out variant; the raw tokens."""
    tokens = [secrets.token_urlsafe(32) for _ in range(CALLERS)]
    variant_id = uuid.uuid4()
    connection = await asyncpg.connect(database_url.replace("+asyncpg", "", 1))
    try:
        await connection.execute(
            "CREATE TABLE floor_tokens (token_hash text PRIMARY KEY, user_id uuid NOT NULL);"
            "CREATE TABLE floor_stock (variant_id uuid PRIMARY KEY, available integer NOT NULL)"
        )
        await connection.copy_records_to_table(
            "floor_tokens",
            records=[(hashlib.sha256(t.encode()).hexdigest(), uuid.uuid4()) for t in tokens],
        )
        await connection.execute("INSERT INTO floor_stock VALUES ($1, 0)", variant_id)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return tokens, variant_id


async def _refusals(
    url: str, tokens: list[str], variant_id: uuid.UUID, *, connections: int, seconds: float
) -> LoadResult:
    """`connections` clients posting sold-out checkouts, each as the next caller."""
    host, _, rest = url.removeprefix("http://").partition(":")
    port, _, path = rest.partition("/")
    body = json.dumps({"items": [{"variant_id": str(variant_id), "quantity": 1}]}).encode()
    callers = iter(tokens * 1000)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline:
                head = (
                    f"POST /{path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"Authorization: Bearer {next(callers)}\r\nContent-Type: application/json\r\n"
                    f"Idempotency-Key: {uuid.uuid4().hex}\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode()
                sent = time.perf_counter()
                writer.write(head + body)
                answer = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", answer)
                await reader.readexactly(int(length.group(1)) if length else 0)
                latencies.append(time.perf_counter() - sent)
                if int(answer.split(b" ", 2)[1]) != 409:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    return LoadResult.of(latencies, seconds=time.perf_counter() - started, errors=errors)


def _sqlite_events_floor(path: Path, *, args: argparse.Namespace) -> IngestResult:
    """The events floor on a SQLite file migrated to ClipCart's schema."""
    from clipcart.core.migrations import upgrade_to_head

    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    env = {"FLOOR_SQLITE_PATH": str(path)}
    with (
        console.status("events floor on SQLite"),
        granian_server("bench._floor_sqlite_app:app", env=env, ready_path="/healthz") as base,
    ):
        bodies = make_bodies([uuid.uuid4() for _ in range(200)], 6000)
        post_load(base + "/floor/events", bodies[:200], connections=16, seconds=args.warmup)
        return post_load(base + "/floor/events", bodies[200:], connections=16, seconds=args.seconds)


def main() -> None:
    """Measure the bare endpoint and the three floors, print the table, write the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()
    load = {"connections": 16, "warmup": args.warmup, "seconds": args.seconds}
    bare = serve_and_measure(
        "bare: FastAPI, one JSON route, no middleware", "bench._bare_app:app", "/ok", load=load
    )
    with tempfile.TemporaryDirectory(prefix="clipcart-bench-floors-") as data_dir:
        stack = serve_and_measure(
            "ClipCart's stack: GET /healthz",
            "clipcart.app:create_app",
            "/healthz",
            load=load,
            env=clipcart_env(Path(data_dir), log_level="WARNING"),
        )
    with scratch_postgres() as database_url:
        from clipcart.core.migrations import upgrade_to_head

        upgrade_to_head(database_url)
        tokens, variant_id = asyncio.run(_prepare(database_url))
        env = {"FLOOR_DATABASE_URL": database_url.replace("+asyncpg", "", 1)}
        with (
            console.status("floors"),
            granian_server("bench._floor_app:app", env=env, ready_path="/healthz") as base,
        ):
            headers = {"Authorization": f"Bearer {tokens[0]}"}
            run_load(base + "/floor/read", connections=16, seconds=args.warmup, headers=headers)
            read = run_load(
                base + "/floor/read", connections=16, seconds=args.seconds, headers=headers
            )
            refuse = {"connections": 50, "seconds": args.warmup}
            asyncio.run(_refusals(base + "/floor/refuse", tokens, variant_id, **refuse))
            refuse["seconds"] = args.seconds
            refused = asyncio.run(_refusals(base + "/floor/refuse", tokens, variant_id, **refuse))
            bodies = make_bodies([uuid.uuid4() for _ in range(200)], 6000)
            post_load(base + "/floor/events", bodies[:200], connections=16, seconds=args.warmup)
            stored = post_load(
                base + "/floor/events",
                bodies[200:],
                connections=16,
                seconds=args.seconds,
                database_pids=database_backends(database_url),
            )
    with tempfile.TemporaryDirectory(prefix="clipcart-bench-floors-sqlite-") as sqlite_dir:
        stored_sqlite = _sqlite_events_floor(Path(sqlite_dir) / "floor.db", args=args)
    for name, run in (
        ("read", read),
        ("refuse", refused),
        ("events", stored.load),
        ("events on SQLite", stored_sqlite.load),
    ):
        if run.errors:
            raise RuntimeError(f"floor {name}: {run.errors} unexpected answers")

    figures: dict[str, Any] = {
        "bare_rps": round(bare.rps, 1),
        "clipcart_healthz_rps": round(stack.rps, 1),
        "clipcart_healthz_ratio": round(stack.rps / bare.rps, 3),
        "floor_read_rps": round(read.rps, 1),
        "floor_read_ratio": round(read.rps / bare.rps, 3),
        "floor_read_p99_ms": round(read.p99_ms, 2),
        "floor_refuse_rps": round(refused.rps, 1),
        "floor_refuse_p50_ms": round(refused.p50_ms, 2),
        "floor_refuse_p99_ms": round(refused.p99_ms, 2),
        "floor_events_per_s": round(stored.events_per_s, 1),
        "floor_events_server_cpu_us_per_event": round(stored.cpu_us_per_event, 2),
        "floor_events_database_cpu_us_per_event": round(stored.database_cpu_us_per_event or 0, 2),
        "floor_events_per_s_sqlite": round(stored_sqlite.events_per_s, 1),
        "floor_events_server_cpu_us_per_event_sqlite": round(stored_sqlite.cpu_us_per_event, 2),
    }
    table = Table(title="Floors: the least work of each target's request, one Granian worker")
    for column in ("floor", "clients", "requests/s", "p50 ms", "p99 ms", "figure", "target"):
        table.add_column(column, justify="left" if column == "floor" else "right")
    table.add_row(
        "bare JSON endpoint",
        "16",
        f"{bare.rps:,.0f}",
        f"{bare.p50_ms:.2f}",
        f"{bare.p99_ms:.2f}",
        "",
        "",
    )
    table.add_row(
        "ClipCart's stack, GET /healthz (no database)",
        "16",
        f"{stack.rps:,.0f}",
        f"{stack.p50_ms:.2f}",
        f"{stack.p99_ms:.2f}",
        f"ratio {stack.rps / bare.rps:.3f}",
        "",
    )
    table.add_row(
        "one indexed read (For You)",
        "16",
        f"{read.rps:,.0f}",
        f"{read.p50_ms:.2f}",
        f"{read.p99_ms:.2f}",
        f"ratio {read.rps / bare.rps:.3f}",
        "ratio >= 0.40",
    )
    table.add_row(
        "caller + stock read, 409 (flash sale)",
        "50",
        f"{refused.rps:,.0f}",
        f"{refused.p50_ms:.2f}",
        f"{refused.p99_ms:.2f}",
        f"p99 {refused.p99_ms:.1f} ms",
        "p99 <= 50 ms",
    )
    table.add_row(
        "insert 100 events as sent (events)",
        "16",
        f"{stored.load.rps:,.0f}",
        f"{stored.load.p50_ms:.2f}",
        f"{stored.load.p99_ms:.2f}",
        f"{stored.events_per_s:,.0f} events/s",
        ">= 50,000 events/s",
    )
    table.add_row(
        "the same on SQLite (events)",
        "16",
        f"{stored_sqlite.load.rps:,.0f}",
        f"{stored_sqlite.load.p50_ms:.2f}",
        f"{stored_sqlite.load.p99_ms:.2f}",
        f"{stored_sqlite.events_per_s:,.0f} events/s",
        ">= 50,000 events/s",
    )
    console.print(table)
    console.print(
        f"Events floor CPU: server {stored.cpu_us_per_event:.1f} µs/event, PostgreSQL backends "
        f"{stored.database_cpu_us_per_event or 0:.1f} µs/event; on SQLite the server "
        f"{stored_sqlite.cpu_us_per_event:.1f} µs/event (SQLite works inside it)."
    )
    document = {
        "figures": figures,
        "targets": {
            "floor_read_ratio": 0.40,
            "floor_refuse_p99_ms": 50,
            "floor_events_per_s": 50_000,
            "floor_events_per_s_sqlite": 50_000,
        },
        "baselines": {"floor_read_rps": "bare_rps", "clipcart_healthz_rps": "bare_rps"},
        "machine": machine_description("asyncio keep-alive clients", "one Granian worker"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"Wrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
