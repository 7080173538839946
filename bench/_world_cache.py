"""Shared by the feed benchmarks: generated worlds (clipcart.demo.world, media off), built once
and kept for reruns: SQLite files under ./var/bench/ and PostgreSQL databases named
clipcart_bench_feed_<size>; a trained recommender in each world's data directory.

A world is built in a child process (`python -m bench._world_cache ...`) because the generator
writes to the configured database (CLIPCART_DATABASE_URL), and one benchmark run uses several.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench._http import REPO_ROOT

CACHE_DIR = REPO_ROOT / "var" / "bench"
PG_SERVER = os.environ.get("CLIPCART_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
CLIPCART = str(Path(sys.executable).with_name("clipcart"))
SECRET_KEY = "bench-feed-secret-key-not-for-production"


@dataclass(frozen=True)
class World:
    """A built world: where it lives and what its generator reported."""

    backend: str  # "sqlite" or "postgres"
    label: str  # "100k" (videos), with the events and users when they are capped
    database_url: str
    data_dir: Path
    report: dict[str, Any]

    def env(self, *, log_level: str = "WARNING") -> dict[str, str | None]:
        """The settings a ClipCart process serving this world runs with."""
        return {
            "CLIPCART_ENVIRONMENT": "production",
            "CLIPCART_DATA_DIR": str(self.data_dir),
            "CLIPCART_DATABASE_URL": self.database_url,
            "CLIPCART_REDIS_URL": None,
            "CLIPCART_SECRET_KEY": SECRET_KEY,
            "CLIPCART_LOG_JSON": "true",
            "CLIPCART_LOG_LEVEL": log_level,
            "CLIPCART_JOBS_IMMEDIATE": "false",
        }

    @property
    def buyer(self) -> tuple[str, str]:
        """Email and password of the world's typical active buyer."""
        return str(self.report["buyer_email"]), str(self.report["buyer_password"])


def size_label(count: int) -> str:
    """10000 -> "10k", 1000000 -> "1m", 1500 -> "1.5k"."""
    for unit, scale in (("m", 1_000_000), ("k", 1_000)):
        if count >= scale:
            return f"{count / scale:g}{unit}"
    return str(count)


def world_size(videos: int, *, events: int | None = None, population: int | None = None) -> Any:
    """bench_world's shape for `videos`, with its events capped at `events` and its shops,
    products, creators and users capped at those of bench_world(`population`) when given
    (every video is still a row of its own, with its tags and counters)."""
    from clipcart.demo.world import bench_world

    size = bench_world(videos)
    if events:
        size = replace(size, events=min(size.events, events))
    if population:
        cap = bench_world(population)
        size = replace(
            size,
            shops=min(size.shops, cap.shops),
            products=min(size.products, cap.products),
            creators=min(size.creators, cap.creators),
            users=min(size.users, cap.users),
        )
    return size


def world_label(size: Any) -> str:
    """ "100k" for bench_world(100_000); with "_5mev" and "_50kusers" when the events or the
    population (shops, products, creators and users, capped together) are capped."""
    from clipcart.demo.world import bench_world

    label = size_label(size.videos)
    full = bench_world(size.videos)
    if size.events != full.events:
        label += f"_{size_label(size.events)}ev"
    if size.users != full.users:
        label += f"_{size_label(size.users)}users"
    return label


def ensure_world(backend: str, size: Any, *, echo: Any = print) -> World:
    """The world of `size` on `backend`, built now unless a previous run left it."""
    label = world_label(size)
    key = label.replace(".", "_")
    data_dir = CACHE_DIR / f"feed_{backend}_{key}"
    data_dir.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir / 'clipcart.db'}"
    else:
        name = f"clipcart_bench_feed_{key}"
        asyncio.run(_create_database(name))
        url = f"{PG_SERVER.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    command = [sys.executable, "-m", "bench._world_cache", "--url", url]
    command += ["--data-dir", str(data_dir), "--size", json.dumps(size.as_dict())]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    except BaseException:  # interrupted: what was written is not a world
        _forget(backend, url, data_dir)
        raise
    if done.returncode != 0:
        _forget(backend, url, data_dir)
        raise RuntimeError(f"building the {label} world on {backend} failed")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    how = "built" if report["built_now"] else "reused"
    took = time.perf_counter() - started
    echo(f"{backend} world {label}: {how} in {took:.1f} s {report['counts']}")
    if report["built_now"]:
        echo(f"  build phases (s): {report['phases']}")
    return World(backend, label, url, data_dir, report)


def _forget(backend: str, url: str, data_dir: Path) -> None:
    """Remove a half-built world, so that the next run builds it from the start."""
    if backend == "sqlite":
        Path(url.removeprefix("sqlite+aiosqlite:///")).unlink(missing_ok=True)
        return
    name = url.rpartition("/")[2]

    async def drop() -> None:
        connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


async def _create_database(name: str) -> None:
    connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def train(world: World, *, again: bool = False, echo: Any = print) -> str:
    """Train the recommender from the world's event log (`clipcart train`), unless a model
    trained on this world is there already (the world does not change); what happened."""
    pointer = world.data_dir / "models" / "recs" / "current.json"
    if pointer.exists() and not again:
        note = f"model trained earlier on this world ({pointer.relative_to(REPO_ROOT)})"
        echo(f"{world.backend} world {world.label}: {note}")
        return note
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLIPCART_")}
    env |= {key: value for key, value in world.env().items() if value is not None}
    started = time.perf_counter()
    done = subprocess.run(
        [CLIPCART, "train"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0 and "No such command" in done.stderr:
        note = "`clipcart train` does not exist yet: served without a trained model"
    elif done.returncode != 0:
        raise RuntimeError(f"clipcart train failed:\n{done.stdout}\n{done.stderr}")
    else:
        note = f"trained in {time.perf_counter() - started:.1f} s"
    echo(f"{world.backend} world {world.label}: {note}")
    return note


def log_in(base_url: str, email: str, password: str) -> dict[str, str]:
    """Log in through the API; the headers of the logged-in browser (its cookies and its CSRF
    token, which unsafe requests need)."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        csrf = client.get("/api/v1/auth/csrf").json()["csrf_token"]
        answer = client.post(
            "/api/v1/auth/login",
            json={"email": email, "password": password},
            headers={"X-CSRF-Token": csrf},
        )
        if answer.status_code != 200:
            raise RuntimeError(f"login failed: {answer.status_code} {answer.text}")
        cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return {"Cookie": cookies, "X-CSRF-Token": answer.json()["csrf_token"]}


def _build(url: str, data_dir: str, size_json: str) -> None:
    """In the child: migrate, build (or find) the world, print its report as the last line."""
    os.environ |= {
        "CLIPCART_DATABASE_URL": url,
        "CLIPCART_DATA_DIR": data_dir,
        "CLIPCART_SECRET_KEY": SECRET_KEY,
        "CLIPCART_LOG_LEVEL": "WARNING",
    }
    os.environ.pop("CLIPCART_REDIS_URL", None)
    from dataclasses import asdict

    from clipcart.core.db import dispose_engine
    from clipcart.core.migrations import upgrade_to_head
    from clipcart.demo.world import WorldSize, build_world

    upgrade_to_head(url)
    size = WorldSize(**json.loads(size_json))
    last = [0.0]

    def progress(phase: str, done: int, total: int) -> None:
        if time.monotonic() - last[0] > 5 or done == total:
            last[0] = time.monotonic()
            print(f"  {phase}: {done:,}/{total:,}", file=sys.stderr, flush=True)

    async def run() -> dict[str, Any]:
        try:
            return asdict(await build_world(size, progress=progress))
        finally:
            await dispose_engine()

    print(json.dumps(asyncio.run(run()), default=str))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Build one world (used by the feed benches).")
    parser.add_argument("--url", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--size", required=True, help="the WorldSize as JSON")
    arguments = parser.parse_args()
    _build(arguments.url, arguments.data_dir, arguments.size)
