"""Collect bench/results/*.json into bench/results/SUMMARY.md (and print it as a table).

.venv/bin/python -m bench.summary
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SUMMARY = RESULTS_DIR / "SUMMARY.md"


def _format(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def collect() -> tuple[list[tuple[str, str, Any, Any]], list[tuple[str, str]]]:
    """(benchmark, figure, value, target) rows and (benchmark, machine) pairs."""
    rows: list[tuple[str, str, Any, Any]] = []
    machines: list[tuple[str, str]] = []
    for path in sorted(RESULTS_DIR.glob("*.json")):
        document = json.loads(path.read_text())
        figures: dict[str, Any] = document.get("figures", {})
        targets: dict[str, Any] = document.get("targets", {})
        for name, value in figures.items():
            rows.append((path.stem, name, value, targets.get(name)))
        for name in targets.keys() - figures.keys():
            rows.append((path.stem, name, None, targets[name]))
        machines.append((path.stem, str(document.get("machine", "unknown"))))
    return rows, machines


def main() -> None:
    """Write SUMMARY.md and print the same table."""
    rows, machines = collect()
    lines = [
        "# Benchmark results",
        "",
        "| benchmark | figure | value | target |",
        "|---|---|---:|---:|",
    ]
    lines += [
        f"| {bench} | {name} | {_format(value)} | {_format(target)} |"
        for bench, name, value, target in rows
    ]
    lines += ["", "Machines:", ""]
    lines += [f"- {bench}: {machine}" for bench, machine in machines]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text("\n".join(lines) + "\n")

    table = Table(title="Benchmark results")
    for column in ("benchmark", "figure", "value", "target"):
        table.add_column(column, justify="right" if column in {"value", "target"} else "left")
    for bench, name, value, target in rows:
        table.add_row(bench, name, _format(value), _format(target))
    Console().print(table)
    print(f"Wrote {SUMMARY}")


if __name__ == "__main__":
    main()
