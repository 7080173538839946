"""ItemModel.top picks the k best without sorting every reached item: the same items, scores and
order as ranking the whole union of reached and popular items, ties included."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from clipcart.recs.collaborative import ItemModel, ModelParams


def reference_top(
    model: ItemModel, history: np.ndarray, weights: np.ndarray | None, k: int, exclude: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rank the sorted union of reached and fill items in full (the straightforward way)."""
    history = np.asarray(history, dtype=np.int64)
    removed = np.concatenate([history, exclude])
    reached, values = model.sparse_scores(history, weights)
    fill = model.by_prior[: k + removed.size]
    candidates = np.unique(np.concatenate([reached, fill]))
    scores = model.prior[candidates].astype(np.float64)
    scores[np.searchsorted(candidates, reached)] += values
    allowed = ~np.isin(candidates, removed)
    candidates, scores = candidates[allowed], scores[allowed]
    best = np.lexsort((candidates, -model.popularity[candidates], -scores))[:k]
    return candidates[best].astype(np.int64), scores[best].astype(np.float32)


def random_model(rng: np.random.Generator, n_items: int) -> ItemModel:
    """Sparse weights in steps of 0.25 (so that many scores tie) and a lumpy popularity."""

    def matrix(density: float) -> sp.csr_matrix:
        mask = rng.random((n_items, n_items)) < density
        dense = np.where(mask, rng.integers(1, 5, (n_items, n_items)) * 0.25, 0.0)
        return sp.csr_matrix(dense.astype(np.float32))

    params = ModelParams(popularity_weight=0.5, transition_weight=0.5, recency=0.8)
    popularity = rng.integers(0, 6, n_items).astype(np.float64)
    return ItemModel(
        n_items=n_items,
        params=params,
        weights=matrix(0.05),
        transitions=matrix(0.02),
        popularity=popularity,
    )


@pytest.mark.parametrize("seed", range(40))
def test_top_is_the_full_ranking_cut_at_k(seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = random_model(rng, int(rng.integers(5, 400)))
    history = rng.integers(0, model.n_items, int(rng.integers(1, 12)))
    weights = rng.integers(1, 4, history.size).astype(np.float64) if seed % 2 else None
    exclude = rng.integers(0, model.n_items, int(rng.integers(0, 4)))
    for k in (0, 1, 5, 60, model.n_items + 5):
        items, scores = model.top(history, weights, k=k, exclude=exclude)
        expected_items, expected_scores = reference_top(model, history, weights, k, exclude)
        np.testing.assert_array_equal(items, expected_items)
        np.testing.assert_array_equal(scores, expected_scores)
        assert not set(items.tolist()) & {*history.tolist(), *exclude.tolist()}


def test_a_history_that_reaches_nothing_gets_the_most_popular_items() -> None:
    n_items = 12
    popularity = np.arange(n_items, dtype=np.float64)
    empty = sp.csr_matrix((n_items, n_items), dtype=np.float32)
    model = ItemModel(
        n_items=n_items,
        params=ModelParams(popularity_weight=1.0),
        weights=empty,
        transitions=empty,
        popularity=popularity,
    )
    items, scores = model.top(np.array([11]), k=3)
    assert items.tolist() == [10, 9, 8]
    assert list(scores) == sorted(scores, reverse=True)
