"""Collect bench/results/*.json into bench/results/SUMMARY.md (and print it as a table): one
row per figure with its target and the baseline measured in the same run.

.venv/bin/python -m bench.summary [--failed "NAME ..."] [--skipped "NAME ..."] [--seconds TOTAL]

`make bench` passes the benchmarks that failed in its run and those that skipped (exit code 77,
e.g. their data is absent): the rows of either, if any, are from an earlier run and are marked
so; and how long the whole run took.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SUMMARY = RESULTS_DIR / "SUMMARY.md"
COLUMNS = ("benchmark", "figure", "value", "target", "baseline")


@dataclass(frozen=True)
class Row:
    """One figure of one benchmark, with its target and its baseline (name and value)."""

    bench: str
    figure: str
    value: Any
    target: Any
    baseline_name: str | None
    baseline: Any

    def cells(self, *, stale: bool) -> tuple[str, ...]:
        """The row as table cells."""
        baseline = ""
        if self.baseline_name:
            baseline = f"{_format(self.baseline)} ({self.baseline_name})"
        bench = f"{self.bench} (earlier run)" if stale else self.bench
        return bench, self.figure, _format(self.value), _format(self.target), baseline


def _format(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and 0 < abs(value) < 0.01:
        return f"{value:.2g}"  # small ratios keep their digits
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def collect() -> tuple[list[Row], dict[str, str], dict[str, str]]:
    """The rows, each benchmark's machine, and when each result file was written (UTC)."""
    rows: list[Row] = []
    machines: dict[str, str] = {}
    written: dict[str, str] = {}
    for path in sorted(RESULTS_DIR.glob("*.json")):
        document = json.loads(path.read_text())
        figures: dict[str, Any] = document.get("figures", {})
        targets: dict[str, Any] = document.get("targets", {})
        baselines: dict[str, str] = document.get("baselines", {})
        for name, value in figures.items():
            baseline_name = baselines.get(name)
            baseline = figures.get(baseline_name) if baseline_name else None
            rows.append(Row(path.stem, name, value, targets.get(name), baseline_name, baseline))
        for name in sorted(targets.keys() - figures.keys()):  # a target nothing measured
            rows.append(Row(path.stem, name, None, targets[name], baselines.get(name), None))
        machines[path.stem] = str(document.get("machine", "unknown"))
        stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        written[path.stem] = stamp.strftime("%Y-%m-%d %H:%M UTC")
    return rows, machines, written


def main() -> None:
    """Write SUMMARY.md and print the same table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--failed", default="", help="benchmarks that failed in this run")
    parser.add_argument("--skipped", default="", help="benchmarks that skipped in this run")
    parser.add_argument("--seconds", type=float, help="how long the whole run took")
    args = parser.parse_args()
    skipped = set(args.skipped.split())
    failed = set(args.failed.split())
    stale = failed | skipped
    rows, machines, written = collect()

    lines = [
        "# Benchmark results",
        "",
        "Baseline: the figure, measured in the same run, that the value is compared with.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|---|---|---:|---:|---:|",
    ]
    lines += ["| " + " | ".join(row.cells(stale=row.bench in stale)) + " |" for row in rows]
    if failed:
        lines += ["", "Failed in this run: " + ", ".join(sorted(failed)) + "."]
    if skipped:
        lines += ["", "Skipped in this run (see its output): " + ", ".join(sorted(skipped)) + "."]
    if args.seconds is not None:
        lines += ["", f"Whole run: {args.seconds:,.0f} s."]
    lines += ["", "Machines (and when each result was written):", ""]
    lines += [f"- {bench} ({written[bench]}): {machine}" for bench, machine in machines.items()]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text("\n".join(lines) + "\n")

    table = Table(title="Benchmark results")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in {"benchmark", "figure"} else "right")
    for row in rows:
        table.add_row(*row.cells(stale=row.bench in stale))
    console = Console()
    console.print(table)
    if failed:
        console.print(f"[red]Failed in this run: {', '.join(sorted(failed))}[/red]")
    if skipped:
        console.print(f"[yellow]Skipped in this run: {', '.join(sorted(skipped))}[/yellow]")
    print(f"Wrote {SUMMARY}")


if __name__ == "__main__":
    main()
