"""Ledger throughput: balanced transfers/s posted through the ledger service from one process,
one transfer per unit of work, on SQLite (a temporary file) and PostgreSQL (a temporary
database), each against a baseline measured in the same run on the same engine: a bare INSERT of
one row per transaction. The CPU time this process spends per operation (time.process_time, all
its threads) is reported beside each rate: on a shared machine it moves less than the rates do;
so is the CPU time of PostgreSQL's processes per operation, when they run on this machine (read
from /proc). The service runs on the event loop Granian serves the app on (uvloop, when it is
installed); `--loop asyncio` measures on asyncio's own.

    .venv/bin/python -m bench.ledger [--transfers 6000] [--concurrency 16] [--accounts 1000]
        [--loop uvloop|asyncio]

Writes bench/results/ledger.json.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench._postgres import cpu_seconds as postgres_cpu_seconds
from bench._postgres import server_version
from clipcart.core.db import create_engine
from clipcart.core.migrations import upgrade_to_head
from clipcart.core.money import Money
from clipcart.ledger import service
from clipcart.ledger.domain import AccountKey, AccountKind, Owner, TransferKind, simple_transfer

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "ledger.json"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGETS = {"transfers_per_s_postgres": 2000}
console = Console()

Work = Callable[[AsyncSession, int], Awaitable[None]]


@dataclass(frozen=True)
class Rates:
    """Operations per second of the ledger and of the bare-INSERT baseline on one database,
    and this process's CPU time per operation of each."""

    transfers_per_s: float
    baseline_per_s: float
    transfer_cpu_us: float
    baseline_cpu_us: float
    transfer_database_cpu_us: float | None
    baseline_database_cpu_us: float | None
    transfers: int
    verified: bool


@dataclass(frozen=True)
class Round:
    """One measured round: operations per second and CPU microseconds per operation, of this
    process and of PostgreSQL's processes (None when they cannot be read here)."""

    per_s: float
    cpu_us: float
    database_cpu_us: float | None


async def _run(
    sessions: async_sessionmaker[AsyncSession],
    work: Work,
    count: int,
    concurrency: int,
    *,
    postgres: bool,
) -> Round:
    """Run `work` `count` times, each in its own transaction, from `concurrency` tasks."""
    next_number = iter(range(count))

    async def worker() -> None:
        for number in next_number:
            async with sessions() as session:
                await work(session, number)
                await session.commit()

    database_started = postgres_cpu_seconds() if postgres else None
    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu = time.process_time() - cpu_started
    elapsed = time.perf_counter() - started
    database_ended = postgres_cpu_seconds() if postgres else None
    database_cpu_us = (
        (database_ended - database_started) / count * 1e6
        if database_started is not None and database_ended is not None
        else None
    )
    return Round(count / elapsed, cpu / count * 1e6, database_cpu_us)


def _mean(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) / len(known) if known and len(known) == len(values) else None


async def measure(url: str, *, transfers: int, concurrency: int, accounts: int) -> Rates:
    """Baseline and ledger, interleaved twice, on one engine."""
    engine = create_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    postgres = url.startswith("postgresql")
    try:
        async with sessions() as session:
            await session.execute(
                text("CREATE TABLE bench_baseline (id UUID PRIMARY KEY, n BIGINT NOT NULL)")
            )
            keys = [
                AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(uuid.uuid4()), "USD")
                for _ in range(accounts)
            ]
            created = await service.get_or_create_accounts(keys, session=session)
            await session.commit()
        ids = [created[key].id for key in keys]
        rng = random.Random(1)
        run_id = uuid.uuid4().hex[:8]
        insert = text("INSERT INTO bench_baseline (id, n) VALUES (:id, :n)")

        async def baseline(session: AsyncSession, number: int) -> None:
            # SQLite stores UUIDs as hex text, PostgreSQL as uuid: bind what each expects.
            value = uuid.uuid4()
            bound: Any = value if postgres else value.hex
            await session.execute(insert, {"id": bound, "n": number})

        def ledger(round_name: str) -> Work:
            async def post(session: AsyncSession, number: int) -> None:
                debit, credit = rng.sample(ids, 2)
                draft = simple_transfer(
                    f"bench-{run_id}-{round_name}-{number}",
                    TransferKind.ADJUSTMENT,
                    debit=debit,
                    credit=credit,
                    amount=Money(rng.randint(1, 100_000), "USD"),
                    memo="bench",
                )
                await service.post_transfer(draft, session=session)

            return post

        warmup = max(transfers // 20, 50)
        await _run(sessions, baseline, warmup, concurrency, postgres=postgres)
        await _run(sessions, ledger("warmup"), warmup, concurrency, postgres=postgres)
        baseline_rates: list[Round] = []
        ledger_rates: list[Round] = []
        for round_number in range(2):
            baseline_rates.append(
                await _run(sessions, baseline, transfers, concurrency, postgres=postgres)
            )
            ledger_rates.append(
                await _run(
                    sessions, ledger(f"r{round_number}"), transfers, concurrency, postgres=postgres
                )
            )
        async with sessions() as session:
            verified = await service.verify_ledger(session=session) == []
        return Rates(
            transfers_per_s=sum(r.per_s for r in ledger_rates) / len(ledger_rates),
            baseline_per_s=sum(r.per_s for r in baseline_rates) / len(baseline_rates),
            transfer_cpu_us=sum(r.cpu_us for r in ledger_rates) / len(ledger_rates),
            baseline_cpu_us=sum(r.cpu_us for r in baseline_rates) / len(baseline_rates),
            transfer_database_cpu_us=_mean([r.database_cpu_us for r in ledger_rates]),
            baseline_database_cpu_us=_mean([r.database_cpu_us for r in baseline_rates]),
            transfers=2 * transfers,
            verified=verified,
        )
    finally:
        await engine.dispose()


async def _postgres_admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _run_on_loop(loop: str, work: Coroutine[Any, Any, Rates]) -> Rates:
    """Run `work` on the named event loop."""
    if loop == "uvloop":
        import uvloop

        return uvloop.run(work)
    return asyncio.run(work)


def _default_loop() -> str:
    """uvloop when installed: Granian (loop "auto") serves the app on it then."""
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def bench_sqlite(args: argparse.Namespace) -> Rates:
    """On a fresh SQLite file (WAL, synchronous=NORMAL as the app configures it)."""
    with tempfile.TemporaryDirectory(prefix="clipcart-bench-ledger-") as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'ledger.db'}"
        upgrade_to_head(url)
        return _run_on_loop(
            args.loop,
            measure(
                url,
                transfers=args.transfers,
                concurrency=args.sqlite_concurrency,
                accounts=args.accounts,
            ),
        )


def bench_postgres(args: argparse.Namespace) -> Rates:
    """On a temporary PostgreSQL database, created and dropped here."""
    database = f"clipcart_bench_ledger_{uuid.uuid4().hex[:10]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{database}"'))
    try:
        url = POSTGRES_ADMIN.replace("postgresql:", "postgresql+asyncpg:").rsplit("/", 1)[0]
        url = f"{url}/{database}"
        upgrade_to_head(url)
        return _run_on_loop(
            args.loop,
            measure(
                url,
                transfers=args.transfers,
                concurrency=args.concurrency,
                accounts=args.accounts,
            ),
        )
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def machine_description(postgres_version: str, args: argparse.Namespace) -> str:
    """CPU, cores, Python, PostgreSQL and the load shape, for the results file."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"PostgreSQL {postgres_version} on the same machine; "
        f"{args.concurrency} concurrent transactions on PostgreSQL, "
        f"{args.sqlite_concurrency} on SQLite, {args.accounts} accounts, {args.loop} event loop"
    )


def _optional(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def main() -> None:
    """Measure both databases, print the table, write the results file."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--transfers", type=int, default=6000, help="per measured round")
    parser.add_argument("--concurrency", type=int, default=16, help="PostgreSQL transactions")
    parser.add_argument("--sqlite-concurrency", type=int, default=1, help="SQLite transactions")
    parser.add_argument("--accounts", type=int, default=1000, help="accounts money moves between")
    parser.add_argument(
        "--loop", choices=("uvloop", "asyncio"), default=_default_loop(), help="event loop"
    )
    args = parser.parse_args()

    with console.status("SQLite: migrating and measuring..."):
        sqlite = bench_sqlite(args)
    with console.status("PostgreSQL: creating a database, migrating and measuring..."):
        postgres = bench_postgres(args)

    table = Table(title="Ledger: balanced transfers/s against a bare INSERT, one per transaction")
    columns = (
        "database",
        "transfers/s",
        "INSERT/s",
        "ratio",
        "CPU µs/transfer",
        "CPU µs/INSERT",
        "database CPU µs/transfer",
        "database CPU µs/INSERT",
        "check",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "database" else "right")
    for name, rates in (("PostgreSQL", postgres), ("SQLite", sqlite)):
        table.add_row(
            name,
            f"{rates.transfers_per_s:,.0f}",
            f"{rates.baseline_per_s:,.0f}",
            f"{rates.transfers_per_s / rates.baseline_per_s:.0%}",
            f"{rates.transfer_cpu_us:,.0f}",
            f"{rates.baseline_cpu_us:,.0f}",
            _optional(rates.transfer_database_cpu_us),
            _optional(rates.baseline_database_cpu_us),
            "verified" if rates.verified else "[red]DISCREPANCIES[/red]",
        )
    console.print(table)

    figures = {
        "transfers_per_s_postgres": round(postgres.transfers_per_s, 1),
        "transfers_per_s_sqlite": round(sqlite.transfers_per_s, 1),
        "baseline_inserts_per_s_postgres": round(postgres.baseline_per_s, 1),
        "baseline_inserts_per_s_sqlite": round(sqlite.baseline_per_s, 1),
        # Noise on a shared machine moves both numbers together; their ratio is steadier.
        "ledger_vs_baseline_postgres": round(postgres.transfers_per_s / postgres.baseline_per_s, 3),
        "ledger_vs_baseline_sqlite": round(sqlite.transfers_per_s / sqlite.baseline_per_s, 3),
        # CPU time of this process per operation (the database server's own CPU is not counted).
        "cpu_us_per_transfer_postgres": round(postgres.transfer_cpu_us, 1),
        "cpu_us_per_baseline_insert_postgres": round(postgres.baseline_cpu_us, 1),
        "cpu_us_per_transfer_sqlite": round(sqlite.transfer_cpu_us, 1),
        "cpu_us_per_baseline_insert_sqlite": round(sqlite.baseline_cpu_us, 1),
    }
    # PostgreSQL's own CPU per operation (all its processes on this machine), when readable.
    if postgres.transfer_database_cpu_us is not None:
        figures["database_cpu_us_per_transfer_postgres"] = round(
            postgres.transfer_database_cpu_us, 1
        )
    if postgres.baseline_database_cpu_us is not None:
        figures["database_cpu_us_per_baseline_insert_postgres"] = round(
            postgres.baseline_database_cpu_us, 1
        )
    for figure, target in TARGETS.items():
        verdict = "met" if figures[figure] >= target else "[red]missed[/red]"
        console.print(f"{figure}: {figures[figure]:,.0f} (target {target:,}) {verdict}")
    document: dict[str, Any] = {
        "figures": figures,
        "targets": TARGETS,
        "baselines": {
            f"transfers_per_s_{backend}": f"baseline_inserts_per_s_{backend}"
            for backend in ("postgres", "sqlite")
        },
        "machine": machine_description(server_version(), args),
        "notes": {
            "workload": "two-leg transfers between random accounts, each its own transaction",
            "baseline": "INSERT one row (uuid, bigint) per transaction on the same engine",
            "verified": {"postgres": postgres.verified, "sqlite": sqlite.verified},
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"Wrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
