"""The collaborative item model behind For You: a sparse, pruned linear item-to-item model.

Training solves a denoising linear autoencoder (EASE with emphasised dropout, Steck 2020) on the
`max_items` most-interacted items with a Cholesky inverse, optionally adds the ideal low-pass
graph filter of GF-CF (Shen et al. 2021: the strongest eigenvectors of the degree-normalised
item-item matrix, which carries taste across items no user shares directly), scales each
target column by popularity^-beta, keeps the `neighbours` strongest weights per source item in a
sparse matrix and, when time-ordered sequences are given, adds a sparse item-to-next-item
transition matrix. Scoring one user is a sparse row sum over the user's history, the newest
interactions weighing most. numpy and scipy only: the feed calls `ItemModel.top` per request and
the offline benchmark calls the same code.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from scipy.linalg import blas, lapack

FORMAT_VERSION = 1
# Summing a history's terms: by a dense array over the catalogue while it holds at most this
# many items per term, else by sorting the terms (measured: 40k terms over 100k items, dense
# 0.27 ms against 0.84; 4k terms over 1M items, dense 2.5 ms against 0.07).
DENSE_SUM_RATIO = 16
ROW_BLOCK = 2048  # rows pruned at a time: bounds the scratch memory of the top-k selection


@dataclass(frozen=True)
class ModelParams:
    """Every tunable of the item model; the defaults are what the validation splits picked."""

    l2: float = 50.0  # ridge on the item-item Gram matrix
    dropout: float = 0.0  # emphasised dropout p: adds p / (1 - p) * diag(G) to the ridge
    popularity_beta: float = 0.0  # target column j scaled by popularity_j ** -beta
    popularity_weight: float = 0.0  # adds this * (popularity / max popularity) ** power
    popularity_power: float = 1.0
    max_items: int = 8_000  # the dense solve covers this many most-interacted items
    neighbours: int = 200  # weights kept per source item
    recency: float = 0.8  # an interaction k steps before the newest weighs recency ** k
    transition_weight: float = 1.0  # weight of the item-to-next-item component
    transition_recency: float = 0.0  # earlier items feed the transitions with this ** k
    transition_neighbours: int = 100  # next items kept per source item
    spectral_weight: float = 0.3  # weight of the ideal low-pass filter added to the weights
    spectral_rank: int = 256  # eigenvectors of the normalised item-item matrix it keeps


@dataclass
class ItemModel:
    """A trained model over dense item indices 0..n_items-1, ready to score one user at a time."""

    n_items: int
    params: ModelParams
    weights: sp.csr_matrix  # n_items x n_items, row = source item, float32
    transitions: sp.csr_matrix  # n_items x n_items, row = item, columns = items that came next
    popularity: np.ndarray = field(repr=False)  # interactions per item in the training data
    prior: np.ndarray = field(init=False, repr=False)  # the popularity term added to every score
    by_prior: np.ndarray = field(init=False, repr=False)  # item indices, highest prior first

    def __post_init__(self) -> None:
        top = float(self.popularity.max()) if self.popularity.size else 0.0
        share = self.popularity / top if top > 0 else np.zeros_like(self.popularity)
        prior = self.params.popularity_weight * np.power(share, self.params.popularity_power)
        self.prior = prior.astype(np.float32)
        self.by_prior = np.argsort(-self.popularity, kind="stable")

    @property
    def modelled_items(self) -> int:
        """How many items have collaborative neighbours (the rest only get the prior)."""
        return int(np.count_nonzero(np.diff(self.weights.indptr)))

    def history_mass(
        self, history: np.ndarray, weights: np.ndarray | None = None, *, recency: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """(distinct items, mass) of an oldest-first history: newest 1, k back recency**k."""
        items = np.asarray(history, dtype=np.int64)
        if items.size and (items.min() < 0 or items.max() >= self.n_items):
            raise ValueError("history holds an item index outside 0..n_items-1")
        steps_back = np.arange(items.size - 1, -1, -1, dtype=np.float64)
        mass = np.power(recency, steps_back) if recency != 1.0 else np.ones(items.size)
        if weights is not None:
            given = np.asarray(weights, dtype=np.float64)
            if given.shape != items.shape:
                raise ValueError("weights must have one entry per history item")
            mass = mass * given
        distinct, position = np.unique(items, return_inverse=True)
        return distinct, np.bincount(position, weights=mass, minlength=distinct.size)

    def sparse_scores(
        self, history: np.ndarray, weights: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(items, collaborative score) for the items the history reaches, without the prior."""
        params = self.params
        items, mass = self.history_mass(history, weights, recency=params.recency)
        parts = [_row_terms(self.weights, items, mass)]
        if params.transition_weight and self.transitions.nnz and items.size:
            items, mass = self.history_mass(history, weights, recency=params.transition_recency)
            parts.append(_row_terms(self.transitions, items, mass * params.transition_weight))
        columns = np.concatenate([part[0] for part in parts])
        values = np.concatenate([part[1] for part in parts])
        return summed_by_column(columns, values, self.n_items)

    def score(self, history: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Scores over all items for a history (oldest first); history items are not masked."""
        scores = self.prior.astype(np.float64)
        reached, values = self.sparse_scores(history, weights)
        scores[reached] += values
        return scores.astype(np.float32)

    def top(
        self,
        history: np.ndarray,
        weights: np.ndarray | None = None,
        *,
        k: int,
        exclude: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k best (item indices, scores), best first, with `exclude` and history removed.

        Only the items the history reaches and the best items by prior can win, so the ranking
        looks at those rather than the whole catalogue; ties among the rest go to popular items.
        """
        history = np.asarray(history, dtype=np.int64)
        removed = history if exclude is None else np.concatenate([history, np.asarray(exclude)])
        reached, values = self.sparse_scores(history, weights)
        fill = self.by_prior[: k + removed.size]
        # `reached` is sorted and distinct: the fill items it lacks go after it (sorting the
        # union again cost more than the rest of the ranking; the order below does not
        # depend on the candidates' order).
        at = np.minimum(np.searchsorted(reached, fill), max(reached.size - 1, 0))
        held = reached[at] == fill if reached.size else np.zeros(fill.size, dtype=bool)
        candidates = np.concatenate([reached, fill[~held]])
        scores = self.prior[candidates].astype(np.float64)
        scores[: reached.size] += values
        allowed = ~np.isin(candidates, removed)
        candidates, scores = candidates[allowed], scores[allowed]
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if scores.size > k:
            # Only what scores at least the k-th best can be among the k best.
            kth = np.partition(scores, scores.size - k)[scores.size - k]
            contenders = scores >= kth
            candidates, scores = candidates[contenders], scores[contenders]
        # Highest score first; among equal scores the more popular item, then the lower index.
        best = np.lexsort((candidates, -self.popularity[candidates], -scores))[:k]
        return candidates[best].astype(np.int64), scores[best].astype(np.float32)


def summed_by_column(
    columns: np.ndarray, values: np.ndarray, n_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """(distinct columns in order, the sum of their values), zero sums left out.

    A dense bincount over the whole catalogue is fastest while the catalogue is small beside
    the terms; with a million items it costs milliseconds however few items a history reaches
    (allocating and scanning the array), so then only the terms are sorted.
    """
    if columns.size * DENSE_SUM_RATIO >= n_items:
        summed = np.bincount(columns, weights=values, minlength=n_items)
        reached = np.flatnonzero(summed)
        return reached, summed[reached]
    reached, position = np.unique(columns, return_inverse=True)
    summed = np.bincount(position, weights=values, minlength=reached.size)
    keep = summed != 0
    return reached[keep], summed[keep]


def _row_terms(
    matrix: sp.csr_matrix, rows: np.ndarray, mass: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(columns, mass-weighted values) of the given rows of a sparse matrix, unsummed."""
    keep = mass != 0
    rows, mass = rows[keep], mass[keep]
    starts, ends = matrix.indptr[rows], matrix.indptr[rows + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    positions = np.repeat(ends - lengths.cumsum(), lengths) + np.arange(total)
    return matrix.indices[positions], matrix.data[positions] * np.repeat(mass, lengths)


def popular_items(matrix: sp.csr_matrix, limit: int) -> np.ndarray:
    """Indices of the `limit` items with the most interactions, in index order."""
    counts = np.diff(sp.csc_matrix(matrix).indptr)
    if limit >= counts.size:
        return np.arange(counts.size)
    chosen = np.argpartition(-counts, limit - 1)[:limit]
    return np.sort(chosen)


def solve_dense(gram: np.ndarray, *, l2: float, dropout: float) -> np.ndarray:
    """The zero-diagonal EASE/EDLAE weight matrix for a dense Gram matrix (overwrites `gram`)."""
    diagonal = np.diag(gram).copy()
    ridge = l2 + (dropout / (1.0 - dropout)) * diagonal if dropout else l2
    gram[np.diag_indices_from(gram)] += ridge
    # G = U'U (LAPACK potrf), then G^-1 = U^-1 U^-T (trtri, then syrk): about 5x faster than a
    # general inverse, and faster than potri. The Gram matrix is symmetric, so its transpose is
    # the Fortran-ordered array LAPACK wants and the factorisation works in place.
    factor, info = lapack.spotrf(gram.T, lower=0, overwrite_a=1, clean=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"Gram matrix is not positive definite (potrf info {info})")
    factor, info = lapack.strtri(factor, lower=0, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"triangular inverse failed (trtri info {info})")
    inverse = blas.ssyrk(1.0, factor, lower=0, trans=0)
    del factor
    precision = np.ascontiguousarray(inverse.T)  # a view: its lower triangle holds the result
    _mirror_lower(precision)
    precision /= -np.diag(precision)[np.newaxis, :]
    precision[np.diag_indices_from(precision)] = 0.0
    return precision


def _mirror_lower(square: np.ndarray) -> None:
    """Copy the lower triangle onto the upper one in place, a block of rows at a time."""
    size = square.shape[0]
    for start in range(0, size, ROW_BLOCK):
        end = min(size, start + ROW_BLOCK)
        block = square[start:end, start:end]
        block[...] = np.tril(block) + np.tril(block, -1).T
        square[start:end, end:] = square[end:, start:end].T


def add_low_pass_filter(
    dense: np.ndarray, matrix: sp.csr_matrix, *, rank: int, weight: float
) -> None:
    """Add `weight` x the ideal low-pass filter of GF-CF to the item-item `dense` (in place).

    With R~ = D_u^-1/2 R D_i^-1/2 (user and item degrees) and V the `rank` leading eigenvectors
    of R~'R~, the filter is D_i^-1/2 V V' D_i^1/2: a history's row times it is the history
    projected on the strongest co-engagement patterns, then mapped back to items. The diagonal
    stays zero, as in the EASE weights (an item does not recommend itself).
    """
    size = dense.shape[0]
    rank = min(rank, size - 1)
    if rank <= 0:
        return
    user_degree = np.asarray(matrix.sum(axis=1), dtype=np.float64).ravel()
    item_degree = np.asarray(matrix.sum(axis=0), dtype=np.float64).ravel()
    user_scale = np.power(np.maximum(user_degree, 1.0), -0.5)
    item_scale = np.power(np.maximum(item_degree, 1.0), -0.5)
    normalised = sp.csr_matrix(sp.diags(user_scale) @ matrix @ sp.diags(item_scale))
    item_item = np.asarray((normalised.T @ normalised).toarray(), dtype=np.float32)
    # The leading eigenvectors only (LAPACK syevr on a subset): a fraction of a full solve.
    _, vectors = linalg.eigh(item_item, subset_by_index=[size - rank, size - 1], driver="evr")
    del item_item
    left = (vectors * item_scale[:, None]).astype(np.float32)
    right = (vectors / item_scale[:, None]).astype(np.float32)
    dense += weight * (left @ right.T)
    dense[np.diag_indices_from(dense)] = 0.0


def prune_rows(dense: np.ndarray, keep: int, columns: np.ndarray, n_items: int) -> sp.csr_matrix:
    """The `keep` largest weights of each row as a sparse n_items x n_items matrix."""
    size = dense.shape[0]
    keep = min(keep, size - 1) if size > 1 else 0
    if keep <= 0:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    vals_out: list[np.ndarray] = []
    for start in range(0, size, ROW_BLOCK):
        block = dense[start : start + ROW_BLOCK]
        chosen = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        values = np.take_along_axis(block, chosen, axis=1)
        positive = values > 0
        rows_out.append(np.nonzero(positive)[0] + start)
        cols_out.append(chosen[positive])
        vals_out.append(values[positive])
    rows = columns[np.concatenate(rows_out)]
    cols = columns[np.concatenate(cols_out)]
    values = np.concatenate(vals_out).astype(np.float32)
    return sp.csr_matrix((values, (rows, cols)), shape=(n_items, n_items), dtype=np.float32)


def transition_matrix(sequences: list[np.ndarray], n_items: int, *, keep: int) -> sp.csr_matrix:
    """Row-normalised counts of item i being followed by item j, `keep` best per row."""
    sources = [seq[:-1] for seq in sequences if len(seq) > 1]
    targets = [seq[1:] for seq in sequences if len(seq) > 1]
    if not sources:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    src = np.concatenate(sources).astype(np.int64)
    dst = np.concatenate(targets).astype(np.int64)
    moved = src != dst
    counts = sp.csr_matrix(
        (np.ones(int(moved.sum()), dtype=np.float32), (src[moved], dst[moved])),
        shape=(n_items, n_items),
    )
    counts.sum_duplicates()
    totals = np.asarray(counts.sum(axis=1)).ravel()
    counts = sp.csr_matrix(sp.diags(1.0 / np.maximum(totals, 1.0)) @ counts, dtype=np.float32)
    return _keep_largest_per_row(counts, keep)


def _keep_largest_per_row(matrix: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """The same sparse matrix with at most `keep` largest entries per row."""
    lengths = np.diff(matrix.indptr)
    if lengths.size == 0 or lengths.max() <= keep:
        return matrix
    rows, cols, vals = [], [], []
    for row in np.flatnonzero(lengths):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values = matrix.data[start:end]
        chosen = np.argsort(-values, kind="stable")[:keep]
        rows.append(np.full(chosen.size, row))
        cols.append(matrix.indices[start:end][chosen])
        vals.append(values[chosen])
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=matrix.shape,
        dtype=np.float32,
    )


def fit(
    matrix: sp.csr_matrix,
    *,
    params: ModelParams = ModelParams(),
    sequences: list[np.ndarray] | None = None,
) -> ItemModel:
    """Train on a users x items implicit-feedback matrix (and optional oldest-first sequences)."""
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    n_items = matrix.shape[1]
    popularity = np.asarray((matrix > 0).sum(axis=0), dtype=np.float32).ravel()
    columns = popular_items(matrix, params.max_items)
    restricted = matrix[:, columns]
    gram = np.asarray((restricted.T @ restricted).toarray(), dtype=np.float32)
    dense = solve_dense(gram, l2=params.l2, dropout=params.dropout)
    del gram  # its memory held the factor; free it before pruning
    if params.spectral_weight:
        add_low_pass_filter(
            dense, restricted, rank=params.spectral_rank, weight=params.spectral_weight
        )
    if params.popularity_beta:
        dense *= np.power(np.maximum(popularity[columns], 1.0), -params.popularity_beta)[None, :]
    weights = prune_rows(dense, params.neighbours, columns, n_items)
    del dense
    if sequences and params.transition_weight:
        transitions = transition_matrix(sequences, n_items, keep=params.transition_neighbours)
    else:
        transitions = sp.csr_matrix((n_items, n_items), dtype=np.float32)
    return ItemModel(n_items, params, weights, transitions, popularity)


def save(model: ItemModel, path: Path) -> None:
    """Write the model to one .npz file, atomically (a temporary file renamed into place)."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "meta": np.array(
            json.dumps(
                {
                    "version": FORMAT_VERSION,
                    "n_items": model.n_items,
                    "params": asdict(model.params),
                }
            )
        ),
        "popularity": model.popularity,
    }
    for name in ("weights", "transitions"):
        sparse = getattr(model, name)
        arrays[f"{name}_data"] = sparse.data
        arrays[f"{name}_indices"] = sparse.indices
        arrays[f"{name}_indptr"] = sparse.indptr
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)  # type: ignore[arg-type]
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path) -> ItemModel:
    """Read a model written by `save`."""
    with np.load(Path(path), allow_pickle=False) as stored:
        meta = json.loads(str(stored["meta"]))
        if meta.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported item model format {meta.get('version')!r}")
        n_items = int(meta["n_items"])
        parts = {}
        for name in ("weights", "transitions"):
            parts[name] = sp.csr_matrix(
                (
                    stored[f"{name}_data"],
                    stored[f"{name}_indices"],
                    stored[f"{name}_indptr"],
                ),
                shape=(n_items, n_items),
                dtype=np.float32,
            )
        popularity = np.asarray(stored["popularity"], dtype=np.float32)
    params = ModelParams(**meta["params"])
    return ItemModel(n_items, params, parts["weights"], parts["transitions"], popularity)
