"""Checkout throughput: orders placed and paid end to end through HTTP (POST /api/v1/checkout,
then POST /api/v1/checkout/{id}/pay: authorise + capture at the payment sandbox) by one
Granian worker, on PostgreSQL (a scratch database) and on SQLite (a temporary file), next to
pgbench's tpcb-like tps on the same PostgreSQL in the same run.

The payment sandbox runs as its own Granian process on the same database (it stands for the
card processor, which is somebody else's server in real life). Buyers (a bearer token, a
default address and a saved card each) are inserted in bulk before the run; each buyer loops
place -> pay over one keep-alive connection, on random variants of one product with plenty of
stock.

    .venv/bin/python -m bench.checkout [--seconds 10] [--warmup 2] [--connections 16]
        [--profile]   # also per-route server times from the request logs

Writes bench/results/checkout.json (figures orders_per_s_postgres, orders_per_s_sqlite,
p50_ms, p99_ms, pgbench_tps).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bench._commerce import Buyer, Stocked
from bench._http import REPO_ROOT, granian_server, machine_description
from bench._postgres import run_pgbench, server_version
from bench._proc import descendants, processes
from bench.events import PG_SERVER, scratch_postgres
from bench.http_baseline import clipcart_env

RESULTS = REPO_ROOT / "bench" / "results" / "checkout.json"
TARGETS = {"orders_per_s_postgres": 300}
VARIANTS = 20
console = Console()


# --- a small keep-alive HTTP/1.1 client (cheap for the load generator on a 2-core machine) ---


class Connection:
    """One keep-alive connection that sends JSON requests and reads JSON answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        """Connect to `base_url` (http://host:port)."""
        host, _, port = base_url.removeprefix("http://").partition(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer, f"{host}:{port}")

    async def post(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, Any]:
        """POST `body` as JSON; the status and the decoded answer."""
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}", "Accept: application/json"]
        head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        response_head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(response_head.split(b" ", 2)[1])
        length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", response_head)
        if length is None:
            raise RuntimeError("response without Content-Length")
        answer = await self.reader.readexactly(int(length.group(1)))
        return status, json.loads(answer) if answer else None

    def close(self) -> None:
        """Close the socket."""
        self.writer.close()


# --- seeding ------------------------------------------------------------------------------


def seed(
    database_url: str, *, buyers: int, stock: int, variants: int = VARIANTS
) -> tuple[Stocked, list[Buyer]]:
    """Migrate a fresh database; a shop with one product of `variants` variants, and buyers."""
    from clipcart.core.migrations import upgrade_to_head

    upgrade_to_head(database_url)
    return asyncio.run(_seed(database_url, buyers=buyers, stock=stock, variants=variants))


async def _seed(
    database_url: str, *, buyers: int, stock: int, variants: int
) -> tuple[Stocked, list[Buyer]]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bench._commerce import seed_buyers, seed_shop
    from clipcart.core.db import create_engine
    from clipcart.models import load_all_models

    load_all_models()
    engine = create_engine(database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            stocked = await seed_shop(stock=stock, variants=variants, session=session)
            people = await seed_buyers(buyers, session=session)
            await session.commit()
        return stocked, people
    finally:
        await engine.dispose()


# --- the load -----------------------------------------------------------------------------


@dataclass
class CheckoutRun:
    """What one measured run of place + pay did."""

    seconds: float = 0.0
    paid: int = 0
    latencies: list[float] = field(default_factory=list)  # place + pay, seconds
    place_latencies: list[float] = field(default_factory=list)
    pay_latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def orders_per_s(self) -> float:
        """Orders placed and paid per second."""
        return self.paid / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float, values: list[float] | None = None) -> float:
        """A latency percentile of place + pay (or of `values`), in ms."""
        ordered = sorted(self.latencies if values is None else values)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def quote_total(base_url: str, stocked: Stocked, buyer: Buyer) -> int:
    """The grand total every buyer sees for one unit (same address, same price)."""
    body = {
        "items": [{"variant_id": str(stocked.variant_id), "quantity": 1}],
        "address_id": str(buyer.address_id),
    }
    response = httpx.post(
        f"{base_url}/api/v1/checkout/quote", json=body, headers=buyer.headers, timeout=30
    )
    if response.status_code != 200:
        raise RuntimeError(f"quote failed: {response.status_code} {response.text}")
    return int(response.json()["grand_total"]["amount"])


async def _checkout_load(
    base_url: str,
    stocked: Stocked,
    buyers: list[Buyer],
    *,
    expected_total: int,
    connections: int,
    seconds: float,
) -> CheckoutRun:
    run = CheckoutRun()
    chooser = random.Random(11)
    started = time.perf_counter()
    deadline = started + seconds

    async def client(buyer: Buyer) -> None:
        connection = await Connection.open(base_url)
        try:
            while time.perf_counter() < deadline:
                variant = chooser.choice(stocked.variant_ids)
                body = {
                    "items": [{"variant_id": str(variant), "quantity": 1}],
                    "address_id": str(buyer.address_id),
                    "payment_method": buyer.card_token,
                    "expected_total": expected_total,
                }
                headers = buyer.headers | {"Idempotency-Key": uuid.uuid4().hex}
                sent = time.perf_counter()
                status, answer = await connection.post("/api/v1/checkout", body, headers)
                placed = time.perf_counter()
                if status != 201:
                    run.failures[f"checkout {status} {_code(answer)}"] += 1
                    continue
                headers = buyer.headers | {"Idempotency-Key": uuid.uuid4().hex}
                path = f"/api/v1/checkout/{answer['checkout_id']}/pay"
                status, answer = await connection.post(path, {}, headers)
                done = time.perf_counter()
                statuses = [order.get("status") for order in (answer or {}).get("orders", [])]
                if status != 200 or statuses != ["paid"]:
                    run.failures[f"pay {status} {_code(answer) or statuses}"] += 1
                    continue
                run.paid += 1
                run.latencies.append(done - sent)
                run.place_latencies.append(placed - sent)
                run.pay_latencies.append(done - placed)
        finally:
            connection.close()

    await asyncio.gather(*(client(buyer) for buyer in buyers[:connections]))
    run.seconds = time.perf_counter() - started
    return run


def _code(answer: Any) -> str:
    return str(answer.get("code", "")) if isinstance(answer, dict) else ""


def checkout_load(base_url: str, *args: Any, **kwargs: Any) -> CheckoutRun:
    """Keep `connections` buyers placing and paying orders for `seconds`."""
    return asyncio.run(_checkout_load(base_url, *args, **kwargs))


@dataclass(frozen=True)
class Measured:
    """One database's measured run, the CPU it cost and what the server logs say about it."""

    run: CheckoutRun
    route_ms: dict[str, tuple[int, float]]  # route -> (requests, mean server ms)
    cpu_seconds: dict[str, float]  # "app" / "sandbox" process CPU during the measured run
    transactions: int | None  # PostgreSQL commits during the measured run

    def per_order(self, value: float | None) -> float | None:
        """`value` divided by the orders paid."""
        return None if value is None or not self.run.paid else value / self.run.paid


def server_cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) used so far by this process's descendants: ClipCart's
    server ("app": its environment names the sandbox URL) and the sandbox's."""
    table = processes()
    totals = {"app": 0.0, "sandbox": 0.0}
    for pid in descendants(os.getpid(), table):
        try:
            environ = (Path("/proc") / str(pid) / "environ").read_bytes()
        except OSError:
            continue
        if b"CLIPCART_DATA_DIR=" not in environ:
            continue  # not a server (pgbench, a shell)
        role = "app" if b"CLIPCART_PAYMENTS_SANDBOX_URL=" in environ else "sandbox"
        totals[role] += table[pid].cpu_seconds
    return totals


def postgres_commits(database_url: str) -> int | None:
    """Transactions committed in the database so far (PostgreSQL's statistics)."""
    if not database_url.startswith("postgresql"):
        return None
    import asyncpg

    name = database_url.rsplit("/", 1)[1]

    async def commits() -> int:
        connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            await connection.execute("SELECT pg_stat_clear_snapshot()")
            value = await connection.fetchval(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = $1", name
            )
            return int(value or 0)
        finally:
            await connection.close()

    return asyncio.run(commits())


@contextmanager
def clipcart_servers(
    database_url: str, data_dir: Path, *, profile: bool
) -> Iterator[tuple[str, Path, Path]]:
    """The payment sandbox (its own process), then ClipCart pointed at it; yields ClipCart's
    URL and both log files (request logs at INFO with `profile`)."""
    level = "INFO" if profile else "WARNING"
    sandbox_dir, app_dir = data_dir / "sandbox", data_dir / "app"
    sandbox_dir.mkdir()
    app_dir.mkdir()
    sandbox_log, app_log = data_dir / "sandbox.log", data_dir / "app.log"
    sandbox_env = clipcart_env(sandbox_dir, log_level=level)
    sandbox_env["CLIPCART_DATABASE_URL"] = database_url
    with granian_server(
        "clipcart.app:create_app",
        factory=True,
        env=sandbox_env,
        log_path=sandbox_log,
        ready_path="/healthz",
    ) as sandbox:
        env = clipcart_env(app_dir, log_level=level)
        env["CLIPCART_DATABASE_URL"] = database_url
        env["CLIPCART_PAYMENTS_SANDBOX_URL"] = f"{sandbox}/sandbox"
        with granian_server(
            "clipcart.app:create_app",
            factory=True,
            env=env,
            log_path=app_log,
            ready_path="/healthz",
        ) as base:
            yield base, app_log, sandbox_log


def route_times(*logs: Path) -> dict[str, tuple[int, float]]:
    """Requests and mean server-side duration per route, from the JSON request logs."""
    durations: dict[str, list[float]] = defaultdict(list)
    for log in logs:
        if not log.exists():
            continue
        prefix = "sandbox " if log.name.startswith("sandbox") else ""
        for line in log.read_text(errors="replace").splitlines():
            if '"request"' not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("event") == "request" and "duration_ms" in record:
                key = f"{prefix}{record.get('method')} {record.get('route')}"
                durations[key].append(float(record["duration_ms"]))
    return {route: (len(values), statistics.fmean(values)) for route, values in durations.items()}


def measure(
    title: str, database_url: str, data_dir: Path, *, args: argparse.Namespace, profile: bool
) -> Measured:
    """Seed, serve (sandbox + ClipCart), warm up, then the measured run."""
    with console.status(f"{title}: seeding"):
        stocked, buyers = seed(database_url, buyers=args.connections, stock=1_000_000)
    with (
        console.status(f"{title}: placing and paying"),
        clipcart_servers(database_url, data_dir, profile=profile) as (base, app_log, sandbox_log),
    ):
        total = quote_total(base, stocked, buyers[0])
        load = {"expected_total": total, "connections": args.connections}
        checkout_load(base, stocked, buyers, seconds=args.warmup, **load)
        cpu_before, commits_before = server_cpu_seconds(), postgres_commits(database_url)
        run = checkout_load(base, stocked, buyers, seconds=args.seconds, **load)
        cpu_after = server_cpu_seconds()
        time.sleep(1.0)  # PostgreSQL flushes its statistics about once a second
        commits_after = postgres_commits(database_url)
    routes = route_times(app_log, sandbox_log) if profile else {}
    cpu = {role: cpu_after[role] - cpu_before[role] for role in cpu_after}
    commits = None
    if commits_before is not None and commits_after is not None:
        commits = commits_after - commits_before
    return Measured(run, routes, cpu, commits)


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    """Measure both databases and pgbench, print the tables, write the results file."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="discarded seconds first")
    parser.add_argument("--connections", type=int, default=16, help="concurrent buyers")
    parser.add_argument("--pgbench-clients", type=int, default=4)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--profile", action="store_true", help="per-route server times on PostgreSQL"
    )
    args = parser.parse_args()
    console.print(
        f"Load: {args.connections} buyers, each place -> pay in a loop on one keep-alive "
        f"connection; {args.warmup:g} s warm-up, {args.seconds:g} s measured; ClipCart in "
        "one Granian worker, the payment sandbox in another"
    )
    runs: dict[str, Measured] = {}
    with tempfile.TemporaryDirectory(prefix="clipcart-bench-checkout-") as temporary:
        root = Path(temporary)
        (root / "postgres").mkdir()
        with scratch_postgres() as postgres_url:
            runs["postgres"] = measure(
                "PostgreSQL", postgres_url, root / "postgres", args=args, profile=args.profile
            )
        if not args.skip_sqlite:
            (root / "sqlite").mkdir()
            sqlite_url = f"sqlite+aiosqlite:///{root / 'sqlite' / 'clipcart.db'}"
            runs["sqlite"] = measure(
                "SQLite", sqlite_url, root / "sqlite", args=args, profile=False
            )
    with console.status(f"pgbench tpcb-like, {args.pgbench_clients} clients"):
        pgbench_tps = run_pgbench(clients=args.pgbench_clients, seconds=args.pgbench_seconds)

    table = Table(title="Checkout: orders placed and paid per second through HTTP")
    columns = ("run", "orders/s", "p50 ms", "p99 ms", "place p50", "pay p50", "failures")
    for column in columns:
        table.add_column(column, justify="left" if column in {"run", "failures"} else "right")
    for name, measured in runs.items():
        run = measured.run
        table.add_row(
            name,
            f"{run.orders_per_s:,.1f}",
            f"{run.percentile_ms(0.5):.1f}",
            f"{run.percentile_ms(0.99):.1f}",
            f"{run.percentile_ms(0.5, run.place_latencies):.1f}",
            f"{run.percentile_ms(0.5, run.pay_latencies):.1f}",
            ", ".join(f"{k}: {v}" for k, v in run.failures.items()) or "none",
        )
    table.add_row("pgbench tpcb-like (tps)", f"{pgbench_tps:,.0f}", "", "", "", "", "")
    console.print(table)
    postgres = runs["postgres"]
    if postgres.route_ms:
        routes = Table(title="Server time per route on PostgreSQL (request logs)")
        for column in ("route", "requests", "mean ms"):
            routes.add_column(column, justify="left" if column == "route" else "right")
        for route, (count, mean) in sorted(postgres.route_ms.items(), key=lambda i: -i[1][0]):
            routes.add_row(route, f"{count:,}", f"{mean:.1f}")
        console.print(routes)
    for name, measured in runs.items():
        app_ms = measured.per_order(measured.cpu_seconds["app"] * 1000)
        sandbox_ms = measured.per_order(measured.cpu_seconds["sandbox"] * 1000)
        commits = measured.per_order(measured.transactions)
        console.print(
            f"{name}: ClipCart process CPU per order {app_ms or 0:.1f} ms, sandbox "
            f"{sandbox_ms or 0:.1f} ms"
            + (f", {commits:.1f} PostgreSQL transactions per order" if commits else "")
        )

    figures: dict[str, float] = {
        "orders_per_s_postgres": round(postgres.run.orders_per_s, 1),
        "p50_ms": round(postgres.run.percentile_ms(0.5), 1),
        "p99_ms": round(postgres.run.percentile_ms(0.99), 1),
        "pgbench_tps": round(pgbench_tps, 1),
    }
    if "sqlite" in runs:
        figures["orders_per_s_sqlite"] = round(runs["sqlite"].run.orders_per_s, 1)
        figures["p50_ms_sqlite"] = round(runs["sqlite"].run.percentile_ms(0.5), 1)
        figures["p99_ms_sqlite"] = round(runs["sqlite"].run.percentile_ms(0.99), 1)
    figures["place_p50_ms_postgres"] = round(
        postgres.run.percentile_ms(0.5, postgres.run.place_latencies), 1
    )
    figures["pay_p50_ms_postgres"] = round(
        postgres.run.percentile_ms(0.5, postgres.run.pay_latencies), 1
    )
    for name, measured in runs.items():
        app_ms = measured.per_order(measured.cpu_seconds["app"] * 1000)
        if app_ms is not None:
            figures[f"app_cpu_ms_per_order_{name}"] = round(app_ms, 1)
            # What one fully busy core would give, whatever else the machine was doing.
            figures[f"orders_per_cpu_s_{name}"] = round(1000 / app_ms, 1) if app_ms else 0.0
        sandbox_ms = measured.per_order(measured.cpu_seconds["sandbox"] * 1000)
        if sandbox_ms is not None:
            figures[f"sandbox_cpu_ms_per_order_{name}"] = round(sandbox_ms, 1)
        commits = measured.per_order(measured.transactions)
        if commits is not None:
            figures[f"pg_transactions_per_order_{name}"] = round(commits, 1)
    for figure, target in TARGETS.items():
        verdict = "met" if figures[figure] >= target else "[red]missed[/red]"
        console.print(f"{figure}: {figures[figure]:,.1f} (target {target:,}) {verdict}")
    document: dict[str, Any] = {
        "figures": figures,
        "targets": TARGETS,
        "baselines": {"orders_per_s_postgres": "pgbench_tps"},
        "machine": machine_description(
            f"PostgreSQL {server_version()} on the same machine",
            f"{args.connections} concurrent buyers (asyncio keep-alive clients)",
            "payment sandbox in a second Granian worker",
        ),
        "notes": {
            "failures": {name: dict(m.run.failures) for name, m in runs.items()},
            "pgbench": f"tpcb-like, scale 1, {args.pgbench_clients} clients, "
            f"{args.pgbench_seconds} s",
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"Wrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
