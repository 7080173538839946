"""For You under load: requests/s, p50 and p99 of GET /api/v1/feed?tab=for_you for a logged-in
user with a warm model, one Granian process, 16 keep-alive clients, on a generated world
(clipcart.demo.world, media off; 100,000 videos by default) on SQLite and on PostgreSQL, next to
the bare JSON endpoint in the same run; then the scale curve: p50 on worlds of 10k, 100k and
1M videos. What grows along the curve is the number of videos: every video is a real row with
its tags, hashtags and counters, but a scale-curve world's events are capped (--scale-events,
5M: the 100k world's) and so are its shops, products, creators and users (--scale-population:
no more than the 100k world's 400 shops, 20k products, 2k creators and 50k users), so that the
1M world builds in minutes rather than hours. Both caps are written to the results' notes.

    .venv/bin/python -m bench.feed [--videos 100000] [--backends sqlite,postgres]
        [--scale 10000,100000,1000000] [--scale-backend sqlite] [--scale-events 5000000]
        [--scale-population 100000] [--seconds 10] [--warmup 2] [--connections 16]

Worlds are built once and kept (./var/bench/, databases clipcart_bench_feed_<size>); the model
is trained (`clipcart train`) before each server starts. Writes bench/results/feed.json.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bench._http import (
    REPO_ROOT,
    LoadResult,
    granian_server,
    load_generator_name,
    machine_description,
    run_load,
)
from bench._world_cache import World, ensure_world, log_in, size_label, train, world_size
from bench.http_baseline import serve_and_measure

RESULTS = REPO_ROOT / "bench" / "results" / "feed.json"
FEED_PATH = "/api/v1/feed?tab=for_you"
TARGET_P99_MS = 25.0
TARGET_RATIO = 0.40
TARGET_SCALE = 1.5  # p50 at 1M videos <= 1.5 x p50 at 10k
console = Console(width=120)


def measure_feed(
    world: World, *, retrain: bool, connections: int, warmup: float, seconds: float
) -> LoadResult:
    """Train, serve the world from one Granian process, log in its buyer, load For You."""
    notes = train(world, again=retrain, echo=console.print)
    world.report.setdefault("notes", []).append(notes)
    with (
        console.status(f"For You on {world.backend}, {world.label} videos"),
        granian_server(
            "clipcart.app:create_app",
            factory=True,
            env=world.env(),
            log_path=world.data_dir / "server.log",
            ready_path="/healthz",
        ) as base,
    ):
        headers = log_in(base, *world.buyer)
        first = httpx.get(base + FEED_PATH, headers=headers, timeout=60)
        if first.status_code != 200 or not first.json()["items"]:
            raise RuntimeError(f"For You answered {first.status_code}: {first.text[:300]}")
        items = first.json()["items"]
        console.print(
            f"{world.backend} {world.label}: first page {len(items)} items, "
            f"{sum(1 for item in items if item['products'])} shoppable, "
            f"{len({item['creator']['id'] for item in items})} creators"
        )
        url = base + FEED_PATH
        run_load(url, connections=connections, seconds=warmup, headers=headers)
        result = run_load(url, connections=connections, seconds=seconds, headers=headers)
    if result.errors:
        raise RuntimeError(f"{result.errors} failed feed requests on {world.backend}")
    return result


def main() -> None:
    """Measure, print the table and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=100_000, help="videos in the main world")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument(
        "--scale",
        default="10000,100000,1000000",
        help="scale curve video counts ('' = none)",
    )
    parser.add_argument("--scale-backend", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument(
        "--scale-events", type=int, default=5_000_000, help="most events in a scale-curve world"
    )
    parser.add_argument(
        "--scale-population",
        type=int,
        default=100_000,
        help="scale-curve worlds have at most the shops, products, creators and users of the "
        "world of this many videos (0 = no cap)",
    )
    parser.add_argument("--retrain", action="store_true", help="train even if a model exists")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="discarded seconds first")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    args = parser.parse_args()
    backends = [name for name in args.backends.split(",") if name]
    scale = [int(count) for count in args.scale.split(",") if count]
    load = {"connections": args.connections, "warmup": args.warmup, "seconds": args.seconds}
    measured = load | {"retrain": args.retrain}
    console.print(
        f"Load: {load_generator_name()}, {args.connections} connections, {args.warmup:g} s "
        f"warm-up, {args.seconds:g} s measured; one Granian worker"
    )

    bare = serve_and_measure(
        "bare: FastAPI, one JSON route, no middleware", "bench._bare_app:app", "/ok", load=load
    )
    main_size = world_size(args.videos)
    runs: dict[str, tuple[World, LoadResult]] = {}
    for backend in backends:
        world = ensure_world(backend, main_size, echo=console.print)
        runs[backend] = (world, measure_feed(world, **measured))
    curve: dict[int, tuple[World, LoadResult]] = {}
    for videos in scale:
        size = world_size(
            videos, events=args.scale_events, population=args.scale_population or None
        )
        reused = runs.get(args.scale_backend)
        if reused and reused[0].report["size"] == size.as_dict():
            curve[videos] = reused
            continue
        world = ensure_world(args.scale_backend, size, echo=console.print)
        curve[videos] = (world, measure_feed(world, **measured))

    table = Table(title=f"For You (GET {FEED_PATH}, one Granian worker)")
    for column in ("run", "world", "requests/s", "p50 ms", "p99 ms", "vs bare"):
        table.add_column(column, justify="left" if column in {"run", "world"} else "right")
    bare_cells = (f"{bare.rps:,.0f}", f"{bare.p50_ms:.2f}", f"{bare.p99_ms:.2f}")
    table.add_row("bare JSON endpoint", "", *bare_cells, "")
    rows = [(f"For You, {name}", world, result) for name, (world, result) in runs.items()]
    rows += [
        (f"scale curve, {world.backend}", world, result)
        for world, result in curve.values()
        if (world, result) not in runs.values()
    ]
    for name, world, result in rows:
        counts = world.report["counts"]
        described = ", ".join(
            f"{counts.get(key, 0):,} {key}" for key in ("videos", "users", "events")
        )
        table.add_row(
            name,
            described,
            f"{result.rps:,.1f}",
            f"{result.p50_ms:.2f}",
            f"{result.p99_ms:.2f}",
            f"{result.rps / bare.rps:.0%}",
        )
    console.print(table)

    figures: dict[str, float] = {"bare_rps": round(bare.rps, 1)}
    targets: dict[str, float] = {}
    baselines: dict[str, str] = {}
    for backend, (_, result) in runs.items():
        figures[f"feed_rps_{backend}"] = round(result.rps, 1)
        figures[f"feed_p50_ms_{backend}"] = round(result.p50_ms, 2)
        figures[f"feed_p99_ms_{backend}"] = round(result.p99_ms, 2)
        figures[f"ratio_{backend}"] = round(result.rps / bare.rps, 5)
        targets |= {f"feed_p99_ms_{backend}": TARGET_P99_MS, f"ratio_{backend}": TARGET_RATIO}
        baselines[f"feed_rps_{backend}"] = "bare_rps"
    # The unsuffixed figures: PostgreSQL, production's database, when it was measured.
    headline = "postgres" if "postgres" in runs else next(iter(runs), None)
    if headline:
        for name in ("feed_rps", "feed_p50_ms", "feed_p99_ms", "ratio"):
            figures[name] = figures[f"{name}_{headline}"]
        targets |= {"feed_p99_ms": TARGET_P99_MS, "ratio": TARGET_RATIO}
        baselines["feed_rps"] = "bare_rps"
    for videos, (_, result) in curve.items():
        figures[f"p50_{size_label(videos).replace('.', '_')}_ms"] = round(result.p50_ms, 2)
    if len(curve) >= 2:
        smallest, largest = min(curve), max(curve)
        name = f"p50_{size_label(largest)}_vs_{size_label(smallest)}"
        figures[name] = round(curve[largest][1].p50_ms / curve[smallest][1].p50_ms, 3)
        targets[name] = TARGET_SCALE
        baselines[f"p50_{size_label(largest)}_ms"] = f"p50_{size_label(smallest)}_ms"
    for name, target in targets.items():
        if name in figures:
            met = figures[name] >= target if name.startswith("ratio") else figures[name] <= target
            verdict = "met" if met else "[red]missed[/red]"
            console.print(f"{name}: {figures[name]:,} (target {target:,}) {verdict}")

    document: dict[str, Any] = {
        "figures": figures,
        "targets": targets,
        "baselines": baselines,
        "machine": machine_description(
            f"load: {load_generator_name()}, {args.connections} connections",
            "PostgreSQL on the same machine",
        ),
        "notes": {
            "worlds": {
                f"{world.backend} {world.label}": {
                    "counts": world.report["counts"],
                    "size": world.report["size"],
                    "model": world.report.get("notes", []),
                }
                for world, _ in list(runs.values()) + list(curve.values())
            },
            "headline_backend": headline,
            "scale_backend": args.scale_backend,
            "scale_events_cap": args.scale_events,
            # Shops, products, creators and users of a scale-curve world are at most those
            # of the world of this many videos; its videos are all real rows.
            "scale_population_cap_videos": args.scale_population or None,
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2, default=str) + "\n")
    console.print(f"Wrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
