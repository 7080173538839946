"""The collaborative item model: co-engagement, masking, weights, recency, limits, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from clipcart.recs.collaborative import (
    ItemModel,
    ModelParams,
    add_low_pass_filter,
    fit,
    load,
    save,
    summed_by_column,
)

CLUSTER_A = np.arange(0, 10)
CLUSTER_B = np.arange(10, 20)
RARE = np.arange(20, 30)  # one interaction each
N_ITEMS = 30


def interactions(seed: int = 7) -> sp.csr_matrix:
    """200 users who each engage with 4 items of one cluster; a few users also touch a rare item."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for user in range(200):
        cluster = CLUSTER_A if user % 2 == 0 else CLUSTER_B
        for item in rng.choice(cluster, size=4, replace=False):
            rows.append(user)
            cols.append(item)
    for offset, item in enumerate(RARE):
        rows.append(offset)
        cols.append(item)
    values = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((values, (rows, cols)), shape=(200, N_ITEMS), dtype=np.float32)


@pytest.fixture(scope="module")
def model() -> ItemModel:
    return fit(interactions(), params=ModelParams(l2=5.0, neighbours=50))


def test_recommends_co_engaged_items(model: ItemModel) -> None:
    items, scores = model.top(np.array([0, 1]), k=5)
    assert set(items) <= set(CLUSTER_A) - {0, 1}
    assert list(scores) == sorted(scores, reverse=True)
    other, _ = model.top(np.array([10, 11]), k=5)
    assert set(other) <= set(CLUSTER_B)


def test_top_removes_history_and_exclusions_but_score_does_not(model: ItemModel) -> None:
    history = np.array([0, 2, 2])
    items, _ = model.top(history, k=N_ITEMS, exclude=np.array([1, 3]))
    assert not {0, 1, 2, 3} & set(items)
    assert len(items) == N_ITEMS - 4
    scores = model.score(history)
    assert scores.shape == (N_ITEMS,)
    assert scores[2] > 0  # item 0 points at item 2: history items keep their scores


def test_top_agrees_with_the_dense_scores() -> None:
    params = ModelParams(l2=5.0, popularity_weight=0.05, recency=0.8, transition_weight=0.5)
    sequences = [np.array([0, 3, 12]), np.array([12, 4])]
    model = fit(interactions(), params=params, sequences=sequences)
    history = np.array([12, 0, 3])
    dense = model.score(history)
    dense[history] = -np.inf
    items, scores = model.top(history, k=8)
    np.testing.assert_array_equal(items, np.argsort(-dense, kind="stable")[:8])
    np.testing.assert_allclose(scores, dense[items], rtol=1e-6)


def test_weights_and_recency_reorder_a_mixed_history() -> None:
    matrix = interactions()
    flat = fit(matrix, params=ModelParams(l2=5.0, recency=1.0))
    mixed = np.array([0, 10])
    items, _ = flat.top(mixed, np.array([1.0, 5.0]), k=3)
    assert set(items) <= set(CLUSTER_B)
    items, _ = flat.top(mixed, np.array([5.0, 1.0]), k=3)
    assert set(items) <= set(CLUSTER_A)

    recent = fit(matrix, params=ModelParams(l2=5.0, recency=0.3))
    assert set(recent.top(np.array([0, 10]), k=3)[0]) <= set(CLUSTER_B)  # newest is item 10
    assert set(recent.top(np.array([10, 0]), k=3)[0]) <= set(CLUSTER_A)


def test_transitions_favour_what_came_next() -> None:
    matrix = interactions()
    sequences = [np.array([0, 5]) for _ in range(30)] + [np.array([0, 7]) for _ in range(3)]
    params = ModelParams(l2=5.0, transition_weight=1.0)
    with_order = fit(matrix, params=params, sequences=sequences)
    assert with_order.top(np.array([0]), k=1)[0][0] == 5
    without = fit(matrix, params=ModelParams(l2=5.0, transition_weight=0.0), sequences=sequences)
    assert without.transitions.nnz == 0
    assert without.top(np.array([0]), k=1)[0][0] != 5  # co-engagement alone prefers another


def test_popularity_prior_reaches_items_without_neighbours() -> None:
    params = ModelParams(l2=5.0, popularity_weight=0.5, max_items=20)
    model = fit(interactions(), params=params)
    scores = model.score(np.array([], dtype=np.int64))
    assert scores[RARE[0]] > 0
    assert scores[CLUSTER_A].min() > scores[RARE].max()


def test_max_items_and_neighbours_bound_the_sparse_matrix() -> None:
    model = fit(interactions(), params=ModelParams(l2=5.0, max_items=20, neighbours=3))
    weights = model.weights
    assert isinstance(weights, sp.csr_matrix)
    assert weights.dtype == np.float32
    assert weights.shape == (N_ITEMS, N_ITEMS)
    assert np.diff(weights.indptr).max() <= 3
    assert weights[RARE].nnz == 0
    assert weights[:, RARE].nnz == 0
    assert weights.diagonal().sum() == 0
    assert model.score(np.array([RARE[0]])).sum() == 0
    assert model.modelled_items == 20


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    params = ModelParams(l2=5.0, recency=0.5, transition_weight=0.3, popularity_weight=0.01)
    sequences = [np.array([0, 1, 2]), np.array([10, 11])]
    model = fit(interactions(), params=params, sequences=sequences)
    path = tmp_path / "items.npz"
    save(model, path)
    save(model, path)  # replacing an existing file
    assert [entry.name for entry in tmp_path.iterdir()] == ["items.npz"]
    loaded = load(path)
    assert loaded.params == params
    assert loaded.n_items == N_ITEMS
    history = np.array([0, 10, 1])
    np.testing.assert_array_equal(loaded.score(history), model.score(history))
    assert (loaded.transitions != model.transitions).nnz == 0


def test_history_outside_the_catalogue_is_refused(model: ItemModel) -> None:
    with pytest.raises(ValueError, match="outside"):
        model.score(np.array([N_ITEMS]))
    with pytest.raises(ValueError, match="one entry per"):
        model.score(np.array([0, 1]), np.array([1.0]))


def test_the_low_pass_filter_is_gf_cf_ideal_filter() -> None:
    matrix = interactions()
    dense = np.zeros((N_ITEMS, N_ITEMS), dtype=np.float32)
    add_low_pass_filter(dense, matrix, rank=3, weight=2.0)

    # The same filter from a full eigendecomposition, written out as in the GF-CF paper.
    users = np.asarray(matrix.sum(axis=1)).ravel()
    items = np.maximum(np.asarray(matrix.sum(axis=0)).ravel(), 1.0)
    normalised = np.diag(users**-0.5) @ matrix.toarray() @ np.diag(items**-0.5)
    _, vectors = np.linalg.eigh(normalised.T @ normalised)
    leading = vectors[:, -3:]
    expected = 2.0 * np.diag(items**-0.5) @ leading @ leading.T @ np.diag(items**0.5)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(dense, expected, atol=1e-5)


def test_the_low_pass_filter_finds_every_leading_vector_when_the_leading_value_repeats() -> None:
    # 30 separate pairs of items (each a connected part of the user-item graph, so the normalised
    # matrix has singular value 1 thirty-one times) beside one cluster with a spread spectrum:
    # the filter must hold the same leading subspace as a full eigendecomposition (an iterative
    # solver swapped in for speed can lose some of the repeated vectors).
    rng = np.random.default_rng(3)
    rows: list[int] = []
    cols: list[int] = []
    user = 0
    for pair in range(30):
        for _ in range(3 + pair % 4):
            rows += [user, user]
            cols += [2 * pair, 2 * pair + 1]
            user += 1
    for _ in range(300):
        chosen = rng.choice(40, size=int(rng.integers(2, 6)), replace=False) + 60
        rows += [user] * chosen.size
        cols += chosen.tolist()
        user += 1
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(user, 100))
    users = np.asarray(matrix.sum(axis=1)).ravel()
    items = np.maximum(np.asarray(matrix.sum(axis=0)).ravel(), 1.0)
    normalised = np.diag(users**-0.5) @ matrix.toarray() @ np.diag(items**-0.5)
    values, vectors = np.linalg.eigh(normalised.T @ normalised)
    rank = 36
    assert np.isclose(values[-31:], 1.0).all()
    assert values[-rank] - values[-rank - 1] > 1e-3  # the leading subspace is well defined
    leading = vectors[:, -rank:]
    expected = np.diag(items**-0.5) @ leading @ leading.T @ np.diag(items**0.5)
    np.fill_diagonal(expected, 0.0)

    dense = np.zeros((100, 100), dtype=np.float32)
    add_low_pass_filter(dense, matrix, rank=rank, weight=1.0)
    np.testing.assert_allclose(dense, expected, atol=1e-5)


def test_the_low_pass_filter_reaches_along_chains_and_not_across_them() -> None:
    # Two chains of items: users link 0-1, 1-2, 2-3 (and 10-11, 11-12, 12-13), so items 0 and 3
    # are never seen together, and nothing links the two chains.
    rows: list[int] = []
    cols: list[int] = []
    user = 0
    for start in (0, 10):
        for first in range(start, start + 3):
            for _ in range(20):
                rows += [user, user]
                cols += [first, first + 1]
                user += 1
    matrix = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(user, N_ITEMS)
    )
    dense = np.zeros((N_ITEMS, N_ITEMS), dtype=np.float32)
    add_low_pass_filter(dense, matrix, rank=2, weight=1.0)
    assert dense[0, 3] > 0.05  # along the chain, though no user had both
    assert abs(dense[0, 13]) < 1e-6  # never across to the other chain
    assert abs(dense[0, 25]) < 1e-6  # nor to items nobody engaged with


def test_sparse_scores_are_the_same_whichever_way_the_terms_are_summed() -> None:
    # Small catalogue: the dense sum; large catalogue reached by a few items: the sorted sum.
    rng = np.random.default_rng(7)
    for n_items, terms in ((50, 400), (200_000, 300)):
        columns = rng.integers(0, min(n_items - 1, 5_000), terms)
        values = rng.random(terms)
        values[:5] = 0.0  # a term that adds nothing leaves no column behind
        columns[:5] = n_items - 1
        reached, summed = summed_by_column(columns, values, n_items)
        dense = np.bincount(columns, weights=values, minlength=n_items)
        assert np.array_equal(reached, np.flatnonzero(dense))
        assert np.allclose(summed, dense[reached])
        assert n_items - 1 not in reached
