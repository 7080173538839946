"""HTTP baseline: requests/s and p50/p99 latency of a bare JSON endpoint and of ClipCart's
GET /healthz through the full middleware stack, each served by one Granian process and
loaded by 16 concurrent keep-alive clients.

    .venv/bin/python -m bench.http_baseline [--seconds 10] [--warmup 2] [--connections 16]

Writes bench/results/http_baseline.json.
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
from pathlib import Path
from typing import Any

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

RESULTS = REPO_ROOT / "bench" / "results" / "http_baseline.json"
console = Console()


def clipcart_env(data_dir: Path, *, log_level: str) -> dict[str, str | None]:
    """Production-like settings: JSON logs, a throwaway data dir, SQLite, no Redis."""
    return {
        "CLIPCART_ENVIRONMENT": "production",
        "CLIPCART_DATA_DIR": str(data_dir),
        "CLIPCART_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'clipcart.db'}",
        "CLIPCART_REDIS_URL": None,
        "CLIPCART_SECRET_KEY": secrets.token_urlsafe(32),
        "CLIPCART_LOG_JSON": "true",
        "CLIPCART_LOG_LEVEL": log_level,
    }


def measure(url: str, *, connections: int, warmup: float, seconds: float) -> LoadResult:
    """Warm up (discarded), then one measured run."""
    run_load(url, connections=connections, seconds=warmup)
    result = run_load(url, connections=connections, seconds=seconds)
    if result.errors:
        raise RuntimeError(f"{result.errors} failed requests against {url}")
    return result


def serve_and_measure(
    title: str,
    target: str,
    path: str,
    *,
    load: dict[str, Any],
    env: dict[str, str | None] | None = None,
    log_path: Path | None = None,
) -> LoadResult:
    """Start one server for `target` (a factory when it is ClipCart's) and load `path`."""
    with (
        console.status(title),
        granian_server(
            target,
            factory=target.endswith(":create_app"),
            env=env,
            log_path=log_path,
            ready_path=path,
        ) as base,
    ):
        return measure(base + path, **load)


def main() -> None:
    """Measure, print the table and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="discarded seconds first")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    args = parser.parse_args()
    load = {"connections": args.connections, "warmup": args.warmup, "seconds": args.seconds}
    generator = load_generator_name()
    console.print(
        f"Load: {generator}, {args.connections} connections, {args.warmup:g} s warm-up, "
        f"{args.seconds:g} s measured; one Granian worker per server"
    )

    results: dict[str, LoadResult] = {}
    with tempfile.TemporaryDirectory(prefix="clipcart-bench-") as temporary:
        root = Path(temporary)

        results["bare"] = serve_and_measure(
            "bare: FastAPI, one JSON route, no middleware",
            "bench._bare_app:app",
            "/ok",
            load=load,
        )

        # As in production: JSON request log at INFO, written to a file.
        info_dir = root / "info"
        info_dir.mkdir()
        info_log = info_dir / "server.log"
        results["healthz"] = serve_and_measure(
            "healthz: ClipCart, full stack, JSON logs at INFO to a file",
            "clipcart.app:create_app",
            "/healthz",
            load=load,
            env=clipcart_env(info_dir, log_level="INFO"),
            log_path=info_log,
        )
        with info_log.open() as log:
            log_lines = sum(1 for line in log if '"event": "request"' in line)

        # The same stack with the request log filtered out, to show what logging costs.
        quiet_dir = root / "quiet"
        quiet_dir.mkdir()
        results["healthz_quiet"] = serve_and_measure(
            "healthz: ClipCart, full stack, log level WARNING",
            "clipcart.app:create_app",
            "/healthz",
            load=load,
            env=clipcart_env(quiet_dir, log_level="WARNING"),
        )

    labels = {
        "bare": "bare JSON endpoint (FastAPI, no middleware)",
        "healthz": "GET /healthz, ClipCart stack, JSON request log at INFO to a file",
        "healthz_quiet": "GET /healthz, ClipCart stack, log level WARNING",
    }
    bare = results["bare"]
    table = Table(title="HTTP baseline (one Granian worker, " + generator + ")")
    for column in ("endpoint", "requests/s", "p50 ms", "p99 ms", "vs bare"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for key, result in results.items():
        table.add_row(
            labels[key],
            f"{result.rps:,.0f}",
            f"{result.p50_ms:.2f}",
            f"{result.p99_ms:.2f}",
            f"{result.rps / bare.rps:.0%}",
        )
    console.print(table)
    logged = results["healthz"].requests
    console.print(
        f"Request log check: {log_lines:,} JSON request lines written during the INFO runs "
        f"(measured run alone: {logged:,} requests)."
    )

    figures: dict[str, float] = {}
    for key, result in results.items():
        figures[f"{key}_rps"] = round(result.rps, 1)
        figures[f"{key}_p50_ms"] = round(result.p50_ms, 3)
        figures[f"{key}_p99_ms"] = round(result.p99_ms, 3)
    document: dict[str, Any] = {
        "figures": figures,
        "targets": {},
        "baselines": {
            f"{key}_{figure}": f"bare_{figure}"
            for key in results
            if key != "bare"
            for figure in ("rps", "p50_ms", "p99_ms")
        },
        "machine": machine_description(f"load: {generator}, {args.connections} connections"),
        "notes": {key: labels[key] for key in results},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"Wrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
