"""products/recommend/signals.py, content.py and blend.py: top-n, the item-kNN, EASE's closed form,
the content space and how z-scored signals are combined."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from products.recommend.blend import combine
from products.recommend.content import content_space
from products.recommend.signals import ease, item_knn, top_n


def test_top_n_breaks_ties_by_index_and_skips_excluded():
    scores = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    assert top_n(scores, 3).tolist() == [1, 2, 4]
    assert top_n(scores, 3, np.array([False, True, False, False, False])).tolist() == [2, 4, 3]
    assert top_n(scores, 10, np.array([True] * 5)).tolist() == []


def test_item_knn_keeps_the_k_nearest_by_cosine_plus_content():
    # ratings columns: items 0 and 1 identical, item 2 shares one of their two raters, item 3 nobody's
    matrix = sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1]], dtype=np.float32))
    plain = item_knn(matrix, None, k=2).toarray()
    half = 1 / math.sqrt(2)
    assert plain == pytest.approx(np.array([[0, 1, half, 0], [1, 0, half, 0], [half, half, 0, 0],
                                            [0, 0, 0, 0]], dtype=np.float32))
    assert (item_knn(matrix, None, k=1).toarray() > 0).sum(axis=1).tolist() == [1, 1, 1, 0]
    # content cosine, weighted by beta, is added before the neighbours are kept: item 3 now has neighbours
    content = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32)
    boosted = item_knn(matrix, content, k=2, beta=0.5).toarray()
    assert boosted[3].tolist() == pytest.approx([0, 0, 0.5, 0])
    assert boosted[0].tolist() == pytest.approx([0, 1.5, half, 0])
    assert np.all(np.diag(boosted) == 0)


def test_ease_matches_the_hand_computed_closed_form():
    # two items: B[0, 1] = x0.x1 / (x0.x0 + lam), B[1, 0] = x0.x1 / (x1.x1 + lam) (a ridge regression
    # of one item's column on the other's); here x0.x0 = 3, x1.x1 = 2, x0.x1 = 2, lam = 1
    two = sp.csr_matrix(np.array([[1, 1], [1, 0], [1, 1]], dtype=np.float32))
    assert ease(two, 1.0) == pytest.approx(np.array([[0, 0.5], [2 / 3, 0]]))
    # larger: each column j is the ridge regression of item j on the other items (diag(B) = 0)
    x = np.random.default_rng(0).integers(0, 6, size=(12, 5)).astype(np.float64)
    b = ease(sp.csr_matrix(x), 3.0)
    assert np.all(np.diag(b) == 0)
    for j in range(5):
        others = [i for i in range(5) if i != j]
        xo = x[:, others]
        ridge = np.linalg.solve(xo.T @ xo + 3.0 * np.eye(4), xo.T @ x[:, j])
        assert b[others, j] == pytest.approx(ridge, rel=1e-4, abs=1e-6)


def test_ease_with_content_is_ease_on_the_ratings_stacked_with_weighted_features():
    # alpha F F^T added to X^T X is the Gram matrix of X with the features as extra rows scaled by
    # sqrt(alpha): the closed form must equal plain EASE on that stacked matrix
    rng = np.random.default_rng(1)
    x = rng.integers(0, 6, size=(10, 6)).astype(np.float64)
    features = rng.normal(size=(6, 3))
    stacked = np.vstack([x, np.sqrt(4.0) * features.T])
    assert ease(sp.csr_matrix(x), 2.0, features, 4.0) == pytest.approx(ease(sp.csr_matrix(stacked), 2.0), abs=1e-5)
    assert ease(sp.csr_matrix(x), 2.0, features, 0.0) == pytest.approx(ease(sp.csr_matrix(x), 2.0))
    # content pulls items together: two items nobody co-rated get weight when their vectors agree
    apart = sp.csr_matrix(np.array([[5, 0], [0, 5]], dtype=np.float32))
    same = np.array([[1.0], [1.0]])
    assert ease(apart, 1.0)[0, 1] == 0 and ease(apart, 1.0, same, 10.0)[0, 1] > 0


def test_content_space_mixes_text_and_genre_cosines():
    text = np.array([[1, 0], [0.6, 0.8], [0, 1]], dtype=np.float32)
    genres = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    space = content_space(text, genres, text_share=0.25)
    assert np.linalg.norm(space, axis=1) == pytest.approx([1, 1, 1])
    assert float(space[0] @ space[1]) == pytest.approx(0.25 * 0.6 + 0.75 * 1.0)
    assert float(space[0] @ space[2]) == pytest.approx(0.0)


def test_combine_blends_z_scores_by_weight_and_share():
    z = {"als": np.array([1.0, -1.0]), "knn": np.array([0.0, 2.0]), "ease": np.array([4.0, 4.0]),
         "content": np.array([-1.0, 1.0])}
    weights = {"als": 3.0, "knn": 1.0, "ease": 0.0, "content": 1.0}
    score, cf, content, share = combine(z, weights)
    assert share == pytest.approx(0.8) and cf.tolist() == pytest.approx([0.75, -0.25])
    # with its own share the score is sum(weight * z) / sum(weights): the ranking the tuning measured
    assert score.tolist() == pytest.approx([(3 - 1) / 5, (-3 + 2 + 1) / 5])
    assert combine(z, weights, 1.0)[0].tolist() == pytest.approx(cf.tolist())
    assert combine(z, weights, 0.0)[0].tolist() == pytest.approx([-1.0, 1.0])
    assert combine({**z, "content": None}, weights)[3] == 1.0
