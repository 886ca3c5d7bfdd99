"""The signals that score every item for a user, and the maths they share:
- EASE (Steck 2019): the user's ratings times a closed-form item-item weight matrix B, optionally with
  content in its Gram matrix ("collective" EASE, Jeunen et al. 2020);
- ALS: user . item factors from implicit;
- item-kNN: the user's ratings times an item-item cosine (a little content cosine added before the
  neighbours are kept).
The sequence signal lives in sequence.py, the content profile in content.py. Each signal is
standardised over the catalog (`z_scores`) before blend.py sums them.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import scipy.sparse as sp

from products.recommend.params import Params

_controller = []  # one threadpoolctl scan per process


def one_thread():
    """BLAS to one thread while fitting and scoring: implicit warns otherwise, and on a busy machine
    OpenBLAS's thread pool turns a 1 ms matrix-vector product into 15 ms. The library scan is done once."""
    try:
        if not _controller:
            import threadpoolctl

            _controller.append(threadpoolctl.ThreadpoolController())
        return _controller[0].limit(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - threadpoolctl comes with implicit
        return contextlib.nullcontext()


def interactions(frame: pd.DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
    """users x items confidence matrix; the value is the rating (so a 5 counts more than a 1)."""
    return sp.csr_matrix((frame["rating"].to_numpy(np.float32), (frame["u"].to_numpy(), frame["i"].to_numpy())),
                         shape=(n_users, n_items), dtype=np.float32)


def new_als(params: Params):
    from implicit.cpu.als import AlternatingLeastSquares

    with one_thread():
        return AlternatingLeastSquares(factors=params.factors, regularization=params.regularization,
                                       alpha=params.alpha, iterations=params.iterations,
                                       random_state=params.seed, num_threads=1)


def fit_als(matrix: sp.csr_matrix, params: Params):
    model = new_als(params)
    with one_thread():
        model.fit(matrix, show_progress=False)
    return model


def z_scores(scores: np.ndarray) -> np.ndarray:
    """Standardise each row (a constant row becomes zeros)."""
    scores = np.atleast_2d(scores).astype(np.float32)
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return np.where(std > 1e-12, (scores - mean) / np.where(std > 1e-12, std, 1.0), 0.0).astype(np.float32)


def unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def top_n(scores: np.ndarray, n: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the n best scores, best first; ties go to the lower index; excluded never."""
    s = scores.astype(np.float64).copy()
    if exclude is not None:
        s[exclude] = -np.inf
    n = int(min(n, np.isfinite(s).sum()))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    candidates = np.argpartition(-s, n - 1)[:n] if n < len(s) else np.arange(len(s))
    # include every item tied with the n-th score so ties resolve by index, deterministically
    cut = s[candidates].min()
    candidates = np.flatnonzero(s >= cut)
    order = np.lexsort((candidates, -s[candidates]))
    return candidates[order][:n]


def item_knn(matrix: sp.csr_matrix, content: np.ndarray | None = None, k: int = 100, beta: float = 0.0,
             block: int = 1024) -> sp.csr_matrix:
    """Item-item similarity, items x items: row j keeps j's `k` nearest items by
    cosine(rating columns) + beta * cosine(content vectors), positive values only, never j itself.
    A user's kNN scores are `ratings_row @ S`: item i scores the rating-weighted sum of its similarity
    to each rated item j that counts i among its neighbours. Computed in blocks of rows, so memory
    stays at block x items."""
    n = matrix.shape[1]
    x = sp.csc_matrix(matrix, dtype=np.float32)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
    xn = sp.csc_matrix(x @ sp.diags(1.0 / np.where(norms > 0, norms, 1.0)).astype(np.float32))
    xt = xn.T.tocsr()
    k = int(min(k, n - 1))
    rows, cols, vals = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, np.float32)]
    for start in range(0, n if k > 0 else 0, block):
        stop = min(n, start + block)
        sims = np.asarray((xt[start:stop] @ xn).todense(), dtype=np.float32)
        if content is not None and beta:
            sims += np.float32(beta) * (content[start:stop] @ content.T)
        sims[np.arange(stop - start), np.arange(start, stop)] = 0.0
        # the k best per row; ties go to the lower index (stable sort on -sims)
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        values = np.take_along_axis(sims, top, axis=1)
        keep = values > 0
        rows.append(np.repeat(np.arange(start, stop), k).reshape(-1, k)[keep])
        cols.append(top[keep])
        vals.append(values[keep])
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n),
                         dtype=np.float32)


def gram_matrix(matrix: sp.csr_matrix) -> np.ndarray:
    """XᵀX, items x items, float64."""
    x = sp.csr_matrix(matrix, dtype=np.float64)
    return np.asarray((x.T @ x).todense())


def ease_from_gram(gram: np.ndarray, lam: float) -> np.ndarray:
    """EASE (Steck 2019), closed form: B = I - P diagMat(1 / diag(P)), P = (G + lam I)^-1, so
    B[i, j] = -P[i, j] / P[j, j] and diag(B) = 0. A user's scores are x . B (item j scores
    sum_i x_i B[i, j]). Dense items x items float32."""
    g = np.array(gram, dtype=np.float64)
    g[np.diag_indices_from(g)] += float(lam)
    with one_thread():
        p = np.linalg.inv(g)
    b = -p / np.diag(p)  # column j divided by P[j, j]
    np.fill_diagonal(b, 0.0)
    return b.astype(np.float32)


def ease(matrix: sp.csr_matrix, lam: float, side: np.ndarray | None = None, alpha: float = 0.0) -> np.ndarray:
    """EASE on the users x items ratings X. With `side` (items x features, e.g. unit content vectors) and
    alpha > 0, the features join X as extra rows weighted sqrt(alpha) ("collective" EASE with side
    information, Jeunen, Van Balen and Goethals 2020): G = XᵀX + alpha F Fᵀ. Scores stay x . B, from the
    ratings alone, so fold-in is still exact; the content only shapes B."""
    gram = gram_matrix(matrix)
    if side is not None and alpha:
        f = np.asarray(side, np.float64)
        gram += float(alpha) * (f @ f.T)
    return ease_from_gram(gram, lam)


def ease_enabled(n_items: int, params: Params) -> bool:
    return params.ease_lambda > 0 and n_items <= params.ease_max_items


def fit_ease(matrix: sp.csr_matrix, params: Params) -> np.ndarray | None:
    """EASE's B for these ratings, or None when switched off (lambda <= 0) or the catalog is too big."""
    if not ease_enabled(matrix.shape[1], params):
        return None
    return ease(matrix, params.ease_lambda)


def liked_lists(train: pd.DataFrame, n_users: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per user: (items, ratings) sorted best rating first, then latest first."""
    ordered = train.sort_values(["u", "rating", "timestamp"], ascending=[True, False, False], kind="stable")
    out: list = [(np.zeros(0, np.int64), np.zeros(0, np.float32))] * n_users
    for u, group in ordered.groupby("u", sort=True):
        out[int(u)] = (group["i"].to_numpy(np.int64), group["rating"].to_numpy(np.float32))
    return out
