"""The PostgreSQL server the benchmarks run against: its version, the CPU its processes use on
this machine, and pgbench's tps on it (a yardstick measured in the same run)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from glob import glob

import asyncpg

from bench._proc import processes
from bench.events import PG_SERVER, scratch_postgres


def cpu_seconds() -> float | None:
    """CPU time used so far by every PostgreSQL process on this machine (its backends and
    background processes), or None where /proc does not show them."""
    found = [process for process in processes().values() if process.name.startswith("postgres")]
    return sum(process.cpu_seconds for process in found) if found else None


def pgbench_binary() -> str:
    """pgbench from PATH or the PostgreSQL installation."""
    found = shutil.which("pgbench") or next(
        iter(sorted(glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError("pgbench not found (it comes with the postgresql package)")
    return found


def run_pgbench(*, clients: int, seconds: int) -> float:
    """pgbench -i (scale 1) then tpcb-like for `seconds` on a scratch database; its tps."""
    binary = pgbench_binary()
    with scratch_postgres() as url:
        database = url.rsplit("/", 1)[1]
        plain = PG_SERVER.removeprefix("postgresql://")
        user, _, hostport = plain.rpartition("@")
        host, _, port = hostport.partition(":")
        connect = ["-h", host, "-p", port or "5432", "-U", user or "postgres"]
        subprocess.run(
            [binary, "-i", "-q", "-s", "1", *connect, database], check=True, capture_output=True
        )
        threads = max(1, min(clients, os.cpu_count() or 1))
        command = [binary, "-b", "tpcb-like", "-c", str(clients), "-j", str(threads)]
        command += ["-T", str(seconds), *connect, database]
        output = subprocess.run(
            command,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    match = match or re.search(r"tps = ([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"could not read pgbench's output:\n{output}")
    return float(match.group(1))


def server_version() -> str:
    """The PostgreSQL server's version."""

    async def version() -> str:
        connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()

    return asyncio.run(version())
