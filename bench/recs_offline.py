"""Offline accuracy of the feed's collaborative model (clipcart.recs.collaborative) on public data.

Trains the served model with `fit` and ranks ALL items for every held-out user through
`ItemModel.top` (the call the feed makes), next to a dense EASE (lambda 50) measured in the same
run and the published/measured reference rows of ../shared/data/recsys/README.md.

    .venv/bin/python -m bench.recs_offline                 # the three README datasets
    .venv/bin/python -m bench.recs_offline --validation    # also report the validation split
    .venv/bin/python -m bench.recs_offline --dataset FILE --protocol split-csv|leave-one-out
        [--set l2=30 --set recency=0.7 ...]

Per-dataset parameters below were picked on the validation split only (tiktok: the `valid`
rows; sequences: the second-to-last item); the test split is scored once with them.
Writes bench/results/recs_offline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from rich.console import Console
from rich.table import Table

from bench._http import REPO_ROOT, machine_description
from bench._recsys_data import Dataset, Split, evaluate, read
from clipcart.recs.collaborative import ItemModel, ModelParams, fit, solve_dense

RESULTS = REPO_ROOT / "bench" / "results" / "recs_offline.json"
DATA_DIR = Path(os.environ.get("CLIPCART_RECSYS_DATA", REPO_ROOT.parent / "shared/data/recsys"))
BASELINE_L2 = 50.0
TOP_K = 20
SKIPPED = 77  # the exit code `make bench` reads as "skipped" (as automake's test harness does)
TIMED_USERS = 2000  # users whose `top` call is timed one by one for the latency figures
console = Console(width=None if Console().is_terminal else 110)

# name: (file, protocol, figure prefix, the cutoff the figures use)
DATASETS: dict[str, tuple[str, str, int]] = {
    "tiktok": ("tiktok_interactions.csv", "split-csv", 20),
    "beauty": ("beauty_sequences.txt", "leave-one-out", 10),
    "toys": ("toys_sequences.txt", "leave-one-out", 10),
}

# Picked on the validation split (see the report of issue 5 for the grids tried).
TUNED: dict[str, ModelParams] = {
    # No timestamps: the file order of a user's items means nothing, so no recency, no transitions.
    "tiktok": ModelParams(
        l2=30.0,
        popularity_weight=0.04,
        popularity_power=2.0,
        recency=1.0,
        transition_weight=0.0,
        spectral_weight=1.0,
        spectral_rank=256,
    ),
    "beauty": ModelParams(l2=50.0, recency=0.8, transition_weight=1.0),
    "toys": ModelParams(l2=50.0, recency=0.9, transition_weight=1.0),
}

# README reference rows: (model, recall/HR@20, NDCG@20, HR@10, NDCG@10); None = not given.
REFERENCE: dict[str, list[tuple[str, float | None, float | None, float | None, float | None]]] = {
    "tiktok": [
        ("MF-BPR (published)", 0.0346, 0.0130, None, None),
        ("LightGCN (published)", 0.0653, 0.0282, None, None),
        ("popularity (measured)", 0.0597, 0.0255, None, None),
        ("EASE, lambda 50 (README)", 0.0886, 0.0399, 0.0604, 0.0328),
        ("DiffMM, multimodal (published)", 0.1129, 0.0456, None, None),
    ],
    "beauty": [
        ("SASRec (published)", 0.0902, 0.0394, 0.0605, 0.0318),
        ("S3-Rec (published)", 0.0994, 0.0414, 0.0647, 0.0327),
        ("EASE, lambda 50 (README)", 0.1080, 0.0520, 0.0782, 0.0445),
    ],
    "toys": [
        ("S3-Rec (published)", 0.1065, 0.0468, 0.0700, 0.0376),
        ("EASE, lambda 50 (README)", 0.1108, 0.0568, 0.0846, 0.0502),
    ],
}

TARGETS: dict[str, float] = {
    "tiktok_recall20": 0.115,
    "tiktok_ndcg20": 0.046,
    "beauty_ndcg10": 0.050,
    "toys_ndcg10": 0.055,
    "train_s_tiktok": 60.0,
    "train_s_beauty": 60.0,
    "train_s_toys": 60.0,
    "top_cpu_ms_tiktok": 5.0,
    "top_cpu_ms_beauty": 5.0,
    "top_cpu_ms_toys": 5.0,
}


def ease_rankings(split: Split, *, l2: float, chunk: int = 2048) -> Iterator[np.ndarray]:
    """Top-K lists of a dense, unpruned EASE over all items: the baseline, not the served model."""
    matrix = split.matrix
    gram = np.asarray((matrix.T @ matrix).toarray(), dtype=np.float32)
    weights = solve_dense(gram, l2=l2, dropout=0.0)
    del gram
    users = len(split.histories)
    for start in range(0, users, chunk):
        histories = split.histories[start : start + chunk]
        rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
        history = sp.csr_matrix(
            (np.ones(rows.size, dtype=np.float32), (rows, np.concatenate(histories))),
            shape=(len(histories), matrix.shape[1]),
        )
        scores = np.asarray(history @ weights)
        scores[history.nonzero()] = -np.inf
        depth = min(TOP_K, scores.shape[1])
        best = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
        order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1, kind="stable")
        yield from np.take_along_axis(best, order, axis=1)


def model_rankings(model: ItemModel, split: Split) -> Iterator[np.ndarray]:
    """Top-K lists through `ItemModel.top`, one user at a time, as the feed asks."""
    for history in split.histories:
        yield model.top(history, k=TOP_K)[0]


def top_latency_ms(model: ItemModel, split: Split) -> tuple[float, float]:
    """Mean CPU ms and p99 wall ms of one `top` call over the first TIMED_USERS histories.

    CPU time is the comparable figure on a shared machine; wall time includes waiting for a core.
    """
    histories = split.histories[:TIMED_USERS]
    walls = []
    cpu_started = time.process_time()
    for history in histories:
        started = time.perf_counter()
        model.top(history, k=TOP_K)
        walls.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu_started) * 1000 / max(1, len(histories))
    return cpu_ms, float(np.percentile(np.array(walls), 99))


def measure(
    name: str, dataset: Dataset, params: ModelParams, *, validation: bool
) -> dict[str, Any]:
    """Train and score one dataset: the model on test (and validation), EASE-50 on test."""
    out: dict[str, Any] = {"params": asdict(params)}
    if validation:
        model = fit(dataset.valid.matrix, params=params, sequences=dataset.valid.sequences)
        out["valid"] = evaluate(model_rankings(model, dataset.valid), dataset.valid)
        out["valid_baseline"] = evaluate(
            ease_rankings(dataset.valid, l2=BASELINE_L2), dataset.valid
        )
        del model
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    model = fit(dataset.test.matrix, params=params, sequences=dataset.test.sequences)
    out["train_s"] = time.perf_counter() - started
    out["train_cpu_s"] = time.process_time() - cpu_started  # over both cores
    out["load"] = (load_before, os.getloadavg()[0])
    out["test"] = evaluate(model_rankings(model, dataset.test), dataset.test)
    out["top_ms"] = top_latency_ms(model, dataset.test)
    out["nnz_per_item"] = model.weights.nnz / max(1, model.n_items)
    del model
    started = time.perf_counter()
    out["baseline"] = evaluate(ease_rankings(dataset.test, l2=BASELINE_L2), dataset.test)
    out["baseline_s"] = time.perf_counter() - started
    console.print(
        f"[dim]{name}: trained in {out['train_s']:.1f} s ({out['train_cpu_s']:.1f} CPU s; "
        f"load {out['load'][0]:.1f} -> "
        f"{out['load'][1]:.1f}), top() {out['top_ms'][0]:.2f} ms CPU, "
        f"p99 {out['top_ms'][1]:.2f} ms wall[/]"
    )
    return out


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def print_table(name: str, result: dict[str, Any]) -> None:
    """The measured rows beside the README's reference rows for one dataset."""
    table = Table(title=f"{name}: full ranking, history masked")
    for column in ("model", "Recall/HR@20", "NDCG@20", "HR@10", "NDCG@10", "train s"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for model, r20, n20, r10, n10 in REFERENCE.get(name, []):
        table.add_row(f"[dim]{model}[/]", _cell(r20), _cell(n20), _cell(r10), _cell(n10), "")

    def row(label: str, figures: dict[str, float], seconds: str = "") -> None:
        table.add_row(
            label,
            _cell(figures["recall20"]),
            _cell(figures["ndcg20"]),
            _cell(figures["recall10"]),
            _cell(figures["ndcg10"]),
            seconds,
        )

    row("EASE, lambda 50 (this run)", result["baseline"], f"{result['baseline_s']:.1f}*")
    row("ClipCart item model (this run)", result["test"], f"{result['train_s']:.1f}")
    if "valid" in result:
        row("[italic]validation: EASE, lambda 50[/]", result["valid_baseline"])
        row("[italic]validation: ClipCart item model[/]", result["valid"])
    console.print(table)


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """`--set name=value` pairs as typed ModelParams fields."""
    types = {field.name: type(getattr(ModelParams(), field.name)) for field in fields(ModelParams)}
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in types:
            raise SystemExit(f"unknown parameter {key!r}; known: {', '.join(types)}")
        overrides[key] = types[key](value)
    return overrides


def main() -> None:
    """Measure, print the tables and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dataset", type=Path, help="a file in either format (default: all 3)")
    parser.add_argument("--protocol", choices=("split-csv", "leave-one-out"))
    parser.add_argument("--validation", action="store_true", help="also score the validation split")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    overrides = parse_overrides(args.set)

    if args.dataset is not None:
        if args.protocol is None:
            parser.error("--dataset needs --protocol split-csv|leave-one-out")
        if not args.dataset.exists():
            raise SystemExit(f"{args.dataset}: no such file")
        runs = [(args.dataset.stem, args.dataset, args.protocol, ModelParams())]
    else:
        if not DATA_DIR.is_dir():
            console.print(f"[yellow]skipped: {DATA_DIR} is absent (see its README to fetch it)[/]")
            raise SystemExit(SKIPPED)
        runs = [
            (name, DATA_DIR / file, protocol, TUNED[name])
            for name, (file, protocol, _) in DATASETS.items()
        ]

    figures: dict[str, float] = {}
    baselines: dict[str, str] = {}
    details: dict[str, Any] = {}
    loads: list[float] = []
    for name, path, protocol, params in runs:
        params = replace(params, **overrides)
        dataset = read(path, protocol)
        console.print(
            f"{name}: {dataset.n_users:,} users, {dataset.n_items:,} items, {protocol}; {params}"
        )
        result = measure(name, dataset, params, validation=args.validation)
        print_table(name, result)
        details[name] = result
        loads.extend(result["load"])
        cutoff = DATASETS[name][2] if name in DATASETS else TOP_K
        metrics = ["recall20", "ndcg20"] if cutoff == 20 else ["ndcg10", "recall10"]
        for metric in metrics:
            figures[f"{name}_{metric}"] = round(result["test"][metric], 4)
            figures[f"ease50_{name}_{metric}"] = round(result["baseline"][metric], 4)
            baselines[f"{name}_{metric}"] = f"ease50_{name}_{metric}"
        figures[f"train_s_{name}"] = round(result["train_s"], 1)
        figures[f"top_cpu_ms_{name}"] = round(result["top_ms"][0], 3)
        figures[f"top_p99_wall_ms_{name}"] = round(result["top_ms"][1], 2)
    console.print("[dim]* baseline seconds include scoring; the model's train s is fit() alone[/]")

    document = {
        "figures": figures,
        "targets": {key: value for key, value in TARGETS.items() if key in figures},
        "baselines": baselines,
        "details": details,
        "machine": machine_description(
            f"load average during training {min(loads):.1f}-{max(loads):.1f}" if loads else ""
        ),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"Wrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
