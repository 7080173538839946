"""Read the offline recommendation datasets and score a model on them by full ranking.

Two formats (see ../shared/data/recsys/README.md): `split-csv` (`user,item,split` rows, split in
train/valid/test) and `leave-one-out` (one `user item item ...` line per user, oldest first).
Either way a `Split` holds the training matrix, each user's oldest-first history and the held-out
items; `evaluate` ranks ALL items through `ItemModel.top` with the history masked.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

PROTOCOLS = ("split-csv", "leave-one-out")


@dataclass(frozen=True)
class Split:
    """Training data and held-out targets for one evaluation (validation or test)."""

    matrix: sp.csr_matrix  # users x items, 1.0 where the user interacted in training
    sequences: list[np.ndarray]  # per user, training items oldest first (file order)
    histories: list[np.ndarray]  # per evaluated user, the items the model sees (masked in ranking)
    targets: list[np.ndarray]  # per evaluated user, the held-out items to find


@dataclass(frozen=True)
class Dataset:
    """A dataset read from disk: a validation split (for tuning) and a test split."""

    name: str
    protocol: str
    n_users: int
    n_items: int
    valid: Split
    test: Split


def _matrix(sequences: list[np.ndarray], n_items: int) -> sp.csr_matrix:
    """Binary users x items matrix of the sequences."""
    rows = np.repeat(np.arange(len(sequences)), [len(seq) for seq in sequences])
    cols = np.concatenate(sequences) if sequences else np.empty(0, dtype=np.int64)
    matrix = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, cols)),
        shape=(len(sequences), n_items),
        dtype=np.float32,
    )
    matrix.data[:] = 1.0  # repeats count once
    return matrix


def read_split_csv(path: Path) -> Dataset:
    """A `user,item,split` file: train on train, tune on valid, test on test."""
    parts: dict[str, dict[str, list[str]]] = {"train": {}, "valid": {}, "test": {}}
    with path.open(newline="") as stream:
        for row in csv.DictReader(stream):
            parts[row["split"]].setdefault(row["user"], []).append(row["item"])
    users = sorted({user for part in parts.values() for user in part}, key=_natural)
    items = sorted(
        {item for part in parts.values() for ids in part.values() for item in ids}, key=_natural
    )
    user_index = {user: index for index, user in enumerate(users)}
    item_index = {item: index for index, item in enumerate(items)}

    def indices(ids: list[str]) -> np.ndarray:
        return np.array([item_index[item] for item in ids], dtype=np.int64)

    train = [indices(parts["train"].get(user, [])) for user in users]
    matrix = _matrix(train, len(items))

    def split(name: str) -> Split:
        held = parts[name]
        evaluated = [user for user in users if user in held]
        return Split(
            matrix=matrix,
            sequences=train,
            histories=[train[user_index[user]] for user in evaluated],
            targets=[indices(held[user]) for user in evaluated],
        )

    return Dataset(path.stem, "split-csv", len(users), len(items), split("valid"), split("test"))


def read_leave_one_out(path: Path) -> Dataset:
    """A `user item item ...` file: the last item is test, the second to last validation."""
    raw: list[list[str]] = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 2:
            raw.append(fields[1:])
    items = sorted({item for seq in raw for item in seq}, key=_natural)
    item_index = {item: index for index, item in enumerate(items)}
    sequences = [np.array([item_index[item] for item in seq], dtype=np.int64) for seq in raw]

    def split(drop: int) -> Split:
        kept = [seq[: len(seq) - drop] for seq in sequences]
        evaluated = [index for index, seq in enumerate(sequences) if len(seq) > drop]
        return Split(
            matrix=_matrix(kept, len(items)),
            sequences=kept,
            histories=[kept[index] for index in evaluated],
            targets=[sequences[index][len(sequences[index]) - drop][None] for index in evaluated],
        )

    return Dataset(path.stem, "leave-one-out", len(sequences), len(items), split(2), split(1))


def read(path: Path, protocol: str) -> Dataset:
    """Read a dataset in either protocol's format."""
    if protocol == "split-csv":
        return read_split_csv(path)
    if protocol == "leave-one-out":
        return read_leave_one_out(path)
    raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")


def _natural(text: str) -> tuple[int, str]:
    """Numbers in numeric order, anything else after them."""
    return (int(text), "") if text.isdigit() else (1 << 62, text)


def evaluate(
    ranked: Iterable[np.ndarray], split: Split, *, cutoffs: tuple[int, ...] = (10, 20)
) -> dict[str, float]:
    """Recall@K (= HR@K with one target) and NDCG@K averaged over the split's evaluated users.

    `ranked` yields, per evaluated user in order, the best item indices (history masked).
    """
    recall = dict.fromkeys(cutoffs, 0.0)
    ndcg = dict.fromkeys(cutoffs, 0.0)
    discounts = 1.0 / np.log2(np.arange(2, max(cutoffs) + 2))
    users = 0
    for best, targets in zip(ranked, split.targets, strict=True):
        users += 1
        hits = np.isin(best, targets)
        for k in cutoffs:
            found = hits[:k]
            recall[k] += found.sum() / len(targets)
            ideal = discounts[: min(len(targets), k)].sum()
            ndcg[k] += float(discounts[: found.size][found].sum()) / ideal
    figures: dict[str, float] = {}
    for k in cutoffs:
        figures[f"recall{k}"] = recall[k] / users if users else math.nan
        figures[f"ndcg{k}"] = ndcg[k] / users if users else math.nan
    return figures
